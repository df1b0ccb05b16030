export * from './zk.module';
export * from './structured-logger';
