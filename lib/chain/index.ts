export * from './protocols';
export * from './evm-version';
export * from './compatibility';
export * from './client-pins';
export * from './keys';
export * from './genesis';
export * from './chain-spec';
