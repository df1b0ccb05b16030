import type { BootstrapOptions } from '@app/common';
import {
  PROTO_LOADER_OPTIONS,
  REGISTRY_PROTO_PACKAGE,
  REGISTRY_PROTO_PATH,
} from '@app/contracts/proto';

/** What the registry application needs: pass to bootstrapService / prepareApplication. */
export const REGISTRY_API_BOOTSTRAP: BootstrapOptions = {
  openApi: {
    title: 'zk-scheduler registry API',
    description:
      'The cluster view, the audit history (PostgreSQL) and its live stream. Every error answers { statusCode, error, message, errors: [{ field, reason }] }. The same operations are served over gRPC (zkscheduler.registry.v1.RegistryService).',
    version: 'v1',
  },
  grpc: {
    package: REGISTRY_PROTO_PACKAGE,
    protoPath: REGISTRY_PROTO_PATH,
    loader: PROTO_LOADER_OPTIONS,
  },
};
