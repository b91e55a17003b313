// Public API of blockchain-tenancy. This file only re-exports.
//
// Importing it loads construct code and pure contracts only: the runtime code (Lambda handlers,
// the node gate, the metric publisher) is shipped as prebuilt assets (dist/assets) and never
// imported here, so `require('blockchain-tenancy')` loads no AWS SDK client, argon2, ethers or ws
// (test/package/entry-point.test.ts). Key generation and genesis encoding (lib/chain/keys.ts,
// lib/chain/genesis.ts) use ethers and run at deploy time in the node-keys custom resource; they
// are not part of this entry point.
export * from './contracts/ids';
export * from './config/cidr';
export * from './config/config-error';
export * from './config/tenant-config';
export * from './contracts/ports';
export * from './network/environment-security-groups';
export * from './network/environment-network';
export * from './contracts/tags';
export * from './environment/blockchain-environment';
export * from './environment/tenant-environment-stack';
export * from './app/tenant-app';
export * from './chain/protocols';
export * from './chain/evm-version';
export * from './chain/compatibility';
export * from './chain/client-pins';
export * from './chain/chain-spec';
export * from './contracts/node-secrets';
export * from './nodes';
export * from './contracts/metric-names';
export * from './operations/alarm-thresholds';
export * from './operations/node-metric';
export * from './operations/environment-monitoring';
export * from './config/chain-config';
export * from './config/ingress-config';
export * from './contracts/credential-format';
export * from './contracts/rpc-policy';
export * from './contracts/revocation';
export * from './credentials/credential-store';
export * from './ingress/environment-ingress';
export * from './ingress/rule-priority';
export * from './nodes/node-services';
export * from './security/single-policy-role';
export * from './contracts/registration-format';
export * from './environment/environment-registration';
export * from './management/policies';
export * from './management/management-api';
// The control plane's contract in the entry point: only what the constructs' API names (its
// Deployment types are string unions, kept out of the entry point: ADR 8).
export { CONTROL_PLANE_DETAIL_TYPES, CONTROL_PLANE_EVENT_SOURCE } from './contracts/control-plane';
export type { ControlPlaneQuotas } from './contracts/control-plane';
export * from './contracts/deploy-job';
export * from './management/control-plane';
export * from './management/console-web-acl';
export * from './management/management-console';
export * from './contracts/console-config';
export * from './contracts/console-headers';
