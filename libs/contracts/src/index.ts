export * from './audit-event';
export * from './job';
export * from './members';
export * from './task';
export * from './task-state';
export * from './zk-layout';
export * from './calendar-names';
export * from './ids';
