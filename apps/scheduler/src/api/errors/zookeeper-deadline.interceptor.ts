import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { mergeMap, NEVER, type Observable, race, throwError, timer } from 'rxjs';
import { AppConfig } from '@app/common';
import { ZkClient } from '@app/zk';
import { ApiError } from '@app/common/api';

/**
 * Bounds how long a request waits for a ZooKeeper that is away. Without it a
 * read would wait out the client's retries (five times the operation timeout,
 * about a minute with a 10 s session) before its 503. After one session
 * timeout, a request still running while the session has no connection is
 * answered 503 (UNAVAILABLE); with a connection it may take as long as it needs.
 * A write given up this way may still be applied later: the 503 says so.
 */
@Injectable()
export class ZooKeeperDeadlineInterceptor implements NestInterceptor {
  private readonly deadlineMs: number;

  constructor(
    private readonly client: ZkClient,
    config: AppConfig,
  ) {
    this.deadlineMs = config.zooKeeper.sessionTimeoutMs;
  }

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const deadline = timer(this.deadlineMs).pipe(
      mergeMap(() =>
        this.client.isConnected
          ? NEVER
          : throwError(() =>
              ApiError.zooKeeperUnavailable(`no connection for ${this.deadlineMs} ms`),
            ),
      ),
    );
    return race(next.handle(), deadline);
  }
}
