import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { HANDLERS_MODULE_OPTIONS, type HandlersModuleOptions } from './handlers-options';
import { TASK_HANDLER_TYPE } from './task-handler-type.decorator';
import type { TaskHandler } from './task-handler';

/** No handler is registered for a task's type; the message lists the known types. */
export class UnknownTaskTypeError extends Error {
  override readonly name = 'UnknownTaskTypeError';

  constructor(
    readonly type: string,
    readonly knownTypes: readonly string[],
    hint = '',
  ) {
    super(
      `no handler for type ${type}; known types: ${knownTypes.length > 0 ? knownTypes.join(', ') : '(none)'}${hint}`,
    );
  }
}

/** A handler class is unusable (duplicate type, wrong scope, missing methods); stops startup. */
export class HandlerRegistrationError extends Error {
  override readonly name = 'HandlerRegistrationError';
}

/** Nest's InstanceWrapper, without a deep import. */
type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];

interface Registration {
  handler: TaskHandler;
  /** `ClassName (in ModuleName)`, for startup errors. */
  origin: string;
}

/**
 * Finds every provider marked with `@TaskHandlerType` in the application at
 * module init (all providers are instantiated by then) and serves lookups by
 * type. Problems are startup errors, never surprises at run time.
 */
@Injectable()
export class HandlerRegistry implements OnModuleInit {
  private readonly handlers = new Map<string, Registration>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Optional()
    @Inject(HANDLERS_MODULE_OPTIONS)
    private readonly options?: HandlersModuleOptions,
  ) {}

  onModuleInit(): void {
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: TASK_HANDLER_TYPE.KEY })) {
      const type = this.discovery.getMetadataByDecorator(TASK_HANDLER_TYPE, wrapper);
      if (typeof type !== 'string') {
        continue;
      }
      const instance: unknown = wrapper.instance;
      if (instance !== undefined && seen.has(instance)) {
        continue;
      }
      seen.add(instance);
      this.register(type, instance, originOf(wrapper));
    }
  }

  /** The handler for `type`, or undefined. */
  get(type: string): TaskHandler | undefined {
    return this.handlers.get(type)?.handler;
  }

  /** The handler for `type`, or an UnknownTaskTypeError whose message lists the known types. */
  getOrThrow(type: string): TaskHandler {
    const handler = this.get(type);
    if (handler === undefined) {
      const hint =
        type === 'shell' && this.options?.allowShell === false
          ? ' (the shell handler is disabled on this worker: WORKER_ALLOW_SHELL=false)'
          : '';
      throw new UnknownTaskTypeError(type, this.types(), hint);
    }
    return handler;
  }

  /** Registered types, sorted. */
  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  private register(type: string, instance: unknown, origin: string): void {
    if (!isTaskHandler(instance)) {
      throw new HandlerRegistrationError(
        `${origin} is marked @TaskHandlerType('${type}') but is not a singleton provider with parse() and run() methods`,
      );
    }
    if (instance.type !== type) {
      throw new HandlerRegistrationError(
        `${origin} is marked @TaskHandlerType('${type}') but its type property is '${String(instance.type)}'`,
      );
    }
    const existing = this.handlers.get(type);
    if (existing !== undefined) {
      throw new HandlerRegistrationError(
        `task type '${type}' has two handlers: ${existing.origin} and ${origin}`,
      );
    }
    this.handlers.set(type, { handler: instance, origin });
  }
}

function isTaskHandler(value: unknown): value is TaskHandler {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as Partial<Record<keyof TaskHandler, unknown>>;
  return typeof candidate.parse === 'function' && typeof candidate.run === 'function';
}

function originOf(wrapper: ProviderWrapper): string {
  const instance: unknown = wrapper.instance;
  const className =
    typeof instance === 'object' && instance !== null
      ? instance.constructor.name
      : (wrapper.metatype?.name ?? String(wrapper.token));
  const moduleName = wrapper.host?.name;
  return moduleName === undefined ? className : `${className} (in ${moduleName})`;
}
