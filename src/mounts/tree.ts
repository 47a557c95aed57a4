/**
 * A directory tree as the system runtime (`root: DIR`, `--root DIR`): a
 * debootstrap or mmdebstrap tree, an unpacked OCI rootfs, an Alpine
 * minirootfs. The tree's top-level directories are mounted at the root of
 * the sandbox in place of the host's (/usr, /etc, /var, ... and the
 * merged-usr links recreated as links); what tsjail mounts itself (/proc,
 * /dev, /tmp, /run, the home) is not taken from the tree. The host paths a
 * profile grants are mounted as usual, except those under a directory the
 * tree provides: the tree's own /etc is the system's configuration then.
 *
 * Refused (TsjailError, exit 125): a DIR that is not a directory, one that
 * someone other than the caller, root or the caller's subordinate ids owns,
 * or anyone else may write (the sandbox runs its programs: a tree another
 * user can change is their code), a tree
 * without an executable /bin/sh, a program not found in it.
 *
 * Paths inside the tree are resolved as the sandbox will see them: an
 * absolute symlink inside the tree points into the tree, never to the host.
 *
 * Side effects: lstat/readlink/readdir only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import { toHostStat, type HostStat } from './resolve.js';
import { inRange, type SubidRange } from '../sys/subid.js';

/** Top-level names that tsjail provides itself, never taken from a tree. */
export const TREE_RESERVED = new Set(['proc', 'dev', 'sys', 'tmp', 'run', 'home', 'lost+found']);

export interface TreeEntry {
  /** "/usr": where it appears in the sandbox. */
  dest: string;
  /** The host path of the tree's entry (DIR/usr). */
  src: string;
  /** A directory to bind, or a symlink to recreate. */
  kind: 'dir' | 'link';
  stat?: HostStat;
  target?: string;
}

export interface RootTree {
  dir: string;
  writable: boolean;
  origin: string;
  /** Who owns the tree's top directory: the caller, root, or the caller's first subordinate id. */
  owner: { uid: number; gid: number };
  entries: TreeEntry[];
}

const MAX_LINKS = 40;

function describeOwner(st: fs.Stats): string {
  return `owned by uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** Who may own a tree's directories: the caller, root, and the caller's subordinate uids (mmdebstrap --mode=unshare). */
export interface TreeOwners {
  uid: number;
  subuid?: SubidRange;
}

/** Refuses an object a user other than the caller and root could change. */
function checkOwnership(p: string, st: fs.Stats, owners: TreeOwners, origin: string): void {
  const ours = st.uid === owners.uid || st.uid === 0 || inRange(st.uid, owners.subuid);
  if (!ours || (st.mode & 0o022) !== 0) {
    throw new TsjailError(
      `root ${p} (${origin}): ${describeOwner(st)}: a system tree must be writable by nobody but you or root ` +
        `(chmod go-w, or chown it to yourself)`,
    );
  }
}

/**
 * Look at DIR's top level: every directory becomes a mount, every symlink a
 * link; plain files at the top are left out.
 */
export function loadRootTree(dir: string, writable: boolean, origin: string, owners: TreeOwners): RootTree {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    throw new TsjailError(`root ${dir} (${origin}): no such directory`);
  }
  const st = fs.statSync(real);
  if (!st.isDirectory()) throw new TsjailError(`root ${dir} (${origin}): not a directory`);
  if (real === '/') throw new TsjailError(`root ${dir} (${origin}): the host's own root is not a tree; leave root out`);
  checkOwnership(real, st, owners, origin);
  const entries: TreeEntry[] = [];
  for (const name of fs.readdirSync(real).sort()) {
    if (TREE_RESERVED.has(name)) continue;
    const src = path.join(real, name);
    const lst = fs.lstatSync(src, { bigint: true });
    if (lst.isSymbolicLink()) {
      entries.push({ dest: `/${name}`, src, kind: 'link', target: fs.readlinkSync(src) });
    } else if (lst.isDirectory()) {
      checkOwnership(src, fs.lstatSync(src), owners, origin);
      entries.push({ dest: `/${name}`, src, kind: 'dir', stat: toHostStat(lst) });
    }
  }
  const tree: RootTree = { dir: real, writable, origin, owner: { uid: st.uid, gid: st.gid }, entries };
  const sh = resolveInTree(tree, '/bin/sh');
  if (!sh || !isExecutableFile(sh))
    throw new TsjailError(`root ${dir} (${origin}): the tree has no executable /bin/sh; is it a system tree?`);
  return tree;
}

/** The top-level directory or link of the tree that `p` (absolute, inside the sandbox) lies in. */
export function treeEntryOf(tree: RootTree, p: string): TreeEntry | undefined {
  const top = p.split('/')[1];
  return top === undefined || top === '' ? undefined : tree.entries.find((e) => e.dest === `/${top}`);
}

/**
 * The host path of what the sandbox sees at `p`, following symlinks as the
 * sandbox would (absolute targets stay inside the tree); undefined when it
 * does not exist or lies outside what the tree provides.
 */
export function resolveInTree(tree: RootTree, p: string): string | undefined {
  let pending = p.split('/').filter((s) => s !== '');
  let inside: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === '.') continue;
    if (seg === '..') {
      inside.pop();
      continue;
    }
    const next = [...inside, seg];
    if (next.length === 1 && TREE_RESERVED.has(seg)) return undefined;
    const host = path.join(tree.dir, ...next);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_LINKS) return undefined;
      const target = fs.readlinkSync(host);
      if (target.startsWith('/')) inside = [];
      pending = [...target.split('/').filter((s) => s !== ''), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return undefined;
    inside = next;
  }
  return path.join(tree.dir, ...inside);
}

/**
 * Whether a file of the sandbox's own at `p` (absolute) must be bound over
 * the tree's file there rather than created: true where the tree provides
 * the directory (its files are the tree's, read-only or the user's own), which
 * needs a regular file at `p` itself (a mount point is never followed through
 * a link). Throws, naming the fix, when there is none; `what` says who needs it.
 */
export function coversTreeFile(tree: RootTree, p: string, what: string): boolean {
  if (!treeEntryOf(tree, p)) return false;
  const host = path.join(tree.dir, p);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(host);
  } catch {
    st = undefined;
  }
  if (st?.isFile()) return true;
  const is = st === undefined ? 'does not exist' : st.isSymbolicLink() ? 'is a symbolic link' : 'is not a regular file';
  throw new TsjailError(
    `root ${tree.dir} (${tree.origin}): ${what} puts its own ${p} in place of the tree's, but ${host} ${is}; make it a regular file (its content does not matter), or use another network`,
  );
}

function isExecutableFile(hostPath: string): boolean {
  try {
    const st = fs.statSync(hostPath);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Where PROGRAM is in the tree, as the shim's EXEC will look for it: as is
 * when it contains a slash, else in each directory of `searchPath`.
 * Undefined when the tree does not decide (a path outside what the tree
 * provides, such as a granted host directory).
 */
export function findInTree(tree: RootTree, program: string, searchPath: string): string | undefined | null {
  if (program.includes('/')) {
    if (!path.isAbsolute(program) || !treeEntryOf(tree, program)) return undefined;
    const hit = resolveInTree(tree, program);
    return hit && isExecutableFile(hit) ? hit : null;
  }
  for (const dir of searchPath.split(':')) {
    if (!dir.startsWith('/')) continue;
    const hit = resolveInTree(tree, `${dir}/${program}`);
    if (hit && isExecutableFile(hit)) return hit;
  }
  return null;
}
