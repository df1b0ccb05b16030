import { bootstrapService, ConfigValidationError } from '@app/common';
import { REGISTRY_API_BOOTSTRAP } from './api/registry-api-bootstrap';
import { loadRegistrySettings } from './config/registry-settings';
import { RegistryModule, REGISTRY_SERVICE } from './registry.module';

// The registry's own settings are checked before anything starts, like the shared ones.
try {
  loadRegistrySettings(process.env);
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  process.stderr.write(`registry: ${error.message}\n`);
  process.exit(1);
}
void bootstrapService(RegistryModule, REGISTRY_SERVICE, REGISTRY_API_BOOTSTRAP);
