/**
 * The deployed world the management API tests start from, on moto: two registered environments of
 * tenant acme (dev: two acme validators and a globex node behind dev.acme.example.com; prod: one
 * node) and their nodes as EC2 instances tagged as the constructs tag them.
 */
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from '../../lib/contracts/registration-format';
import { MOTO_REGION } from './moto';

/** An environment's registration parameter as its stack writes it. */
export function registration(tenantId: string, environmentId: string, nodes: Record<string, string>, extra: Partial<EnvironmentRegistrationValue> = {}): EnvironmentRegistrationValue {
  return {
    tenantId,
    environmentId,
    stackName: `${tenantId}-${environmentId}`,
    region: MOTO_REGION,
    account: '123456789012',
    vpcId: 'vpc-12345678',
    kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x',
    credentialSecretPrefix: `blockchain-tenancy/${tenantId}/${environmentId}/credentials/`,
    issuerFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:issuer-${tenantId}-${environmentId}`,
    nodes,
    ...extra,
  };
}

/** Registers acme/dev and acme/prod and starts their nodes; returns each node's instance id. */
export async function seedEnvironments(ssm: SSMClient, ec2: EC2Client): Promise<Record<string, string>> {
  for (const r of [
    registration('acme', 'dev', { 'validator-1': 'acme', 'validator-2': 'acme', 'globex-1': 'globex' }, { domainName: 'dev.acme.example.com' }),
    registration('acme', 'prod', { 'prod-1': 'acme' }),
  ]) {
    await ssm.send(new PutParameterCommand({ Name: `${REGISTRATION_PREFIX}${r.tenantId}/${r.environmentId}`, Type: 'String', Value: JSON.stringify(r) }));
  }
  const instances: Record<string, string> = {};
  for (const [env, node] of [['dev', 'validator-1'], ['dev', 'validator-2'], ['dev', 'globex-1'], ['prod', 'prod-1']]) {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't4g.medium',
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'blockchain-tenancy:tenant', Value: 'acme' },
              { Key: 'blockchain-tenancy:environment', Value: env },
              { Key: 'blockchain-tenancy:node', Value: node },
            ],
          },
        ],
      }),
    );
    instances[node] = out.Instances![0].InstanceId!;
  }
  return instances;
}
