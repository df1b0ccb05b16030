/**
 * Follows the registry's live audit events (`GET /v1/events`, Server-Sent
 * Events) from a given seq on, so that `zks audit --follow` continues exactly
 * after the history it printed: nothing missed, nothing twice. Runs until the
 * user stops it; a stream that ends or breaks is an error (exit code 5).
 */
import { createParser } from 'eventsource-parser';
import type { AuditEventView } from '@app/contracts/dto/registry-api';
import type { ApiClient, QueryValue } from './api-client';
import { CliError, ExitCode } from './exit-codes';

export async function followEvents(
  registry: ApiClient,
  filters: Record<string, QueryValue>,
  /** The seq of the last event already shown; undefined: from the next one stored. */
  afterSeq: string | undefined,
  handlers: { onOpen(): void; onEvent(event: AuditEventView): void },
): Promise<never> {
  const headers: Record<string, string> =
    afterSeq === undefined ? {} : { 'last-event-id': afterSeq };
  const body = await registry.openStream('/v1/events', filters, headers);
  handlers.onOpen();
  const parser = createParser({
    onEvent: (message) => handlers.onEvent(JSON.parse(message.data) as AuditEventView),
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
    }
  } catch (error: unknown) {
    throw new CliError(
      `lost the event stream of the registry at ${registry.baseUrl} (${(error as Error).message})`,
      ExitCode.unavailable,
    );
  }
  throw new CliError(
    `the registry at ${registry.baseUrl} closed the event stream`,
    ExitCode.unavailable,
  );
}
