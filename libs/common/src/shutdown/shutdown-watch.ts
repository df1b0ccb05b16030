import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { HttpShutdown } from './http-shutdown';

const HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;
type Hook = (typeof HOOKS)[number];

/** How often a shutdown that is still running says what it waits for. */
const REPORT_EVERY_MS = 10_000;

/**
 * Says where a slow shutdown waits. A service that does not exit on SIGTERM
 * leaves, without this, only its silence (chaos seeds 540173212 and
 * 1337125550: a scheduler killed 45 s after SIGTERM). Every shutdown hook of the
 * application is timed (each instance's hook wrapped once at bootstrap, so no
 * module has to take part); from the first hook on, every 10 s a warning
 * names the hooks still running (none: Nest is closing the HTTP and gRPC
 * servers, which wait for their open requests and calls), the HTTP requests
 * in flight, and the kinds of handles that keep the process alive.
 */
@Injectable()
export class ShutdownWatch implements OnApplicationBootstrap {
  private readonly logger = new Logger('Shutdown');
  private readonly pending = new Map<string, number>();
  private startedAt: number | undefined;
  private phase: Hook | undefined;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly http: HttpShutdown,
  ) {}

  onApplicationBootstrap(): void {
    const seen = new Set<object>();
    for (const module of this.modules.values()) {
      const wrappers = [...module.providers.values(), ...module.controllers.values()];
      for (const { instance } of wrappers) {
        if (instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
        seen.add(instance);
        for (const hook of HOOKS) this.time(instance as Record<string, unknown>, hook);
      }
    }
  }

  private time(instance: Record<string, unknown>, hook: Hook): void {
    const original = instance[hook];
    if (typeof original !== 'function') return;
    const name = `${instance.constructor.name}.${hook}`;
    instance[hook] = async (...args: unknown[]): Promise<unknown> => {
      this.begin(hook);
      const started = Date.now();
      this.pending.set(name, started);
      try {
        return await (original as (...a: unknown[]) => unknown).apply(instance, args);
      } finally {
        this.pending.delete(name);
        const tookMs = Date.now() - started;
        // Reported as waiting before: when it ended too.
        if (tookMs >= REPORT_EVERY_MS)
          this.logger.warn({ msg: 'slow shutdown step done', step: name, tookMs });
      }
    };
  }

  private begin(hook: Hook): void {
    this.phase = hook;
    if (this.startedAt !== undefined) return;
    this.startedAt = Date.now();
    setInterval(() => this.reportProgress(), REPORT_EVERY_MS).unref();
  }

  private reportProgress(): void {
    const now = Date.now();
    const waiting = [...this.pending].map(([step, since]) => `${step} (${now - since} ms)`);
    const handles: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) handles[kind] = (handles[kind] ?? 0) + 1;
    this.logger.warn({
      msg: 'shutdown still running',
      afterMs: now - this.startedAt!,
      phase: this.phase,
      waiting:
        waiting.length > 0
          ? waiting
          : this.phase === 'onApplicationShutdown'
            ? 'no hook: the exit'
            : 'no hook: Nest closing the HTTP and gRPC servers',
      requests: this.http.describeInFlight(now),
      handles,
    });
  }
}
