import {
  NodeExistsError,
  NoNodeError,
  NotLeaderError,
  Op,
  Backoff,
  Wakeup,
  type StructuredLogger,
  type ZkClient,
  type ZkOp,
  type ZkOpResult,
} from '@app/zk';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { InvalidAuditEventError, isUnavailable, type AuditStore } from '@app/audit';
import { encodeJson, outboxOp } from '@app/store';
import type { RegistrySettings } from '../config/registry-settings';
import type { DrainMetrics } from './drain-metrics';
import { errorText } from './error-text';
import { OutboxQueue, type BatchLimits, type OutboxNode } from './outbox-queue';

export type DrainSettings = Pick<
  RegistrySettings,
  'batchNodes' | 'batchEvents' | 'batchBytes' | 'maxBackoffMs' | 'outboxWarnDepth' | 'drainPauseMs'
>;

export interface OutboxDrainerOptions {
  client: ZkClient;
  store: AuditStore;
  /** The drainer's fenced multi: ZooKeeper refuses it once this drainer is deposed. */
  commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>;
  settings: DrainSettings;
  metrics: DrainMetrics;
  logger: StructuredLogger;
  /**
   * Each batch, once it is in PostgreSQL (before its nodes are deleted); also
   * with no events when an empty outbox shows that everything up to
   * `throughSeq` is done.
   */
  onCommitted?: (events: readonly AuditEvent[], throughSeq: number) => void;
  /** ZooKeeper refused a fenced write: this drainer no longer leads. */
  onDeposed?: () => void;
  /**
   * Makes the `audit.backlog` event written (through the outbox, fenced) when
   * the outbox goes above its warning depth; none when undefined.
   */
  backlogEvent?: (detail: { depth: number; threshold: number }) => AuditEvent;
}

/** Deletes per transaction: well under ZooKeeper's 1 MiB request limit. */
const DELETE_CHUNK = 1_000;
/** A single node PostgreSQL refuses this many times in a row (while answering) is moved aside. */
const POISON_ATTEMPTS = 3;
/** An idle drain re-lists this often anyway (a safety net; the watch is what wakes it). */
const IDLE_RELIST_MS = 60_000;
/**
 * Woken from an empty outbox, the drain waits this long before listing it: what
 * comes meanwhile goes in the same batch. One task at a time otherwise costs a
 * listing, a read, a PostgreSQL transaction and a delete per outbox node.
 */
const GATHER_MS = 20;
/** At most one depth warning per this period while the outbox stays deep. */
const DEPTH_WARNING_EVERY_MS = 30_000;

/**
 * Drains `/audit/outbox` into PostgreSQL, in outbox order (invariant 5):
 *
 *   list (one children watch; nothing to do = no work) → read a batch of the
 *   oldest nodes (bounded by nodes, events and bytes) → `AuditStore.append` of
 *   their events in node order, one transaction, idempotent on event id →
 *   delete exactly those nodes in fenced `multi()`s.
 *
 * Guarantees
 * - No event is lost: a node is deleted only after the transaction holding its
 *   events has committed. PostgreSQL down or slow: the batch is retried with
 *   exponential backoff (capped); events wait in ZooKeeper meanwhile.
 * - No event is doubled: a crash between the commit and the delete makes the
 *   next drainer read the same nodes again; the store skips known event ids.
 * - A deposed drainer cannot delete (fenced multi): at worst it appends events
 *   that are already stored, which changes nothing.
 * - Nothing blocks the drain for ever: a node that is not an outbox entry, or
 *   that PostgreSQL refuses on its own while it answers, is moved to
 *   `/audit/dead/<name>` (same data) with a log line and a metric.
 *
 * Failure modes: while ZooKeeper is unreachable nothing is drained (the loop
 * backs off and starts from a fresh listing); sequence numbers wrap after 2^31
 * outbox nodes in one parent (ZooKeeper's own limit), not handled.
 */
