import { CfnResource } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledgeRule, skipCheckov } from './acknowledge';
import { IConstruct } from 'constructs';

/**
 * Acknowledges, on one deploy-time custom-resource function, the NIST 800-53 findings that do not
 * apply to it: it runs only while CloudFormation deploys, invoked synchronously by CloudFormation
 * (which receives every failure, so a dead-letter queue would stay empty), at most once per
 * resource event (so a concurrency limit adds nothing), and it must reach the CloudFormation
 * response URL and regional AWS APIs, which it does outside the environment's isolated VPC.
 */
export function acknowledgeDeployTimeFunction(fn: IConstruct, what: string): void {
  const reasons: [rule: string, reason: string, checkov: string][] = [
    ['LambdaDLQ', `Deploy-time custom resource (${what}): CloudFormation invokes it synchronously and receives every failure; a DLQ would never be read.`, 'CKV_AWS_116'],
    ['LambdaConcurrency', `Deploy-time custom resource (${what}): one invocation per CloudFormation resource event.`, 'CKV_AWS_115'],
    [
      'LambdaInsideVPC',
      `Deploy-time custom resource (${what}): it must reach the CloudFormation response URL and regional AWS APIs; the environment VPC is isolated from the internet by design.`,
      'CKV_AWS_117',
    ],
  ];
  // cdk-nag's Lambda rules look at lambda.CfnFunction only; aws-cdk-lib's CustomResourceProvider
  // writes its function as a plain CfnResource, which only checkov sees: skip checkov there, and
  // acknowledge nothing cdk-nag never reports.
  const nagSeesIt = !(fn instanceof CfnResource) || fn instanceof lambda.CfnFunction;
  for (const [rule, reason, checkov] of reasons) {
    if (nagSeesIt) acknowledgeRule(fn, rule, reason, [checkov]);
    else skipCheckov(fn, [checkov], reason);
  }
}
