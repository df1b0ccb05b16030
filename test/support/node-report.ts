import { readFileSync } from 'node:fs';

interface ReportHandle {
  type: string;
  is_active?: boolean;
  is_referenced?: boolean;
  localEndpoint?: { host?: string; port?: number } | null;
  remoteEndpoint?: { host?: string; port?: number } | null;
}

interface NodeReport {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: ReportHandle[];
}

/**
 * The part of a Node diagnostic report that says why a process stays alive:
 * its JavaScript stack (when it is busy) and the handles that hold the event
 * loop (active and referenced), sockets with their endpoints.
 */
export function summarizeNodeReport(path: string): string {
  const report = JSON.parse(readFileSync(path, 'utf8')) as NodeReport;
  const stack = (report.javascriptStack?.stack ?? [])
    .slice(0, 8)
    .map((line) => `    ${line.trim()}`);
  const holding = (report.libuv ?? []).filter((h) => h.is_active && h.is_referenced);
  const endpoint = (e: ReportHandle['localEndpoint']): string => (e ? `${e.host}:${e.port}` : '?');
  const handles = holding.map((h) =>
    h.type === 'tcp'
      ? `    tcp ${endpoint(h.localEndpoint)} → ${endpoint(h.remoteEndpoint)}`
      : `    ${h.type}`,
  );
  return [
    `report ${path}`,
    `  stack: ${report.javascriptStack?.message || '(idle)'}`,
    ...stack,
    `  handles holding the loop (${holding.length}):`,
    ...handles,
  ].join('\n');
}
