export * from './errors';
export * from './paths';
export * from './retry';
export * from './typed-emitter';
export * from './types';
export * from './zk-client';
export * from './connection-states';
export * from './logger';
