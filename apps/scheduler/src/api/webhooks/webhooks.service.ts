import { Inject, Injectable } from '@nestjs/common';
import {
  AuditDatabase,
  AuditUnavailableError,
  SecretBox,
  WebhookStore,
  generateWebhookSecret,
  type CreatedWebhookView,
  type DeliveryPage,
  type WebhookFilter,
  type WebhookPage,
  type WebhookPatch,
  type WebhookView,
} from '@app/audit';
import { OutboundPolicy, WEBHOOK_SETTINGS, type WebhookSettings } from '@app/common';
import { ApiError } from '@app/common/api';
import type { CreateWebhookDto, UpdateWebhookDto, WebhookFilterDto } from './webhook.dto';
import { urlRefusal } from './webhook-checks';

/** Most subscriptions a cluster holds (each one is matched against every event). */
export const MAX_WEBHOOKS = 1_000;
const DEFAULT_PAGE = 100;

/**
 * Webhook subscriptions in PostgreSQL (every scheduler replica serves them).
 * Secrets are sealed with WEBHOOK_SECRET_KEY before they are stored, and
 * answered only by the create or update that set them. Without the key the
 * API answers 503 and says which variable is missing. PostgreSQL down: 503.
 */
@Injectable()
export class WebhooksService {
  private readonly store: WebhookStore;
  private readonly box: SecretBox | undefined;
  private readonly policy: OutboundPolicy;

  constructor(database: AuditDatabase, @Inject(WEBHOOK_SETTINGS) settings: WebhookSettings) {
    this.store = new WebhookStore(database.dataSource, {
      assertReady: () => database.assertReady(),
    });
    this.box = settings.secretKey === undefined ? undefined : new SecretBox(settings.secretKey);
    this.policy = new OutboundPolicy({ allowedHosts: settings.allowedHosts });
  }

  async create(body: CreateWebhookDto): Promise<CreatedWebhookView> {
    const box = this.sealer();
    this.assertUrl(body.url);
    const secret = body.secret ?? generateWebhookSecret();
    return this.call(async () => {
      if ((await this.store.count()) >= MAX_WEBHOOKS) {
        throw new ApiError('limit_reached', `at most ${MAX_WEBHOOKS} webhooks`, [
          { field: 'url', reason: `cannot be added: ${MAX_WEBHOOKS} webhooks exist already` },
        ]);
      }
      const view = await this.store.create({
        url: body.url,
        events: body.events,
        filter: filterOf(body.filter),
        sealSecret: (id) => box.seal(secret, id),
      });
      return { ...view, secret };
    });
  }

  list(cursor: string | undefined, limit: number | undefined): Promise<WebhookPage> {
    this.sealer();
    return this.call(() => this.store.list(cursor, limit ?? DEFAULT_PAGE));
  }

  async get(id: string): Promise<WebhookView> {
    this.sealer();
    return (await this.call(() => this.store.get(id))) ?? notFound(id);
  }

  async update(id: string, body: UpdateWebhookDto): Promise<WebhookView | CreatedWebhookView> {
    const box = this.sealer();
    if (body.url !== undefined) this.assertUrl(body.url);
    const patch: WebhookPatch = {};
    if (body.url !== undefined) patch.url = body.url;
    if (body.events !== undefined) patch.events = body.events;
    if (body.filter !== undefined) patch.filter = filterOf(body.filter ?? undefined);
    const secret = body.secret;
    if (secret !== undefined) patch.sealSecret = (webhookId) => box.seal(secret, webhookId);
    const view = (await this.call(() => this.store.update(id, patch))) ?? notFound(id);
    return secret === undefined ? view : { ...view, secret };
  }

  async delete(id: string): Promise<void> {
    this.sealer();
    if (!(await this.call(() => this.store.delete(id)))) notFound(id);
  }

  async deliveries(
    id: string,
    cursor: string | undefined,
    limit: number | undefined,
  ): Promise<DeliveryPage> {
    await this.get(id);
    return this.call(() => this.store.deliveries(id, cursor, limit ?? DEFAULT_PAGE));
  }

  async ping(id: string): Promise<{ eventId: string }> {
    this.sealer();
    const eventId = (await this.call(() => this.store.enqueuePing(id))) ?? notFound(id);
    return { eventId };
  }

  private sealer(): SecretBox {
    if (this.box === undefined) {
      throw new ApiError(
        'unavailable',
        'webhooks are off: set WEBHOOK_SECRET_KEY (32 bytes, base64 or hex) on the schedulers and registries',
      );
    }
    return this.box;
  }

  private assertUrl(url: string): void {
    const problem = urlRefusal(this.policy, url);
    if (problem !== undefined) throw ApiError.field('url', problem);
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error: unknown) {
      if (error instanceof AuditUnavailableError) {
        throw new ApiError(
          'unavailable',
          `webhooks are stored in PostgreSQL: ${error.message}; retry later`,
        );
      }
      throw error;
    }
  }
}

function filterOf(dto: WebhookFilterDto | undefined): WebhookFilter {
  const filter: WebhookFilter = {};
  if (dto?.jobId !== undefined) filter.jobId = dto.jobId;
  if (dto?.taskType !== undefined) filter.taskType = dto.taskType;
  return filter;
}

function notFound(id: string): never {
  throw new ApiError('not_found', `webhook ${id} not found`, [
    { field: 'id', reason: 'no such webhook' },
  ]);
}
