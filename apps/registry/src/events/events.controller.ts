import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, HttpStatus, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/common/api';
import type { StoredAuditEvent } from '@app/audit';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../config/registry-settings';
import { RegistryApiErrors } from '../api/registry-api-errors.decorator';
import { auditEventView } from '../audit-query/audit-event-view';
import { isSeq } from '../audit-query/audit-checks';
import { LiveEventsQueryDto } from '../audit-query/audit-query.dto';
import { errorText } from '../audit-drain/error-text';
import { EventTail } from './event-tail';
import { pumpLiveEvents } from './live-stream';
import { StreamAdmission } from './stream-admission';

/**
 * `GET /v1/events`: Server-Sent Events of the audit events as they reach
 * PostgreSQL. Each is one `data:` line (the JSON of GET /v1/audit's items)
 * with `id: <seq>`, so a reconnecting EventSource resumes exactly where it
 * stopped (`Last-Event-ID`). Comment lines keep idle connections alive.
 */
@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly tail: EventTail,
    private readonly admission: StreamAdmission,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Live audit events (Server-Sent Events), in seq order, resumable',
    description:
      'Each event: `id: <seq>` and `data: <JSON as in GET /v1/audit>`. Resume after a seq with the `Last-Event-ID` header (or `lastEventId`); by default the stream starts with the next event stored. Filters as in GET /v1/audit. `: keep-alive` comments are sent on idle streams.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The seq of the last event received.',
  })
  @ApiOkResponse({ description: 'A text/event-stream that stays open.' })
  @RegistryApiErrors(HttpStatus.BAD_REQUEST)
  async stream(
    @Query() query: LiveEventsQueryDto,
    @Req() { raw: request }: { raw: IncomingMessage },
    @Res() reply: { raw: ServerResponse; hijack(): void },
  ): Promise<void> {
    const raw = request.headers['last-event-id'];
    const header = Array.isArray(raw) ? raw[0] : raw;
    if (header !== undefined && !isSeq(header.trim())) {
      throw ApiError.field(
        'Last-Event-ID',
        'must be the id (seq) of an event received from this stream',
      );
    }
    const { after, release } = await this.admission.admit(
      query.lastEventId ?? header?.trim(),
      query.lastEventId === undefined ? 'Last-Event-ID' : 'lastEventId',
      request.socket.remoteAddress,
    );
    // The stream is written to the socket's response from here on, not through Fastify.
    reply.hijack();
    const response = reply.raw;
    response.statusCode = 200;
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('Connection', 'keep-alive');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    // A reconnecting EventSource waits this long (ms).
    response.write('retry: 2000\n\n');

    const abort = new AbortController();
    const stop = (): void => abort.abort();
    request.on('close', stop);
    response.on('error', stop);
    this.tail.closing.addEventListener('abort', stop);
    let lastWrite = Date.now();
    const heartbeat = setInterval(() => {
      if (Date.now() - lastWrite >= this.settings.sseHeartbeatMs / 2) {
        response.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    }, this.settings.sseHeartbeatMs);
    try {
      await pumpLiveEvents({
        tail: this.tail,
        after,
        filter: query,
        signal: abort.signal,
        deliver: async (events) => {
          lastWrite = Date.now();
          if (!response.write(sseFrames(events))) await drained(response, abort.signal);
        },
        onTrouble: (error) => {
          response.write(`: history unavailable, retrying (${oneLine(errorText(error))})\n\n`);
        },
      });
    } finally {
      release();
      clearInterval(heartbeat);
      request.off('close', stop);
      response.off('error', stop);
      this.tail.closing.removeEventListener('abort', stop);
      if (!response.writableEnded) response.end();
    }
  }
}

function sseFrames(events: readonly StoredAuditEvent[]): string {
  let out = '';
  for (const event of events)
    out += `id: ${event.seq}\ndata: ${JSON.stringify(auditEventView(event))}\n\n`;
  return out;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** Resolves when the response can take more, or the stream is aborted. */
function drained(response: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    response.on('drain', done);
    signal.addEventListener('abort', done);
  });
}
