/**
 * Where a component reports, one structured line at a time: a message and its
 * context. The clients, the recipes and the services' long-running loops all
 * take this; a Nest Logger fits through `structuredLogger` (`@app/zk/nest`).
 */
export interface StructuredLogger {
  log(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}