export class OutboxDrainer {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wake = new Wakeup();
  private readonly queue: OutboxQueue;
  private readonly storeBackoff: Backoff;
  private readonly zkBackoff: Backoff;
  private committedThroughSeq = -1;
  /** Set after PostgreSQL refused a batch while answering: nodes go one by one up to `through`. */
  private suspect: { through: number; failures: number } | undefined;
  private deadLettersReady = false;
  /** The previous batch's delete, overlapping the next batch's append. */
  private deleting: Promise<void> | undefined;
  private deleteError: unknown;
  private deepSince: number | undefined;
  private lastDepthWarning = 0;

  constructor(private readonly options: OutboxDrainerOptions) {
    this.queue = new OutboxQueue(options.client, this.wake.signal);
    const backoff = { minMs: 100, maxMs: options.settings.maxBackoffMs, jitter: 0.2 };
    this.storeBackoff = new Backoff(backoff);
    this.zkBackoff = new Backoff(backoff);
  }

  /** Highest outbox sequence number whose events are known to be in PostgreSQL. */
  get committedThrough(): number {
    return this.committedThroughSeq;
  }

  start(): void {
    if (this.running || this.loop) throw new Error('OutboxDrainer.start() called twice');
    this.running = true;
    // A new session has lost the children watch: look again.
    this.options.client.on('connected', this.wake.signal);
    this.loop = this.run();
  }

