/**
 * What `zks` prints: aligned columns and key/value blocks for people, the
 * server's JSON as is for scripts (`--json`). Everything goes through an
 * `Output` so that stdout carries only results and stderr only notes and errors.
 */
export interface Output {
  /** A result line (stdout). */
  line(text?: string): void;
  /** A note or an error (stderr). */
  note(text: string): void;
}

export const consoleOutput: Output = {
  line: (text = '') => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
};

/** Columns separated by two spaces, each as wide as its widest cell; the last is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)].join('\n');
}

/** `key   value` lines, keys aligned. */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/** An ISO time to the second, UTC (`2026-11-21 09:30:01Z`); `-` when absent. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One-line JSON, cut to `max` characters; `-` for null/undefined. */
export function compactJson(value: unknown, max = 80): string {
  if (value === null || value === undefined) return '-';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

export function labels(value: Record<string, string> | null | undefined): string {
  const entries = Object.entries(value ?? {});
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}
