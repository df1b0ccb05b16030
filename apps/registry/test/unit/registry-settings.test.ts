import { ConfigValidationError } from '@app/common';
import {
  DEFAULT_REGISTRY_SETTINGS,
  loadRegistrySettings,
} from '../../src/config/registry-settings';

describe('loadRegistrySettings', () => {
  it('has the documented defaults', () => {
    expect(loadRegistrySettings({})).toEqual(DEFAULT_REGISTRY_SETTINGS);
    expect(DEFAULT_REGISTRY_SETTINGS).toMatchObject({
      outboxWarnDepth: 10_000,
      retentionMs: 60_000,
      batchNodes: 500,
      batchEvents: 2_000,
      drainPauseMs: 0,
    });
  });

  it('reads the variables (blank is unset, spaces ignored)', () => {
    expect(
      loadRegistrySettings({
        REGISTRY_RETENTION_MS: ' 250 ',
        REGISTRY_OUTBOX_WARN_DEPTH: '5',
        REGISTRY_DRAIN_BATCH_NODES: '',
      }),
    ).toMatchObject({ retentionMs: 250, outboxWarnDepth: 5, batchNodes: 500 });
  });

  it('refuses wrong values, naming every variable', () => {
    let error: unknown;
    try {
      loadRegistrySettings({ REGISTRY_RETENTION_MS: '1e3', REGISTRY_DRAIN_BATCH_NODES: '0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).problems).toEqual([
      {
        variable: 'REGISTRY_RETENTION_MS',
        message: 'REGISTRY_RETENTION_MS must be a whole number (got "1e3")',
      },
      {
        variable: 'REGISTRY_DRAIN_BATCH_NODES',
        message: 'REGISTRY_DRAIN_BATCH_NODES must be between 1 and 5000 (got "0")',
      },
    ]);
  });
});