  /** Stops after the current step (a batch in flight finishes or fails first). */
  async stop(): Promise<void> {
    this.running = false;
    this.options.client.off('connected', this.wake.signal);
    this.wake.signal();
    await this.loop;
    await this.deleting;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step();
        this.zkBackoff.reset();
      } catch (error) {
        if (!this.running) return;
        if (error instanceof NotLeaderError) {
          this.options.logger.warn('drain stopped: ZooKeeper refused a fenced write (deposed)');
          this.running = false;
          this.options.onDeposed?.();
          return;
        }
        // ZooKeeper trouble: a delete's outcome may be unknown. Start over from a
        // fresh listing; nodes drained already are skipped by the store.
        this.queue.reset();
        const delayMs = this.zkBackoff.next();
        this.options.logger.warn('drain step failed; retrying', {
          error: errorText(error),
          delayMs,
        });
        await this.wake.wait(delayMs);
      }
    }
  }

  private async step(): Promise<void> {
    if (this.queue.size === 0) {
      // The nodes being deleted must be gone before they could be listed again.
      await this.settleDelete();
      const depth = await this.queue.relist();
      this.reportDepth(depth);
      if (depth === 0) {
        // Empty: every node listed so far is done (stored, or moved aside).
        if (this.queue.highestSeen > this.committedThroughSeq) {
          this.committedThroughSeq = this.queue.highestSeen;
          this.options.onCommitted?.([], this.committedThroughSeq);
        }
        if ((await this.wake.wait(IDLE_RELIST_MS)) === 'woken') await this.pause(GATHER_MS);
        return;
      }
    }
    const started = performance.now();
    const limits = this.limits();
    const batch = await this.queue.take(limits);
    if (batch.length === 0) return;

    const malformed = batch.filter((node) => node.malformed !== undefined);
    for (const node of malformed) await this.moveAside(node, node.malformed!, 'malformed');
    const nodes = batch.filter((node) => node.malformed === undefined);
    if (nodes.length === 0) return;

    // While PostgreSQL stores this batch, the next one is read from ZooKeeper.
    const events = nodes.flatMap((node) => node.events);
    const appended = this.append(events, nodes);
    const prefetched = this.queue.prefetch(limits).catch(() => undefined);
    const fresh = await appended;
    await prefetched;
    if (fresh === undefined) return; // not stored: put back, retried after the backoff

    const throughSeq = nodes[nodes.length - 1].seq;
    this.committedThroughSeq = Math.max(this.committedThroughSeq, throughSeq);
    this.options.metrics.drainedEvents.inc({ outcome: 'new' }, fresh);
    if (events.length > fresh) {
      this.options.metrics.drainedEvents.inc({ outcome: 'duplicate' }, events.length - fresh);
    }
    this.options.onCommitted?.(events, throughSeq);
    if (this.options.settings.drainPauseMs > 0)
      await this.pause(this.options.settings.drainPauseMs);
    // One delete at a time, overlapping the next batch's append (they touch other nodes).
    await this.settleDelete();
    this.deleting = this.deleteNodes(nodes)
      .then(() => {
        this.options.metrics.batchDuration.observe((performance.now() - started) / 1000);
        // With nothing left listed, the next step lists the outbox and reports its depth:
        // a look now would be one more request per batch, per change when changes come one at a time.
        return this.queue.size > 0 ? this.refreshDepth() : undefined;
      })
      .then(
        () => undefined,
        (error: unknown) => {
          this.deleteError ??= error;
        },
      );
  }

  /** Waits for the delete in flight; rethrows its failure (the loop then starts over). */
  private async settleDelete(): Promise<void> {
    await this.deleting;
    this.deleting = undefined;
    const error = this.deleteError;
    this.deleteError = undefined;
    if (error !== undefined) throw error;
  }

  private limits(): BatchLimits {
    const { batchNodes, batchEvents, batchBytes } = this.options.settings;
    return { nodes: this.suspect ? 1 : batchNodes, events: batchEvents, bytes: batchBytes };
  }

  /** Appends one batch; the number of new events, or undefined when it must be retried. */
  private async append(events: AuditEvent[], nodes: OutboxNode[]): Promise<number | undefined> {
    const { store, metrics, logger } = this.options;
    try {
      const fresh = events.length === 0 ? 0 : await store.append(events);
      this.storeBackoff.reset();
      if (this.suspect) {
        this.suspect.failures = 0;
        if (nodes[nodes.length - 1].seq >= this.suspect.through) this.suspect = undefined;
      }
      return fresh;
    } catch (error) {
      metrics.postgresErrors.inc({ operation: 'append' });
      if (error instanceof InvalidAuditEventError) {
        // Checked when read, so not expected: the store's rules changed under us.
        const culprit = nodeOfEvent(nodes, error.index);
        this.queue.putBack(nodes.filter((node) => node !== culprit));
        await this.moveAside(culprit, `refused by the store: ${error.reason}`, 'refused');
        return undefined;
      }
      const answering = !isUnavailable(error) && (await store.ping().catch(() => false));
      if (answering && this.running) {
        // PostgreSQL is up but refused the batch: find the node it cannot take.
        if (nodes.length > 1) {
          this.suspect = { through: nodes[nodes.length - 1].seq, failures: 0 };
          logger.warn('PostgreSQL refused a batch while answering; retrying its nodes one by one', {
            error: errorText(error),
            nodes: nodes.length,
          });
        } else {
          this.suspect ??= { through: nodes[0].seq, failures: 0 };
          this.suspect.failures += 1;
          if (this.suspect.failures >= POISON_ATTEMPTS) {
            await this.moveAside(nodes[0], `refused by PostgreSQL: ${errorText(error)}`, 'refused');
            this.suspect.failures = 0;
            return undefined;
          }
        }
      }
      const delayMs = this.storeBackoff.next();
      const log = this.storeBackoff.attempts === 1 || this.storeBackoff.attempts % 20 === 0;
      if (log) {
        logger.warn('PostgreSQL append failed; events wait in ZooKeeper', {
          error: errorText(error),
          answering,
          attempts: this.storeBackoff.attempts,
          delayMs,
        });
      }
      this.queue.putBack(nodes);
      await this.refreshDepth().catch(() => undefined);
      await this.pause(delayMs);
      return undefined;
    }
  }

  /** Deletes the drained nodes, fenced, in chunks; a node already gone is skipped. */
  private async deleteNodes(nodes: readonly OutboxNode[]): Promise<void> {
    for (let i = 0; i < nodes.length; i += DELETE_CHUNK) {
      const ops = nodes
        .slice(i, i + DELETE_CHUNK)
        .map((node) => Op.delete(`${ZkLayout.outbox}/${node.name}`));
      while (ops.length > 0) {
        try {
          await this.options.commit(ops);
          break;
        } catch (error) {
          if (!(error instanceof NoNodeError) || error.opIndex === undefined) throw error;
          ops.splice(error.opIndex, 1);
        }
      }
    }
  }

  /** Moves a node that can never be stored to `/audit/dead/<name>`, with the same data. */
  private async moveAside(
    node: OutboxNode,
    reason: string,
    kind: 'malformed' | 'refused',
  ): Promise<void> {
    const { client, commit, metrics, logger } = this.options;
    if (!this.deadLettersReady) {
      await client.mkdirp(ZkLayout.deadLetters);
      this.deadLettersReady = true;
    }
    const source = `${ZkLayout.outbox}/${node.name}`;
    const data = node.raw ?? encodeJson({ events: node.events });
    try {
      await commit([Op.create(ZkLayout.deadLetter(node.name), data), Op.delete(source)]);
    } catch (error) {
      if (error instanceof NodeExistsError && error.opIndex === 0) {
        await commit([Op.delete(source)]).catch((again: unknown) => {
          if (!(again instanceof NoNodeError)) throw again;
        });
      } else if (!(error instanceof NoNodeError && error.opIndex === 1)) {
        throw error;
      }
    }
    metrics.deadLetters.inc({ reason: kind });
    logger.error('outbox node moved aside: it cannot be stored', {
      node: node.name,
      to: ZkLayout.deadLetter(node.name),
      reason,
      events: node.events.length,
    });
  }

  private async refreshDepth(): Promise<void> {
    const stat = await this.options.client.exists(ZkLayout.outbox);
    this.reportDepth(stat?.numChildren ?? 0);
  }

  private reportDepth(depth: number): void {
    const { metrics, logger, settings } = this.options;
    metrics.outboxDepth.set(depth);
    const now = Date.now();
    if (depth > settings.outboxWarnDepth) {
      if (this.deepSince === undefined) this.recordBacklog(depth);
      this.deepSince ??= now;
      if (now - this.lastDepthWarning >= DEPTH_WARNING_EVERY_MS) {
        this.lastDepthWarning = now;
        logger.warn('audit outbox is deep: the drain is behind (is PostgreSQL down or slow?)', {
          depth,
          threshold: settings.outboxWarnDepth,
          deepForMs: now - this.deepSince,
        });
      }
    } else if (this.deepSince !== undefined) {
      logger.log('audit outbox is back under its warning depth', {
        depth,
        threshold: settings.outboxWarnDepth,
        deepForMs: now - this.deepSince,
      });
      this.deepSince = undefined;
      this.lastDepthWarning = 0;
    }
  }

  /**
   * One `audit.backlog` event per crossing of the warning depth, into the
   * outbox like every event (fenced: only the drainer writes it), so that it
   * reaches the history and webhooks in order once the drain catches up. A
   * failed write is only logged: the warning and the depth gauge remain.
   */
  private recordBacklog(depth: number): void {
    const { backlogEvent, commit, logger, settings } = this.options;
    if (backlogEvent === undefined) return;
    const event = backlogEvent({ depth, threshold: settings.outboxWarnDepth });
    commit([outboxOp([event])]).catch((error: unknown) => {
      logger.warn('audit.backlog event not written', { error: errorText(error) });
    });
  }

  /** Waits `ms`, or less if the drainer is stopped. */
  private async pause(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.running && Date.now() < end) await this.wake.wait(end - Date.now());
  }
}

/** The node holding the `index`-th event of a batch. */
function nodeOfEvent(nodes: readonly OutboxNode[], index: number): OutboxNode {
  let seen = 0;
  for (const node of nodes) {
    seen += node.events.length;
    if (index < seen) return node;
  }
  return nodes[nodes.length - 1];
}
