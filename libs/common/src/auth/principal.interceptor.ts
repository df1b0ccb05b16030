import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { callKey, callPrincipals } from './api-auth.guard';
import { runAsPrincipal } from './request-principal';

/**
 * Runs an authenticated call's handler as its principal, so that what it
 * writes (audit events) can name the token without passing it down. The
 * handler is started inside `next.handle()`, hence the call there.
 */
@Injectable()
export class PrincipalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type !== 'http' && type !== 'rpc') return next.handle();
    const principal = callPrincipals.get(callKey(context));
    if (principal === undefined) return next.handle();
    return new Observable((subscriber) =>
      runAsPrincipal(principal, () => next.handle().subscribe(subscriber)),
    );
  }
}
