import { timing } from '@app/zk/testing';
import type { AuditEventView } from '@app/contracts/dto/registry-api';

export interface SseEvent {
  id: string;
  data: AuditEventView;
}

/**
 * A Server-Sent Events client for tests (fetch + a small parser of the
 * `text/event-stream` format): events are collected as they come, comments too.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private taken = 0;
  private buffer = '';
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  private constructor() {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: reader.abort.signal,
    });
    if (response.status !== 200 || !response.body) {
      throw new Error(`SSE ${url}: ${response.status} ${await response.text()}`);
    }
    if (!/^text\/event-stream/.test(response.headers.get('content-type') ?? '')) {
      throw new Error(`SSE ${url}: content-type ${response.headers.get('content-type')}`);
    }
    reader.done = reader.consume(response.body);
    return reader;
  }

  /** The next `count` events not taken yet (waits for them). */
  async take(count: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    const end = this.taken + count;
    await timing.waitFor(() => this.events.length >= end, {
      timeoutMs,
      message: () => `${count} events (have ${this.events.length - this.taken})`,
    });
    const got = this.events.slice(this.taken, end);
    this.taken = end;
    return got;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async consume(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
          this.frame(this.buffer.slice(0, cut));
          this.buffer = this.buffer.slice(cut + 2);
        }
      }
    } catch {
      // Aborted by close().
    }
  }

  private frame(text: string): void {
    let id: string | undefined;
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (id !== undefined && data !== '')
      this.events.push({ id, data: JSON.parse(data) as AuditEventView });
  }
}
