import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireRole } from '@app/common';
import type { CreatedWebhookView, DeliveryPage, WebhookPage, WebhookView } from '@app/audit';
import { ApiErrors } from '../openapi/api-errors.decorator';
import {
  CreateWebhookDto,
  DeliveryPageQueryDto,
  UpdateWebhookDto,
  WebhookPageQueryDto,
} from './webhook.dto';
import {
  CreatedWebhookDto,
  DeliveryPageDto,
  PingQueuedDto,
  WebhookPageDto,
  WebhookViewDto,
} from './webhook-views.dto';
import { WebhooksService } from './webhooks.service';
import { WebhookIdPipe } from './webhook-checks';

const { BAD_REQUEST, NOT_FOUND, CONFLICT, SERVICE_UNAVAILABLE } = HttpStatus;
const WEBHOOK_ID = ApiParam({ name: 'id', format: 'uuid', description: 'Webhook id.' });

/**
 * `/v1/webhooks`: subscriptions to signed failure notifications (docs/webhooks.md).
 * Admin only, reads included: a subscription's URL may carry a token of the receiver.
 */
@ApiTags('webhooks')
@RequireRole('admin')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe a URL to events',
    description:
      'The answer holds the signing secret (generated when not given): the only time it is shown.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiErrors(BAD_REQUEST, CONFLICT, SERVICE_UNAVAILABLE)
  create(@Body() body: CreateWebhookDto): Promise<CreatedWebhookView> {
    return this.webhooks.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks by id, a page at a time (never their secrets)' })
  @ApiOkResponse({ type: WebhookPageDto })
  @ApiErrors(BAD_REQUEST, SERVICE_UNAVAILABLE)
  list(@Query() query: WebhookPageQueryDto): Promise<WebhookPage> {
    return this.webhooks.list(query.cursor, query.limit);
  }

  @Get(':id')
  @WEBHOOK_ID
  @ApiOperation({ summary: 'Get a webhook' })
  @ApiOkResponse({ type: WebhookViewDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND, SERVICE_UNAVAILABLE)
  get(@Param('id', WebhookIdPipe) id: string): Promise<WebhookView> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @WEBHOOK_ID
  @ApiOperation({
    summary: 'Change a webhook',
    description: 'A merge patch; null removes the filter. A new secret is answered this once.',
  })
  @ApiOkResponse({ type: WebhookViewDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND, SERVICE_UNAVAILABLE)
  update(
    @Param('id', WebhookIdPipe) id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookView> {
    return this.webhooks.update(id, body);
  }

  @Delete(':id')
  @WEBHOOK_ID
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a webhook and its deliveries' })
  @ApiNoContentResponse()
  @ApiErrors(BAD_REQUEST, NOT_FOUND, SERVICE_UNAVAILABLE)
  delete(@Param('id', WebhookIdPipe) id: string): Promise<void> {
    return this.webhooks.delete(id);
  }

  @Get(':id/deliveries')
  @WEBHOOK_ID
  @ApiOperation({
    summary: "A webhook's deliveries, newest first",
    description: 'State, attempts, last status code or error, next retry.',
  })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND, SERVICE_UNAVAILABLE)
  deliveries(
    @Param('id', WebhookIdPipe) id: string,
    @Query() query: DeliveryPageQueryDto,
  ): Promise<DeliveryPage> {
    return this.webhooks.deliveries(id, query.cursor, query.limit);
  }

  @Post(':id/test')
  @WEBHOOK_ID
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Queue a `ping` event to the webhook (delivered like any other)' })
  @ApiAcceptedResponse({ type: PingQueuedDto })
  @ApiErrors(BAD_REQUEST, NOT_FOUND, SERVICE_UNAVAILABLE)
  ping(@Param('id', WebhookIdPipe) id: string): Promise<{ eventId: string }> {
    return this.webhooks.ping(id);
  }
}
