import { Inject, Injectable } from '@nestjs/common';
import { currentPrincipal } from '@app/common';
import { ApiError } from '@app/common/api';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../config/registry-settings';
import { EventTail } from './event-tail';

/** Where a live stream starts, and what to call when it ends. */
export interface AdmittedStream {
  after: string;
  release(): void;
}

/**
 * The bounds of live event streams, HTTP and gRPC alike: a caller (a token's
 * name; without tokens, the client's address) holds at most
 * REGISTRY_MAX_STREAMS_PER_CALLER open at once, since each polls PostgreSQL
 * and holds a connection; and a stream resumes at most
 * REGISTRY_MAX_REPLAY_EVENTS behind the newest event (further back is a
 * history query: GET /v1/audit pages it).
 */
@Injectable()
export class StreamAdmission {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly tail: EventTail,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  /**
   * Admits a stream resuming after `resume` (undefined: from the next event),
   * given in the request field `field`, for a client at `address`.
   */
  async admit(
    resume: string | undefined,
    field: string,
    address: string | undefined,
  ): Promise<AdmittedStream> {
    // The starting point is fixed before the stream opens: an unreachable history is a 503.
    const head = await this.tail.lastSeq();
    const replay = this.settings.maxReplayEvents;
    if (resume !== undefined && BigInt(head) - BigInt(resume) > replay) {
      throw ApiError.field(
        field,
        `is more than ${replay} events behind the newest (${head}): read older events with GET /v1/audit`,
      );
    }
    const caller = currentPrincipal()?.name ?? `address ${address ?? '?'}`;
    const held = this.open.get(caller) ?? 0;
    const max = this.settings.maxStreamsPerCaller;
    if (held >= max) {
      throw new ApiError(
        'rate_limited',
        `${caller} holds ${max} live event streams already: close one first`,
        [{ field: 'authorization', reason: `at most ${max} streams at once` }],
      );
    }
    this.open.set(caller, held + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.open.get(caller) ?? 1) - 1;
      if (left === 0) this.open.delete(caller);
      else this.open.set(caller, left);
    };
    return { after: resume ?? head, release };
  }
}
