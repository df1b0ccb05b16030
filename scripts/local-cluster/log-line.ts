/**
 * Turns one line of a service's output into one readable line. The services
 * log pino JSON; the readable form keeps time, level, message and the Nest
 * context, shows request logs as `GET /v1/jobs → 200 (3 ms)`, and appends the
 * other fields as compact JSON, and leaves out Nest's start-up chatter. Anything
 * that is not a JSON object is shown as it is. The raw lines, all of them, are
 * kept in `.data/logs/<member>.log`.
 */
import type { Tone } from './console-output';

export interface ReadableLine {
  text: string;
  tone: Tone;
  /** Nest's start-up chatter (modules initialised, routes mapped): left out of the console. */
  quiet: boolean;
}

/** Nest contexts that log one line per module or route at every start. */
const QUIET_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'NestMicroservice',
]);

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields shown in their own place, or on every line anyway (service, member id, pid, hostname). */
const SHOWN = new Set([
  'level',
  'time',
  'msg',
  'context',
  'service',
  'memberId',
  'pid',
  'hostname',
]);
const REQUEST_FIELDS = new Set(['req', 'res', 'responseTime']);
const EXTRA_LIMIT = 300;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clock(time: unknown): string {
  const date = new Date(typeof time === 'string' || typeof time === 'number' ? time : NaN);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)} `;
}

function requestSummary(entry: Fields): string | undefined {
  const req = entry.req;
  const res = entry.res;
  if (!isObject(req) || !isObject(res)) return undefined;
  const took = typeof entry.responseTime === 'number' ? ` (${entry.responseTime} ms)` : '';
  return `${String(req.method)} ${String(req.url)} → ${String(res.statusCode)}${took}`;
}

function errorSummary(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  return typeof value.message === 'string' ? value.message : undefined;
}

export function readableLine(raw: string): ReadableLine {
  const trimmed = raw.trimEnd();
  if (!trimmed.startsWith('{')) return { text: trimmed, tone: 'plain', quiet: false };
  let entry: unknown;
  try {
    entry = JSON.parse(trimmed);
  } catch {
    return { text: trimmed, tone: 'plain', quiet: false };
  }
  if (!isObject(entry)) return { text: trimmed, tone: 'plain', quiet: false };

  const level = typeof entry.level === 'number' ? entry.level : 30;
  const levelName = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const request = requestSummary(entry);
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  const parts = [request ?? message];
  if (request !== undefined && message !== '' && message !== 'request completed') {
    parts.push(message);
  }
  if (typeof entry.context === 'string') parts.push(`(${entry.context})`);

  const extra: Fields = {};
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN.has(key) || (request !== undefined && REQUEST_FIELDS.has(key))) continue;
    if (key === 'err' || key === 'error') {
      const summary = errorSummary(value);
      if (summary !== undefined) {
        parts.push(`— ${summary}`);
        continue;
      }
    }
    extra[key] = value;
  }
  if (Object.keys(extra).length > 0) {
    const json = JSON.stringify(extra);
    parts.push(json.length > EXTRA_LIMIT ? `${json.slice(0, EXTRA_LIMIT)}…` : json);
  }
  const tone: Tone = level >= 50 ? 'error' : level >= 40 ? 'warn' : level <= 20 ? 'dim' : 'plain';
  const quiet =
    level <= 30 && typeof entry.context === 'string' && QUIET_CONTEXTS.has(entry.context);
  return { text: `${clock(entry.time)}${levelName} ${parts.join(' ')}`, tone, quiet };
}
