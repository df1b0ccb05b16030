/**
 * The hottest functions of V8 CPU profiles (`.cpuprofile`, e.g. from a
 * benchmark run with `--profile 1`): self time and total (inclusive) time per
 * function, with file:line, so a report can name its hot spots.
 *
 *   node -r @swc-node/register bench/profile-top.ts <file.cpuprofile>… [--top 25]
 *
 * Lines are 1-based. V8 reports positions in the JavaScript it ran; for our
 * TypeScript sources (compiled at load by @swc-node/register) the file is
 * compiled again the same way and the position mapped back through the
 * source map, so `file.ts:line` points into the TypeScript as it is now.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename } from 'node:path';
import { compile } from '@swc-node/register/register';
import { readDefaultTsConfig } from '@swc-node/register/read-default-tsconfig';
import { ModuleKind } from 'typescript';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  location: string;
  selfMs: number;
  totalMs: number;
  selfPercent: number;
}

/** Self and inclusive time per function (recursion counted once per sample). */
export function hotFunctions(profile: CpuProfile): { totalMs: number; functions: HotFunction[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = (node: ProfileNode): string => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const line = sourceLine(url, lineNumber, columnNumber) ?? lineNumber + 1;
    return `${functionName || '(anonymous)'}\t${shorten(url)}:${line}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1_000;
    totalMs += ms;
    const leaf = byId.get(id)!;
    self.set(keyOf(leaf), (self.get(keyOf(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    for (
      let node: ProfileNode | undefined = leaf;
      node;
      node = byId.get(parent.get(node.id) ?? -1)
    ) {
      const key = keyOf(node);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + ms);
    }
  });
  const functions = [...total.entries()].map(([key, ms]) => {
    const [name, location] = key.split('\t');
    const selfMs = self.get(key) ?? 0;
    return {
      name,
      location,
      selfMs: Math.round(selfMs),
      totalMs: Math.round(ms),
      selfPercent: Math.round((selfMs / Math.max(1, totalMs)) * 1_000) / 10,
    };
  });
  return { totalMs, functions };
}

const sourceMaps = new Map<string, SourceMap | null>();

/** The 1-based TypeScript line of a 0-based position in swc's output of `url`. */
function sourceLine(url: string, line: number, column: number): number | undefined {
  const path = url.replace(/^file:\/\//, '');
  if (!path.endsWith('.ts') || path.includes('/node_modules/')) return undefined;
  let map = sourceMaps.get(path);
  if (map === undefined) {
    map = null;
    try {
      const options = {
        ...readDefaultTsConfig(),
        module: ModuleKind.CommonJS,
      } as Parameters<typeof compile>[2];
      const code = compile(readFileSync(path, 'utf8'), path, options);
      const inline = /sourceMappingURL=data:application\/json;charset=utf-8;base64,(\S+)/.exec(
        code,
      );
      if (inline)
        map = new SourceMap(JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8')));
    } catch {
      // Unreadable or changed beyond compiling: keep the raw position.
    }
    sourceMaps.set(path, map);
  }
  const entry = map?.findEntry(line, column);
  return entry && 'originalLine' in entry ? entry.originalLine + 1 : undefined;
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const at = path.indexOf('/node_modules/');
  if (at >= 0) return path.slice(at + 1);
  const repo = path.search(/\/(apps|libs|bench|test)\//);
  return repo >= 0 ? path.slice(repo + 1) : path || '(native)';
}

export interface ProfileSummary {
  file: string;
  /** Sampled time that was not idle. */
  busyMs: number;
  sampledMs: number;
  top: HotFunction[];
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalMs, functions } = hotFunctions(profile);
  const idle = functions.find((f) => f.name === '(idle)')?.selfMs ?? 0;
  return {
    file,
    busyMs: Math.round(totalMs - idle),
    sampledMs: Math.round(totalMs),
    top: functions
      .filter((f) => f.name !== '(idle)' && f.name !== '(root)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  return [
    `${basename(summary.file)}: ${summary.sampledMs} ms sampled, ${summary.busyMs} ms busy`,
    ...summary.top.map(
      (f) =>
        `  ${String(f.selfMs).padStart(6)} ms self ${String(f.selfPercent).padStart(5)} %  ${String(f.totalMs).padStart(6)} ms total  ${f.name}  ${f.location}`,
    ),
  ].join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const files = args.filter((_, i) => i !== topAt && i !== topAt + 1);
  for (const file of files)
    process.stdout.write(`\n${formatProfile(summarizeProfile(file, top))}\n`);
}

if (require.main === module) main();
