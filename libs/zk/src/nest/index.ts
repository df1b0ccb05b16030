export * from './zk.module';
