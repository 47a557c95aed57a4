/**
 * Host path resolution for the mount planner. A profile names paths as the
 * user sees them; the sandbox is built from real objects. `resolveHostPath`
 * walks a path one component at a time with lstat, never asking the kernel
 * to follow a link for us, and reports every symlink it went through so the
 * planner can recreate those links inside the sandbox and refuse links the
 * sandbox itself could have planted. Missing paths are reported, not thrown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type NodeKind = 'dir' | 'file' | 'socket' | 'chr' | 'blk' | 'fifo' | 'other';

export interface HostStat {
  kind: NodeKind;
  dev: bigint;
  ino: bigint;
  rdev: bigint;
  mode: number;
}

export interface LinkHop {
  /** Where the symlink is (its own real location). */
  at: string;
  /** Its target, exactly as stored. */
  target: string;
}

export interface Resolution {
  /** The real path: no symlink in any component. */
  real: string;
  /** Symlinks met on the way, in order. */
  links: LinkHop[];
  /** Present when the real path exists. */
  stat?: HostStat;
  /** When missing: the deepest existing real ancestor. */
  existingPrefix: string;
}

const MAX_LINKS = 40;

function kindOf(st: fs.BigIntStats): NodeKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'chr';
  if (st.isBlockDevice()) return 'blk';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

export function toHostStat(st: fs.BigIntStats): HostStat {
  return { kind: kindOf(st), dev: st.dev, ino: st.ino, rdev: st.rdev, mode: Number(st.mode & 0o7777n) };
}

/** lstat with a per-planning cache; null when the path does not exist or cannot be reached. */
export class StatCache {
  private cache = new Map<string, fs.BigIntStats | null>();
  lstat(p: string): fs.BigIntStats | null {
    let st = this.cache.get(p);
    if (st === undefined) {
      try {
        st = fs.lstatSync(p, { bigint: true });
      } catch {
        st = null;
      }
      this.cache.set(p, st);
    }
    return st;
  }
}

export class ResolveError extends Error {}

/** Resolve an absolute, normalised path without trusting the kernel to follow links. */
export function resolveHostPath(p: string, cache: StatCache): Resolution {
  const links: LinkHop[] = [];
  let pending = p.split('/').filter((s) => s !== '');
  let real = '/';
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === '.') continue;
    if (seg === '..') {
      real = path.dirname(real);
      continue;
    }
    const next = real === '/' ? `/${seg}` : `${real}/${seg}`;
    const st = cache.lstat(next);
    if (st === null) {
      const rest = [seg, ...pending].join('/');
      return { real: real === '/' ? `/${rest}` : `${real}/${rest}`, links, existingPrefix: real };
    }
    if (st.isSymbolicLink()) {
      if (links.length >= MAX_LINKS) throw new ResolveError(`${p}: too many levels of symbolic links`);
      let target: string;
      try {
        target = fs.readlinkSync(next);
      } catch (e) {
        throw new ResolveError(`${p}: cannot read link ${next}: ${(e as Error).message}`);
      }
      links.push({ at: next, target });
      const tsegs = target.split('/').filter((s) => s !== '');
      if (target.startsWith('/')) real = '/';
      pending = [...tsegs, ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) {
      return { real: `${next}/${pending.join('/')}`, links, existingPrefix: next };
    }
    real = next;
  }
  const st = cache.lstat(real);
  return { real, links, stat: st ? toHostStat(st) : undefined, existingPrefix: real };
}

/** Is `child` equal to `parent` or below it? Both absolute and normalised. */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(parent + '/');
}

export function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}
