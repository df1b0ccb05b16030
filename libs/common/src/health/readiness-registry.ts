import { Injectable } from '@nestjs/common';

/** Resolves true when the dependency is usable; false or a throw means not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

const CHECK_NAME = /^[a-z][a-z0-9_.-]*$/;

/**
 * The named checks behind `GET /health/ready`. Feature modules register theirs
 * (for example `zookeeper` once the session is connected) and keep the returned
 * function to unregister on shutdown; the health module never needs to know them.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** @returns a function that removes exactly this registration */
  register(name: string, check: ReadinessCheck): () => void {
    if (!CHECK_NAME.test(name)) {
      throw new Error(`readiness check name "${name}" must match ${CHECK_NAME}`);
    }
    if (this.checks.has(name)) {
      throw new Error(`readiness check "${name}" is already registered`);
    }
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  entries(): Array<[name: string, check: ReadinessCheck]> {
    return [...this.checks.entries()];
  }
}
