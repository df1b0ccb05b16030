import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** True when `candidate` is `root` or below it (both already absolute and normalised). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/** True when a path names a `..` segment (refused before any resolution). */
export function hasParentSegment(value: string): boolean {
  return value.split(/[\\/]+/).includes('..');
}

/**
 * The real path of `candidate` (symlinks resolved), or undefined when it is not
 * inside one of `roots` (also compared by real path, so a symlink cannot lead
 * out of a root and a root given through a symlink still matches).
 */
export async function realPathInside(
  candidate: string,
  roots: readonly string[],
): Promise<string | undefined> {
  const real = await realpath(candidate);
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => undefined);
    if (realRoot !== undefined && isInside(realRoot, real)) {
      return real;
    }
  }
  return undefined;
}
