import { DiscoveryService } from '@nestjs/core';

/**
 * Discoverable metadata: Nest records every provider whose class carries it,
 * so the registry finds handlers in any module without scanning them all.
 */
export const TASK_HANDLER_TYPE = DiscoveryService.createDecorator<string>();

/** Marks a Nest provider (a class implementing TaskHandler) as the handler for `type`. */
export function TaskHandlerType(type: string): ClassDecorator {
  if (typeof type !== 'string' || type.trim() === '' || type !== type.trim()) {
    throw new Error(
      `@TaskHandlerType needs a non-empty type without surrounding spaces, got "${type}"`,
    );
  }
  return TASK_HANDLER_TYPE(type);
}
