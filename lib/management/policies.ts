import * as iam from 'aws-cdk-lib/aws-iam';
import { EnvironmentTags } from '../contracts/tags';

/**
 * IAM for the management API (pure policy building, unit-tested).
 *
 * - The API's function may start / stop / reboot only instances of its own account and region
 *   tagged as blockchain-tenancy nodes (node, environment and tenant tags present), and it checks
 *   in code that the instance's tenant and environment tags match the route.
 * - Callers are scoped by route: {@link callerStatement} allows `execute-api:Invoke` on one
 *   environment's routes only, so an operator of tenant A cannot call tenant B's routes.
 */
export function nodeActionStatement(region: string, account: string, partition = 'aws'): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'NodeActionsOnBlockchainNodesOnly',
    actions: ['ec2:StartInstances', 'ec2:StopInstances', 'ec2:RebootInstances'],
    resources: [`arn:${partition}:ec2:${region}:${account}:instance/*`],
    conditions: {
      StringLike: {
        [`aws:ResourceTag/${EnvironmentTags.NODE}`]: '?*',
        [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: '?*',
        [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: '?*',
      },
    },
  });
}

/** Lets a caller use the routes of one environment (or `*` for all environments of a tenant). */
export function callerStatement(restApiArn: string, stage: string, tenantId: string, environmentId = '*'): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: `Manage${tenantId.replace(/[^A-Za-z0-9]/g, '')}${environmentId === '*' ? 'All' : environmentId.replace(/[^A-Za-z0-9]/g, '')}`,
    actions: ['execute-api:Invoke'],
    resources: [`${restApiArn}/${stage}/*/environments/${tenantId}/${environmentId}`, `${restApiArn}/${stage}/*/environments/${tenantId}/${environmentId}/*`],
  });
}
