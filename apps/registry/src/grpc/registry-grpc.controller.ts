import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcApiAuth } from '@app/common';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import { validateInput } from '@app/common/api';
import { REGISTRY_SERVICE_NAME } from '@app/contracts/proto';
import type {
  AuditEventMessage,
  ClusterMessage,
  GetClusterRequest,
  QueryAuditRequest,
  QueryAuditResponse,
  StreamEventsRequest,
} from '@app/contracts/proto/registry/v1/registry-messages';
import { RegistryGrpcExceptionFilter } from '../api/registry-exception.filters';
import { auditEventMessage } from '../audit-query/audit-event-view';
import { AuditQueryDto, LiveEventsQueryDto } from '../audit-query/audit-query.dto';
import { AuditQueryService } from '../audit-query/audit-query.service';
import { ClusterViewService } from '../cluster/cluster-view.service';
import { EventTail } from '../events/event-tail';
import { pumpLiveEvents } from '../events/live-stream';
import { StreamAdmission } from '../events/stream-admission';
import { clusterMessage, defined } from './registry-grpc-mapping';

const Rpc = (method: string): MethodDecorator => GrpcMethod(REGISTRY_SERVICE_NAME, method);

/**
 * `zkscheduler.registry.v1.RegistryService`: the HTTP API's operations over
 * gRPC, with the same validation (requests are turned into the HTTP query
 * shapes) and the same services.
 */
@Controller()
@UseFilters(RegistryGrpcExceptionFilter)
@GrpcApiAuth()
export class RegistryGrpcController {
  constructor(
    private readonly cluster: ClusterViewService,
    private readonly audit: AuditQueryService,
    private readonly tail: EventTail,
    private readonly admission: StreamAdmission,
  ) {}

  @Rpc('GetCluster')
  async getCluster(_request: GetClusterRequest): Promise<ClusterMessage> {
    return clusterMessage(await this.cluster.view());
  }

  @Rpc('QueryAudit')
  async queryAudit(request: QueryAuditRequest): Promise<QueryAuditResponse> {
    const query = validateInput(AuditQueryDto, defined({ ...request }), 'request');
    const page = await this.audit.query(query);
    return { items: page.events.map(auditEventMessage), nextCursor: page.nextCursor ?? undefined };
  }

  /**
   * Written straight to the call with its own backpressure (Nest would buffer
   * an Observable's values without bound for a slow client); the Observable
   * only tells Nest when the stream ends.
   */
  @Rpc('StreamEvents')
  async streamEvents(
    request: StreamEventsRequest,
    _metadata: unknown,
    call: ServerWritableStream<StreamEventsRequest, AuditEventMessage>,
  ): Promise<Observable<never>> {
    const filter = validateInput(LiveEventsQueryDto, defined({ ...request }), 'request');
    const { after, release } = await this.admission.admit(
      filter.lastEventId,
      'lastEventId',
      call.getPeer(),
    );
    return new Observable<never>((subscriber) => {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      call.on('cancelled', stop);
      call.on('error', stop);
      this.tail.closing.addEventListener('abort', stop);
      pumpLiveEvents({
        tail: this.tail,
        after,
        filter,
        signal: abort.signal,
        deliver: async (events) => {
          let writable = true;
          for (const event of events) writable = call.write(auditEventMessage(event)) && writable;
          if (!writable) await drained(call, abort.signal);
        },
      }).then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        release();
        call.off('cancelled', stop);
        call.off('error', stop);
        this.tail.closing.removeEventListener('abort', stop);
        abort.abort();
      };
    });
  }
}

function drained(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done);
  });
}
