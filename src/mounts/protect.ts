/**
 * `filesystem.protect`: paths inside writable directories kept read-only,
 * so that what a program outside runs later (git hooks and config, shell rc
 * files, editor folders, package-tool settings) cannot be written from
 * inside. Two steps of the mount planner (plan.ts):
 *
 *  - protectedNodes: every entry against every writable directory (relative
 *    entries) or where it lies in one (absolute entries), resolved without
 *    following links; each existing path becomes a read-only node (a BIND
 *    of the path onto itself, RDONLY). A symbolic link on the way inside a
 *    writable directory cannot be kept (a link cannot be a mount point, and
 *    the sandbox could replace it): refused, exit 125. A missing path is
 *    said under -v: nothing is created on the host (tsjail-profile(5) says
 *    what guards each built-in entry's absence).
 *  - pins: a read-only mount inside a writable one can be carried away by
 *    renaming a directory above it (`mv .git .git-old`, then a new .git):
 *    the kernel refuses rename and rmdir only of a mount point itself
 *    (EBUSY), not of its ancestors. So every directory between a protected
 *    path and the first non-writable mount above it that is not already a
 *    mount point is bound onto itself (BINDSELF, the same flags as the
 *    writable mount it is in), which makes it one.
 *
 * Side effects: lstat/readlink/readdir only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { minimatch } from 'minimatch';
import type { MountFlag, MountOp } from '../plan/plan.js';
import { TsjailError } from '../errors.js';
import { expandGlob, GlobLimitError } from './glob.js';
import { depth, isWithin, ResolveError, resolveHostPath, type StatCache } from './resolve.js';
import type { FsNode } from './plan.js';

export interface ProtectRequest {
  /** Relative to each writable directory, or an absolute path. */
  path: string;
  relative: boolean;
  glob: boolean;
  /** "FILE:LINE", or "built-in". */
  origin: string;
  builtin: boolean;
}

/** Entries read while expanding relative globs, over all writable directories. */
const MAX_VISITED = 10000;
export const PROTECT_LAYER = 2_000_000;

export interface ProtectView {
  byPath: Map<string, FsNode>;
  /** The node deciding what `p` shows (the node at `p` itself, else the nearest above). */
  decider: (p: string) => FsNode | undefined;
}

/** Relative glob `rel` below `root`, component by component, never through a link. */
function expandBelow(root: string, rel: string, budget: { left: number }, what: string): string[] {
  let cur = [root];
  const segs = rel.split('/');
  for (const [i, seg] of segs.entries()) {
    if (!/[*?[\]{}]/.test(seg)) {
      cur = cur.map((d) => `${d}/${seg}`);
      continue;
    }
    const next: string[] = [];
    for (const dir of cur) {
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      budget.left -= names.length;
      if (budget.left < 0) throw new TsjailError(`${what}: more than ${MAX_VISITED} entries read while expanding`);
      // Into directories only, never through a link; a link matched by the
      // last component is kept, to be refused below.
      const last = i === segs.length - 1;
      for (const e of names)
        if ((last || e.isDirectory()) && minimatch(e.name, seg, { dot: true })) next.push(`${dir}/${e.name}`);
    }
    cur = next.sort();
  }
  return cur;
}

