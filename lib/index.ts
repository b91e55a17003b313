// Public API of blockchain-tenancy. This file only re-exports.
export * from './config/cidr';
export * from './config/config-error';
export * from './config/tenant-config';
export * from './network/ports';
export * from './network/environment-security-groups';
export * from './network/environment-network';
export * from './environment/tags';
export * from './environment/blockchain-environment';
export * from './environment/tenant-environment-stack';
export * from './app/tenant-app';
export * from './chain';
export * from './nodes';
export * from './operations/metric-names';
export * from './operations/alarm-thresholds';
export * from './operations/node-metric';
export * from './operations/environment-monitoring';
export * from './config/chain-config';
