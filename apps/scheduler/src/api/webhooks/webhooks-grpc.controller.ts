import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcApiAuth, RequireRole } from '@app/common';
import { validateInput } from '@app/common/api';
import type { CreatedWebhookView, DeliveryView, WebhookView } from '@app/audit';
import { SCHEDULER_SERVICE_NAME } from '@app/contracts/proto';
import type {
  CreateWebhookRequest,
  IdRequest,
  ListWebhookDeliveriesRequest,
  ListWebhookDeliveriesResponse,
  ListWebhooksRequest,
  ListWebhooksResponse,
  TestWebhookResponse,
  UpdateWebhookRequest,
  WebhookDeliveryMessage,
  WebhookFilterMessage,
  WebhookMessage,
} from '@app/contracts/proto/scheduler/v1/scheduler-messages';
import { GrpcExceptionFilter } from '../grpc/grpc-exception.filter';
import {
  CreateWebhookDto,
  DeliveryPageQueryDto,
  UpdateWebhookDto,
  WebhookPageQueryDto,
} from './webhook.dto';
import { checkWebhookId } from './webhook-checks';
import { WebhooksService } from './webhooks.service';
import { requireId } from '../validation/id-pipes';
import { defined } from '../grpc/grpc-mapping';

const Rpc = (method: string): MethodDecorator => GrpcMethod(SCHEDULER_SERVICE_NAME, method);

/**
 * The webhook methods of `zkscheduler.scheduler.v1.SchedulerService`: the
 * same validation (messages are turned into the HTTP shapes) and the same
 * service as `/v1/webhooks`; admin only, like the HTTP routes.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
@GrpcApiAuth()
@RequireRole('admin')
export class WebhooksGrpcController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Rpc('CreateWebhook')
  async createWebhook(request: CreateWebhookRequest): Promise<WebhookMessage> {
    const body = validateInput(
      CreateWebhookDto,
      defined({
        url: request.url,
        events: request.events,
        secret: request.secret,
        filter: filterBody(request.filter),
      }),
    );
    return webhookMessage(await this.webhooks.create(body));
  }

  @Rpc('GetWebhook')
  async getWebhook(request: IdRequest): Promise<WebhookMessage> {
    return webhookMessage(await this.webhooks.get(requireId(request.id, checkWebhookId)));
  }

  @Rpc('ListWebhooks')
  async listWebhooks(request: ListWebhooksRequest): Promise<ListWebhooksResponse> {
    const query = validateInput(
      WebhookPageQueryDto,
      defined({ cursor: request.cursor, limit: request.limit }),
    );
    const page = await this.webhooks.list(query.cursor, query.limit);
    return { items: page.items.map(webhookMessage), nextCursor: page.nextCursor ?? undefined };
  }

  @Rpc('UpdateWebhook')
  async updateWebhook(request: UpdateWebhookRequest): Promise<WebhookMessage> {
    const id = requireId(request.id, checkWebhookId);
    const patch = validateInput(
      UpdateWebhookDto,
      defined({
        url: request.url,
        // Repeated fields cannot be unset: an empty list leaves the events as they are.
        events: request.events?.length ? request.events : undefined,
        secret: request.secret,
        filter: request.clearFilter ? null : filterBody(request.filter),
      }),
    );
    return webhookMessage(await this.webhooks.update(id, patch));
  }

  @Rpc('DeleteWebhook')
  async deleteWebhook(request: IdRequest): Promise<Record<string, never>> {
    await this.webhooks.delete(requireId(request.id, checkWebhookId));
    return {};
  }

  @Rpc('ListWebhookDeliveries')
  async listWebhookDeliveries(
    request: ListWebhookDeliveriesRequest,
  ): Promise<ListWebhookDeliveriesResponse> {
    const id = requireId(request.id, checkWebhookId);
    const query = validateInput(
      DeliveryPageQueryDto,
      defined({ cursor: request.cursor, limit: request.limit }),
    );
    const page = await this.webhooks.deliveries(id, query.cursor, query.limit);
    return { items: page.items.map(deliveryMessage), nextCursor: page.nextCursor ?? undefined };
  }

  @Rpc('TestWebhook')
  testWebhook(request: IdRequest): Promise<TestWebhookResponse> {
    return this.webhooks.ping(requireId(request.id, checkWebhookId));
  }
}

function filterBody(filter: WebhookFilterMessage | undefined): Record<string, unknown> | undefined {
  return filter === undefined
    ? undefined
    : defined({ jobId: filter.jobId, taskType: filter.taskType });
}

function webhookMessage(view: WebhookView | CreatedWebhookView): WebhookMessage {
  return { ...view, events: [...view.events] };
}

function deliveryMessage(view: DeliveryView): WebhookDeliveryMessage {
  return { ...view };
}
