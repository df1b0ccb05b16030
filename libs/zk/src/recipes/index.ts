export * from './lifecycle';
export * from './leader-election';
export * from './distributed-queue';
export * from './double-barrier';
export * from './lock';
export * from './change-log';
export {
  DuplicateMemberError,
  GroupMembership,
  type GroupMembershipEvents,
  type GroupMembershipOptions,
} from './group-membership';
export {
  GroupView,
  MalformedMemberError,
  type GroupViewEvents,
  type GroupViewOptions,
} from './group-view';
export * from './watched-read';
export * from './wakeup';
export * from './persistent-watcher';
export * from './persistent-listing';
