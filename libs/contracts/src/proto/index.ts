import { join } from 'node:path';

/**
 * Where the `.proto` files are: beside this module, in the sources (tests) and
 * in each app's build, where nest-cli.json `assets` copies them.
 */
export const PROTO_ROOT = __dirname;

export const SCHEDULER_PROTO_PACKAGE = 'zkscheduler.scheduler.v1';
export const SCHEDULER_SERVICE_NAME = 'SchedulerService';
export const SCHEDULER_PROTO_PATH = join(PROTO_ROOT, 'scheduler', 'v1', 'scheduler.proto');

export const REGISTRY_PROTO_PACKAGE = 'zkscheduler.registry.v1';
export const REGISTRY_SERVICE_NAME = 'RegistryService';
export const REGISTRY_PROTO_PATH = join(PROTO_ROOT, 'registry', 'v1', 'registry.proto');

/**
 * `@grpc/proto-loader` options shared by the server and clients: camelCase
 * fields, no defaults filled in (an unset `optional` field stays undefined, so
 * the API defaults apply), empty repeated/map fields as [] / {}, and no virtual
 * `_field` members for the synthetic oneofs of proto3 `optional`.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: false,
  includeDirs: [PROTO_ROOT],
};
