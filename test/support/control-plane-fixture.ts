/**
 * What the control-plane tests share: the management API's dependencies on moto with a local
 * control plane, and the environment they create (four validators, two per member).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ManagementDeps } from '../../lambda/management/api';
import type { LocalControlPlane } from '../../lib/local/control-plane';
import type { MotoServer } from './moto';

/** The handler's dependencies: moto's SSM, EC2 and Auto Scaling, the local control plane, and no credential issuer (these tests never reach one). */
export function controlPlaneApiDeps(moto: MotoServer, plane: LocalControlPlane, log: NonNullable<ManagementDeps['log']>): ManagementDeps {
  return {
    ssm: new SSMClient(moto.clientConfig),
    ec2: async () => new EC2Client(moto.clientConfig),
    autoscaling: async () => new AutoScalingClient(moto.clientConfig),
    invokeIssuer: async () => Promise.reject(new Error('no credential issuer in the control-plane tests')),
    log,
    controlPlane: plane.deps,
  };
}

/** The members and validators of the environment the control-plane tests create: validator-1..4, two for acme, two for globex. */
export const FOUR_VALIDATOR_CHAIN = {
  members: [{ id: 'acme' }, { id: 'globex' }],
  nodes: [
    { id: 'validator-1', member: 'acme', role: 'validator' },
    { id: 'validator-2', member: 'acme', role: 'validator' },
    { id: 'validator-3', member: 'globex', role: 'validator' },
    { id: 'validator-4', member: 'globex', role: 'validator' },
  ],
} as const;
