/**
 * Globs in profile paths expand at launch against the host. The walk starts
 * at the longest glob-free prefix, reads directories with lstat semantics
 * (never descending through a symlink, so a link the sandbox planted in a
 * writable directory cannot widen a later launch), is bounded in entries
 * visited, and matches with minimatch.
 */
import * as fs from 'node:fs';
import { minimatch } from 'minimatch';

const GLOB_CHARS = /[*?[\]{}]/;
const MAX_VISITED = 20000;

export function hasGlob(p: string): boolean {
  return GLOB_CHARS.test(p);
}

export class GlobLimitError extends Error {}

/** Expand an absolute glob; returns matching existing paths, sorted. */
export function expandGlob(pattern: string): string[] {
  const segs = pattern.split('/').filter((s) => s !== '');
  let i = 0;
  while (i < segs.length && !hasGlob(segs[i]!)) i++;
  const prefix = '/' + segs.slice(0, i).join('/');
  const recursive = segs.slice(i).some((s) => s === '**');
  const maxDepth = recursive ? Infinity : segs.length - i;
  const out: string[] = [];
  let visited = 0;
  const walk = (dir: string, level: number): void => {
    if (level >= maxDepth) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of entries) {
      if (++visited > MAX_VISITED) {
        throw new GlobLimitError(`${pattern}: more than ${MAX_VISITED} entries visited while expanding`);
      }
      const full = dir === '/' ? `/${ent.name}` : `${dir}/${ent.name}`;
      if (minimatch(full, pattern, { dot: true })) out.push(full);
      if (ent.isDirectory()) walk(full, level + 1);
    }
  };
  walk(prefix, 0);
  return out.sort();
}
