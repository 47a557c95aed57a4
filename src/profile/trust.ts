/**
 * Whether a profile file is one the caller can vouch for, like OpenSSH's
 * StrictModes: a profile decides what the sandbox may reach, so whoever can
 * change it decides too.
 *
 * Contract: untrusted(file, uid) returns why the file is not trusted, or
 * undefined. The path is resolved component by component (symlinks
 * followed, each one recorded) and then:
 *   - the file must be owned by the caller or root and not be writable by
 *     group or others;
 *   - every symlink met must be owned by the caller or root;
 *   - every directory above the file and above each symlink, up to /, must
 *     be owned by the caller or root, and not writable by group or others
 *     unless it is sticky and the entry on the way inside it is owned by the
 *     caller or root (only they can then rename or remove it: /tmp is fine
 *     for your own file, not for someone else's).
 * A path that does not resolve is left to the loader, which reports it.
 */
import type { BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { ResolveError, resolveHostPath, StatCache } from '../mounts/resolve.js';

const GROUP_OTHER_WRITE = 0o022n;
const STICKY = 0o1000n;

export function untrusted(file: string, uid: number): string | undefined {
  const cache = new StatCache();
  let res;
  try {
    res = resolveHostPath(path.resolve(file), cache);
  } catch (e) {
    if (e instanceof ResolveError) return undefined;
    throw e;
  }
  if (!res.stat) return undefined;
  const mine = (st: BigIntStats): boolean => st.uid === 0n || st.uid === BigInt(uid);
  const mode = (st: BigIntStats): string => `0${(st.mode & 0o7777n).toString(8)}`;
  const owner = (st: BigIntStats): string => `uid ${st.uid}`;

  const st = cache.lstat(res.real)!;
  if (!mine(st)) return `${res.real} is owned by ${owner(st)}, not by you or root`;
  if (st.mode & GROUP_OTHER_WRITE) return `${res.real} is writable by others (mode ${mode(st)})`;
  for (const l of res.links) {
    const ls = cache.lstat(l.at);
    if (ls && !mine(ls)) return `the symlink ${l.at} is owned by ${owner(ls)}, not by you or root`;
  }
  for (const entry of [res.real, ...res.links.map((l) => l.at)]) {
    for (let child = entry, dir = path.dirname(entry); ; child = dir, dir = path.dirname(dir)) {
      const ds = cache.lstat(dir);
      if (!ds) return `${dir} cannot be examined`;
      if (!mine(ds)) return `the directory ${dir} is owned by ${owner(ds)}, not by you or root`;
      if (ds.mode & GROUP_OTHER_WRITE) {
        const cs = cache.lstat(child);
        if (!(ds.mode & STICKY)) return `the directory ${dir} is writable by others (mode ${mode(ds)})`;
        if (!cs || !mine(cs)) {
          return `the directory ${dir} is writable by others (mode ${mode(ds)}) and ${child} in it is not yours`;
        }
      }
      if (dir === '/') break;
    }
  }
  return undefined;
}