export function protectedNodes(
  requests: readonly ProtectRequest[],
  view: ProtectView,
  cache: StatCache,
  notes: string[],
): FsNode[] {
  // A system tree's directories (src set) are not host paths: programs
  // outside do not run from them.
  const roots = [...view.byPath.values()]
    .filter((n) => n.role === 'rw' && n.stat?.kind === 'dir' && n.src === undefined)
    .map((n) => n.path);
  if (roots.length === 0 || requests.length === 0) return [];
  const unprotect = (r: ProtectRequest): string =>
    r.builtin
      ? `or switch it off with filesystem.unprotect: ["${r.path}"]`
      : `or remove it from filesystem.protect (${r.origin})`;
  const budget = { left: MAX_VISITED };
  const found: { req: ProtectRequest; path: string }[] = [];
  for (const req of requests) {
    const what = `protect ${req.path} (${req.origin})`;
    if (req.relative) {
      for (const root of roots) {
        for (const p of req.glob ? expandBelow(root, req.path, budget, what) : [`${root}/${req.path}`])
          found.push({ req, path: p });
      }
    } else if (req.glob) {
      try {
        for (const p of expandGlob(req.path)) found.push({ req, path: p });
      } catch (e) {
        if (e instanceof GlobLimitError) throw new TsjailError(`${req.origin}: ${e.message}`);
        throw e;
      }
    } else {
      found.push({ req, path: req.path });
    }
  }
  // A repository whose hooks live in the work tree (core.hooksPath = .husky):
  // they run at commit as .git/hooks would, so they are kept the same way.
  const gitReq = requests.find((r) => r.relative && r.path === '.git');
  for (const root of gitReq ? roots : []) {
    const hooks = hooksPathOf(`${root}/.git`, cache);
    if (hooks === undefined) continue;
    if (hooks.startsWith('~'))
      notes.push(`${root}/.git/config: core.hooksPath ${hooks} is not protected (a path below ~ is not resolved here)`);
    else
      found.push({
        req: gitReq!,
        path: hooks.startsWith('/') ? path.posix.normalize(hooks) : path.posix.join(root, hooks),
      });
  }
  const resolved = [];
  for (const f of found) {
    let res;
    try {
      res = resolveHostPath(f.path, cache);
    } catch (e) {
      if (e instanceof ResolveError)
        throw new TsjailError(
          `${f.req.origin}: protect ${f.req.path}: ${e.message}; it cannot be kept read-only, ${unprotect(f.req)}`,
        );
      throw e;
    }
    const planted = res.links.find((l) => roots.some((w) => isWithin(l.at, w)));
    if (planted) {
      throw new TsjailError(
        `${f.req.origin}: protect ${f.req.path}: ${planted.at} is a symbolic link (-> ${planted.target}) inside a writable directory; ` +
          `a link cannot be kept read-only there; replace it with what it points to, ${unprotect(f.req)}`,
      );
    }
    resolved.push({ ...f, res });
  }
  // Parents first, so that a protected path inside another is seen as covered.
  resolved.sort((a, b) => depth(a.res.real) - depth(b.res.real));
  const out: FsNode[] = [];
  const missing = new Map<string, string[]>();
  for (const { req, path: p, res } of resolved) {
    const decider = view.decider(res.real);
    if (!decider || decider.role !== 'rw') continue; // not writable here anyway
    if (!res.stat) {
      const key = req.relative ? decider.path : p;
      missing.set(key, [...(missing.get(key) ?? []), req.relative ? req.path : `${req.path} (${req.origin})`]);
      continue;
    }
    if (decider.path === res.real) {
      notes.push(`protect ${req.path} (${req.origin}): ${p} stays writable, granted by ${decider.origin} itself`);
      continue;
    }
    const node: FsNode = {
      path: res.real,
      role: 'ro',
      exec: false,
      origin: `protect ${req.path}, ${req.origin}`,
      layer: PROTECT_LAYER,
      stat: res.stat,
      mounted: true,
      // Not executable where the writable directory around it is not.
      noexec: !decider.exec,
    };
    view.byPath.set(node.path, node);
    out.push(node);
  }
  for (const [where, list] of missing) {
    notes.push(
      `protect: not present in ${where}, and nothing is made on the host (the sandbox could create them): ${list.join(', ')}`,
    );
  }
  return out;
}

/**
 * BINDSELF records that make every directory above a protected node a mount
 * point where it lies in a writable mount without being one (see above).
 * `mounted` of every node must be final.
 */
export function pinOps(
  protectedList: readonly FsNode[],
  view: ProtectView,
  flagsOf: (writable: FsNode) => MountFlag[],
): MountOp[] {
  const pinned = new Map<string, MountOp>();
  for (const p of protectedList) {
    if (!p.mounted) continue;
    for (let d = parent(p.path); d !== '/'; d = parent(d)) {
      if (pinned.has(d)) continue;
      const at = view.byPath.get(d);
      if (at && at.mounted) continue;
      const decider = view.decider(d);
      if (!decider || decider.role !== 'rw') continue;
      pinned.set(d, {
        op: 'bindself',
        dest: d,
        flags: flagsOf(decider),
        why: `pinned: a rename here would carry ${p.path} away`,
      });
    }
  }
  return [...pinned.values()];
}

/**
 * core.hooksPath as the repository's own config writes it (includes are not
 * followed), or undefined. `.git` must be a directory, not a link.
 */
export function hooksPathOf(gitDir: string, cache: StatCache): string | undefined {
  const st = cache.lstat(gitDir);
  if (!st?.isDirectory()) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`${gitDir}/config`, 'utf8');
  } catch {
    return undefined;
  }
  let inCore = false;
  let found: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([A-Za-z0-9.-]+)\s*(?:"[^"]*")?\s*\]/.exec(line);
    if (section) {
      inCore = section[1]!.toLowerCase() === 'core';
      continue;
    }
    const kv = /^hookspath\s*=\s*(.*?)\s*$/i.exec(line);
    if (inCore && kv) found = kv[1]!.replace(/^"(.*)"$/, '$1');
  }
  return found === '' ? undefined : found;
}

function parent(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
