export * from './audit-writer';
export * from './job-store';
export * from './json-codec';
export * from './task-store';
export * from './write-batcher';
export * from './task-transitions';
