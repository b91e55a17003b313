import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { describe, expect, it } from 'vitest';
import { BlockchainClient, BlockchainEnvironment, ConsensusProtocol, ManagementApi, NodeRole } from '../../lib';
import { testApp } from '../support/synth';

// The README's "Use the constructs in your own CDK app" example, kept compiling and synthesizing.
describe('the README construct example', () => {
  it('synthesizes', () => {
    const app = testApp();
    const stack = new Stack(app, 'AcmeDev', { env: { region: 'eu-west-1' } });
    const env = new BlockchainEnvironment(stack, 'Environment', {
      tenantId: 'acme',
      environmentId: 'dev',
      cidr: '10.10.0.0/16',
      chain: {
        client: BlockchainClient.BESU,
        consensus: ConsensusProtocol.QBFT,
        nodes: [1, 2, 3, 4].map((i) => ({ id: `validator-${i}`, member: 'default', role: NodeRole.VALIDATOR })),
      },
      ingress: {
        certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b'),
        domainName: 'dev.acme.example.com',
      },
    });
    expect(env.nodes!.nodes[0].metricBlockHeight().metricName).toBe('BlockHeight');
    expect(env.credentials!.metricAuthorizerDenies().metricName).toBe('AuthorizerDenies');
    new ManagementApi(new Stack(app, 'BlockchainManagement'), 'Management');
    Template.fromStack(stack).resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 4);
  });
});
