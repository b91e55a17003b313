export * from './client-command';
export * from './node-keys';
export * from './blockchain-node';
export * from './node-fleet';
export * from './node-runtime';
export * from './node-placement';
