/**
 * The registry's live stream (`GET /v1/events`, Server-Sent Events) read
 * with a streaming fetch, because EventSource cannot send an Authorization
 * header and a token in the URL would end up in logs. The frames are parsed
 * by eventsource-parser; on a break the stream reconnects with
 * `Last-Event-ID` (the last seq seen), so nothing is missed or repeated.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { AuditEventView } from '@app/contracts/dto/registry-api';
import type { Api } from './api';

export interface LiveOptions {
  /** Filters of GET /v1/events (jobId, taskId, workerId, type). */
  filter?: Record<string, string>;
  onEvent: (event: AuditEventView) => void;
  onState?: (state: 'open' | 'reconnecting') => void;
}

const RETRY_MS = [500, 1_000, 2_000, 5_000];

/** Starts following the stream; call the returned function to stop. */
export function followEvents(api: Api, options: LiveOptions): () => void {
  const abort = new AbortController();
  let lastSeq: string | undefined;
  let failures = 0;

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const params = new URLSearchParams(options.filter ?? {});
        const headers = api.headers({ accept: 'text/event-stream' });
        if (lastSeq !== undefined) headers['last-event-id'] = lastSeq;
        const response = await fetch(`/v1/events${params.size ? `?${params}` : ''}`, {
          headers,
          signal: abort.signal,
        });
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
        options.onState?.('open');
        failures = 0;
        const frames = response.body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream());
        for await (const frame of iterate(frames)) {
          if (frame.id) lastSeq = frame.id;
          options.onEvent(JSON.parse(frame.data) as AuditEventView);
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      options.onState?.('reconnecting');
      const wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)];
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  void run();
  return () => abort.abort();
}

async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
