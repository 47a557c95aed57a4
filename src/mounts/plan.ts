/**
 * The mount planner: filesystem requests (from the merged profile and the
 * command line) -> the ordered mount records of the launch plan.
 *
 * Model. The sandbox's root is an empty tmpfs. Every request is resolved to
 * its real host path (see resolve.ts); the sandbox mirrors the host's layout
 * along that path, so each granted object is mounted at its own real path
 * and every symlink met on the way is recreated as the same symlink. Then:
 *
 *  - one request per real path survives: `deny` beats everything at the same
 *    path; otherwise the later layer wins (include < profile < local file <
 *    command line); at the same layer the stricter wins (tmpfs, ro, rw);
 *  - the most specific path decides: nodes are mounted parents first, so a
 *    deeper node covers what its ancestor showed; a deny is only mounted where
 *    something above it is visible, and a denied directory with allowed
 *    paths below it becomes an empty read-only directory holding just those;
 *  - `exec` marks writable paths (or a new writable mount below one) as
 *    executable; everything else writable is noexec, nosuid, nodev;
 *  - a node whose mount would repeat what its ancestor already shows is
 *    skipped (fewer mounts, faster start);
 *  - a symlink that lies inside a path the sandbox may write is never
 *    followed: the sandbox could have planted it to widen the next launch;
 *  - `protect` entries inside writable directories become read-only nodes,
 *    and the directories above them mount points (protect.ts);
 *  - a secret path (secrets.ts) or a denied path is shown only to a grant
 *    that names it; a grant that reaches one otherwise (the current
 *    directory, a symlink, a glob, a user directory) is refused, and a
 *    secret path inside a grant is hidden as if denied (guardProtected).
 *
 * planMounts runs six phases, each its own function (and unit-tested on its
 * own): resolveRequests, screenRequests (then guardProtected for secret and
 * denied paths), choosePerPath, buildNodes (with
 * protect.ts's protectedNodes), mountRecords (then protect.ts's pinOps),
 * symlinkRecords; orderOps puts the records in mount order.
 *
 * Side effects: lstat/readlink/readdir through resolve.ts, glob.ts and
 * protect.ts only.
 */
import * as path from 'node:path';
import type { MountFlag, MountOp } from '../plan/plan.js';
import { TsjailError } from '../errors.js';
import { expandGlob, GlobLimitError, hasGlob } from './glob.js';
import { pinOps, protectedNodes, type ProtectRequest, type ProtectView } from './protect.js';
import {
  depth,
  isWithin,
  ResolveError,
  resolveHostPath,
  StatCache,
  type HostStat,
  type LinkHop,
  type Resolution,
} from './resolve.js';
import type { SecretPath } from './secrets.js';
import { createStateDirs } from './state.js';
import { treeEntryOf, type RootTree } from './tree.js';

export type FsAccess = 'ro' | 'rw' | 'exec' | 'tmpfs' | 'deny';

export interface FsRequest {
  /** Absolute path, variables expanded; may contain glob characters. */
  path: string;
  access: FsAccess;
  /** Higher wins at the same path (see module comment). */
  layer: number;
  /** Where it came from, for messages: "FILE:LINE" or "--ro". */
  origin: string;
  /** Command-line paths must exist; profile paths are skipped when missing. */
  required: boolean;
  /** Expand as a glob pattern (the profile layer escapes variable values inside it). */
  glob?: boolean;
  /**
   * Set when the path is not named by whoever wrote it (the current
   * directory, a user-directory variable, a glob, filesystem.args): says
   * what it is. Such a path never shows a secret or denied path.
   */
  implicit?: string;
  /** Named on the program's command line (filesystem.args). */
  argument?: boolean;
  /** How the path was spelled before symlinks, when not `path` (a relative --ro under a logical $PWD). */
  spelled?: string;
  /**
   * The application's state (a writable profile path under the home or an
   * XDG base directory): created, mode 0700, when missing (state.ts).
   */
  create?: boolean;
}

export interface DeviceRequest {
  path: string;
  origin: string;
}

export interface PlanInput {
  requests: FsRequest[];
  devices: DeviceRequest[];
  /**
   * Records that no host path describes (a generated file, a socket shown
   * under another name), placed among the others by depth, before the root
   * is made read-only.
   */
  extraOps?: MountOp[];
  /** filesystem.protect: paths inside writable ones kept read-only (protect.ts). */
  protect?: ProtectRequest[];
  /** The caller's secret paths (secrets.ts): never shown implicitly, hidden inside grants. */
  secrets?: SecretPath[];
  /** Create the missing state directories (`create` requests) before planning; false: only say they would be. */
  createState?: boolean;
  /** root: a system tree whose top-level directories replace the host's (tree.ts). */
  tree?: RootTree;
}

export type NodeRole = 'ro' | 'rw' | 'tmpfs' | 'deny' | 'mask' | 'dev' | 'proc' | 'devfs';

/** Something visible (or hidden) at a real path inside the sandbox. */
export interface FsNode {
  path: string;
  role: NodeRole;
  exec: boolean;
  origin: string;
  layer: number;
  stat?: HostStat;
  /** Root mode of a tmpfs that has no host directory to copy it from. */
  mode?: number;
  /** False when an identical ancestor mount already shows it. */
  mounted: boolean;
  /** A read-only node that is noexec too (a protected path inside a noexec writable one). */
  noexec?: boolean;
  /** The host path mounted here when it is not `path` itself: a directory of the system tree. */
  src?: string;
}

export interface MountPlan {
  ops: MountOp[];
  nodes: FsNode[];
  /** Said under -v: what was skipped and why. */
  notes: string[];
  /** Said always: things the user should know even without -v. */
  warnings: string[];
}

/** Never shown whole (SPEC): grant what is needed inside them instead. */
const NEVER_WHOLE = ['/', '/tmp', '/run', '/var', '/home', '/root', '/srv', '/mnt', '/media', '/proc', '/dev', '/sys'];

const STRICTNESS: Record<string, number> = { tmpfs: 3, ro: 2, rw: 1 };

const RW_FLAGS: MountFlag[] = ['nosuid', 'nodev', 'noexec'];
const RWX_FLAGS: MountFlag[] = ['nosuid', 'nodev'];
const RO_FLAGS: MountFlag[] = ['ro', 'nosuid', 'nodev'];

/** The fixed parts of every sandbox: /proc, /dev and a private /tmp. */
function builtinNodesAndOps(cache: StatCache): { nodes: FsNode[]; ops: MountOp[] } {
  const nodes: FsNode[] = [
    { path: '/proc', role: 'proc', exec: false, origin: 'built-in', layer: -1, mounted: true },
    { path: '/dev', role: 'devfs', exec: false, origin: 'built-in', layer: -1, mounted: true },
    { path: '/tmp', role: 'tmpfs', exec: false, origin: 'built-in', layer: -1, mode: 0o1777, mounted: true },
  ];
  const devices: MountOp[] = [];
  for (const dev of BASIC_DEVICES) {
    const st = cache.lstat(dev);
    if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) {
      throw new TsjailError(`${dev} is missing or not a device on this host; it is needed inside every sandbox`);
    }
    devices.push({ op: 'devbind', src: dev, dest: dev, rdev: st.rdev });
  }
  const ops: MountOp[] = [
    { op: 'proc', dest: '/proc', why: 'a procfs of the sandbox PID namespace' },
    // Kernel knobs stay read-only even where the user namespace would let a write through.
    // The kernel decides which of these exist (CONFIG_MAGIC_SYSRQ...); the host's /proc tells.
    ...['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus', '/proc/fs']
      .filter((p) => cache.lstat(p) !== null)
      .map((dest): MountOp => ({
        op: 'bindself',
        dest,
        flags: ['ro', 'nosuid', 'nodev', 'noexec'],
        why: 'kernel settings read-only',
      })),
    { op: 'tmpfs', dest: '/dev', mode: 0o755, size: 0, flags: ['nosuid', 'noexec'], why: 'a minimal /dev' },
    ...devices,
    { op: 'devpts', dest: '/dev/pts', why: 'a private pty instance' },
    { op: 'symlink', target: 'pts/ptmx', dest: '/dev/ptmx' },
    {
      op: 'tmpfs',
      dest: '/dev/shm',
      mode: 0o1777,
      size: 0,
      flags: ['nosuid', 'nodev', 'noexec'],
      why: 'private POSIX shared memory',
    },
    { op: 'symlink', target: '/proc/self/fd', dest: '/dev/fd' },
    { op: 'symlink', target: '/proc/self/fd/0', dest: '/dev/stdin' },
    { op: 'symlink', target: '/proc/self/fd/1', dest: '/dev/stdout' },
    { op: 'symlink', target: '/proc/self/fd/2', dest: '/dev/stderr' },
  ];
  return { nodes, ops };
}

/** The device nodes every program expects. */
export const BASIC_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

function nodeFlags(n: FsNode): MountFlag[] {
  if (n.role === 'ro') return n.noexec ? [...RO_FLAGS, 'noexec'] : RO_FLAGS;
  return n.exec ? RWX_FLAGS : RW_FLAGS;
}

function describeLink(l: LinkHop): string {
  return `${l.at} -> ${l.target}`;
}

/** Notes (said under -v) and warnings (said always), shared by the phases. */
export interface Report {
  notes: string[];
  warnings: string[];
}

/** A request for one concrete path, with where that path really is. */
export interface Resolved {
  req: FsRequest;
  res: Resolution;
}

/** A missing or unusable path: an error for the command line, a note for a profile. */
function skip(report: Report, req: FsRequest, why: string): void {
  if (req.required) throw new TsjailError(`${req.origin} ${req.path}: ${why}`);
  report.notes.push(`skipped ${req.path} (${req.origin}): ${why}`);
}

/** Phase 1: expand globs and resolve every concrete path. */
export function resolveRequests(requests: readonly FsRequest[], cache: StatCache, report: Report): Resolved[] {
  const resolved: Resolved[] = [];
  for (const req of requests) {
    let concrete: string[];
    if (req.glob) {
      try {
        concrete = expandGlob(req.path);
      } catch (e) {
        if (e instanceof GlobLimitError) throw new TsjailError(`${req.origin}: ${e.message}`);
        throw e;
      }
      if (concrete.length === 0) {
        skip(report, req, 'no match');
        continue;
      }
    } else {
      concrete = [req.path];
    }
    for (const p of concrete) {
      let res: Resolution;
      try {
        res = resolveHostPath(p, cache);
      } catch (e) {
        if (e instanceof ResolveError) {
          skip(report, { ...req, path: p }, e.message);
          continue;
        }
        throw e;
      }
      resolved.push({ req: { ...req, path: p }, res });
    }
  }
  return resolved;
}

/**
 * Phase 2: what may be mounted at all. A symlink inside a path the sandbox
 * may write is never followed; paths never shown whole, /proc, /dev and /sys
 * are refused; a link into /proc or /dev is kept as a link alone (`linksOnly`);
 * a missing path is skipped (a missing deny is only worth a warning when the
 * sandbox could create it).
 */
export function screenRequests(
  resolved: readonly Resolved[],
  report: Report,
): { usable: Resolved[]; linksOnly: LinkHop[] } {
  const writable = resolved
    .filter((r) => (r.req.access === 'rw' || r.req.access === 'exec') && r.res.stat)
    .map((r) => r.res.real);
  const usable: Resolved[] = [];
  const linksOnly: LinkHop[] = [];
  for (const r of resolved) {
    const planted = r.res.links.find((l) => writable.some((w) => isWithin(l.at, w)));
    if (planted) {
      const msg = `not following ${describeLink(planted)}: it lies in a path the sandbox can write`;
      report.warnings.push(`${r.req.origin} ${r.req.path}: ${msg}`);
      if (r.req.required) throw new TsjailError(`${r.req.origin} ${r.req.path}: ${msg}`);
      continue;
    }
    const { real } = r.res;
    if ((r.req.access === 'ro' || r.req.access === 'rw') && NEVER_WHOLE.includes(real)) {
      throw new TsjailError(
        `${r.req.origin}: ${r.req.path}${real !== r.req.path ? ` (${real})` : ''} is never shown whole; grant the paths inside it that the program needs`,
      );
    }
    const inBuilt = isWithin(real, '/proc') || isWithin(real, '/dev');
    const declaredInBuilt = isWithin(r.req.path, '/proc') || isWithin(r.req.path, '/dev');
    if (inBuilt && !declaredInBuilt && r.res.links.length > 0 && r.req.access !== 'deny') {
      // A link into /proc or /dev (/etc/mtab -> ../proc/self/mounts): the
      // sandbox has its own, so the link alone is recreated.
      for (const l of r.res.links) if (!isWithin(l.at, '/proc') && !isWithin(l.at, '/dev')) linksOnly.push(l);
      continue;
    }
    if (r.req.access !== 'deny' && r.req.access !== 'exec' && inBuilt) {
      throw new TsjailError(
        `${r.req.origin}: ${r.req.path}: /proc and /dev are built by tsjail; use "devices" for device nodes`,
      );
    }
    if (r.req.access === 'tmpfs' && real === '/') {
      throw new TsjailError(`${r.req.origin}: the root is already an empty tmpfs`);
    }
    if ((r.req.access === 'rw' || r.req.access === 'exec') && isWithin(real, '/sys')) {
      throw new TsjailError(`${r.req.origin}: ${r.req.path}: /sys is only ever shown read-only`);
    }
    if (!r.res.stat && r.req.access !== 'tmpfs') {
      if (r.req.access === 'deny') {
        const under = writable.find((w) => isWithin(real, w));
        if (under) {
          report.warnings.push(
            `${r.req.origin}: deny ${r.req.path} does not exist, and the sandbox can create it inside writable ${under}`,
          );
        } else {
          report.notes.push(`skipped deny ${r.req.path} (${r.req.origin}): does not exist`);
        }
        continue;
      }
      if ((r.req.access === 'rw' || r.req.access === 'exec') && !r.req.required && !r.req.create) {
        // What the program writes there would vanish with the sandbox: said always.
        report.warnings.push(
          `${r.req.origin}: writable ${r.req.path} does not exist, so what the program writes there is not kept`,
        );
        continue;
      }
      // A state directory that could not be created was said by createStateDirs.
      if (r.req.create) continue;
      skip(report, r.req, 'does not exist');
      continue;
    }
    usable.push(r);
  }
  return { usable, linksOnly };
}

/** Phase 3: one request per real path (see wins); `exec` requests are kept apart, they mark others. */
export function choosePerPath(usable: readonly Resolved[]): { chosen: Resolved[]; exec: Resolved[] } {
  const chosen = new Map<string, Resolved>();
  const exec: Resolved[] = [];
  for (const r of usable) {
    if (r.req.access === 'exec') {
      exec.push(r);
      continue;
    }
    const prev = chosen.get(r.res.real);
    if (!prev || wins(r.req, prev.req)) chosen.set(r.res.real, r);
  }
  return { chosen: [...chosen.values()], exec };
}

/** The nodes of a sandbox by path, and which one decides what a path shows. */
export class NodeTree implements ProtectView {
  readonly nodes: FsNode[] = [];
  readonly byPath = new Map<string, FsNode>();
  /** The read-only nodes of filesystem.protect (in `nodes`, not in `byPath`). */
  protectedList: FsNode[] = [];

  /** A node of a request replaces a built-in one at the same path, never another request's. */
  add(n: FsNode): void {
    const prev = this.byPath.get(n.path);
    if (prev && prev.layer >= 0) return;
    if (prev) this.nodes.splice(this.nodes.indexOf(prev), 1);
    this.byPath.set(n.path, n);
    this.nodes.push(n);
  }

  /** The nearest node strictly above `p`. */
  covering(p: string): FsNode | undefined {
    for (let q = parentOf(p); ; q = parentOf(q)) {
      const n = this.byPath.get(q);
      if (n) return n;
      if (q === '/') return undefined;
    }
  }

  /** The node deciding what `p` shows: the node at `p` itself, else the nearest above. */
  decider(p: string): FsNode | undefined {
    return this.byPath.get(p) ?? this.covering(p);
  }

  /** Parents before children, then by path. */
  sort(): void {
    this.nodes.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/**
 * Phase 4: the nodes, parents first: the built-in ones, one per chosen
 * request, `exec` applied (on a writable node, or as a new executable
 * node below a writable one), the protected paths inside writable ones
 * (protect.ts), and the devices.
 */
export function buildNodes(
  builtin: readonly FsNode[],
  chosen: readonly Resolved[],
  exec: readonly Resolved[],
  protect: readonly ProtectRequest[],
  devices: readonly DeviceRequest[],
  cache: StatCache,
  report: Report,
): NodeTree {
  const tree = new NodeTree();
  for (const n of builtin) tree.add(n);
  for (const r of chosen) {
    tree.add({
      path: r.res.real,
      role: r.req.access === 'deny' ? 'deny' : (r.req.access as NodeRole),
      exec: false,
      origin: r.req.origin,
      layer: r.req.layer,
      stat: r.res.stat,
      mounted: true,
    });
  }
  // A file named on the command line (filesystem.args "rw") in a folder the
  // sandbox does not show: that folder is an empty read-only tmpfs around
  // it. A program that saves by writing a temporary file beside the file
  // and renaming it over (GIO's g_file_replace, so gedit and GIMP) could
  // make the temporary file in the private home but not rename it over the
  // mount point (EBUSY: "Could not save the file"); in a read-only folder
  // it cannot make it (EROFS) and writes the file in place instead.
  for (const r of chosen) {
    if (!r.req.argument || r.req.access !== 'rw' || r.res.stat?.kind !== 'file') continue;
    const folder = parentOf(r.res.real);
    const cover = tree.covering(r.res.real);
    if (tree.byPath.has(folder) || cover?.role !== 'tmpfs') continue;
    tree.add({
      path: folder,
      role: 'mask',
      exec: false,
      origin: `${r.req.origin}: the folder of ${r.res.real}, read-only so that it is saved in place`,
      layer: r.req.layer,
      mounted: true,
    });
  }
  for (const r of exec) {
    const at = tree.byPath.get(r.res.real);
    if (at && (at.role === 'rw' || at.role === 'tmpfs')) {
      at.exec = true;
      continue;
    }
    const cover = tree.covering(r.res.real);
    if (!at && cover && cover.role === 'rw') {
      tree.add({
        path: r.res.real,
        role: 'rw',
        exec: true,
        origin: r.req.origin,
        layer: r.req.layer,
        stat: r.res.stat,
        mounted: true,
      });
    } else if (cover && cover.role === 'ro') {
      report.notes.push(`exec ${r.req.path} (${r.req.origin}): read-only paths are executable already`);
    } else {
      report.notes.push(`skipped exec ${r.req.path} (${r.req.origin}): not a writable path of this sandbox`);
    }
  }
  tree.protectedList = protectedNodes(protect, tree, cache, report.notes);
  tree.nodes.push(...tree.protectedList);
  for (const d of devices) addDevice(d, cache, report.notes, (n) => tree.add(n));
  tree.sort();
  return tree;
}

/**
 * Phase 5: the mount records of the nodes. A deny is mounted only where
 * something above shows the host, and becomes an empty read-only directory
 * (`mask`, made read-only at the end) when allowed paths lie below it; a
 * node its ancestor already shows the same way is not mounted. Marks each
 * node's `mounted` (and a masked deny's role).
 */
export function mountRecords(tree: NodeTree, report: Report): { ops: MountOp[]; finalRemounts: MountOp[] } {
  const ops: MountOp[] = [];
  const finalRemounts: MountOp[] = [];
  // An empty tmpfs, made read-only once what lies below is mounted.
  const mask = (n: FsNode, why: string): void => {
    ops.push({ op: 'tmpfs', dest: n.path, mode: 0o755, size: 0, flags: ['nosuid', 'nodev', 'noexec'], why });
    finalRemounts.push({ op: 'remount', dest: n.path, flags: ['ro', 'nosuid', 'nodev', 'noexec'] });
  };
  const hasVisibleBelow = (n: FsNode): boolean =>
    tree.nodes.some((m) => m !== n && isWithin(m.path, n.path) && m.role !== 'deny');
  for (const n of tree.nodes) {
    const cover = tree.covering(n.path);
    switch (n.role) {
      case 'deny':
        if (!cover || cover.role === 'deny' || cover.role === 'tmpfs' || cover.role === 'mask') {
          n.mounted = false;
          report.notes.push(`deny ${n.path} (${n.origin}): not visible anyway`);
        } else if (hasVisibleBelow(n)) {
          n.role = 'mask';
          mask(n, `deny (${n.origin}), with allowed paths below`);
        } else {
          ops.push({
            op: 'deny',
            dest: n.path,
            kind: n.stat?.kind === 'dir' ? 'dir' : 'file',
            why: `deny (${n.origin})`,
          });
        }
        break;
      case 'mask':
        // Made so by buildNodes (the folder of a file argument).
        mask(n, n.origin);
        break;
      case 'tmpfs': {
        if (!n.stat && cover !== undefined && (cover.role === 'ro' || cover.role === 'rw')) {
          n.mounted = false;
          report.notes.push(
            `skipped tmpfs ${n.path} (${n.origin}): does not exist, and no mount point can be made inside the host's ${cover.path}`,
          );
          break;
        }
        const mode = n.mode ?? (n.stat?.kind === 'dir' ? n.stat.mode : 0o755);
        ops.push({
          op: 'tmpfs',
          dest: n.path,
          mode,
          size: 0,
          flags: n.exec ? RWX_FLAGS : RW_FLAGS,
          why: `tmpfs (${n.origin})`,
        });
        break;
      }
      case 'ro':
      case 'rw': {
        if (cover && cover.role === n.role && cover.exec === n.exec && !n.noexec === !cover.noexec) {
          n.mounted = false;
          break;
        }
        const st = hostStat(n);
        ops.push({
          op: 'bind',
          src: n.src ?? n.path,
          dest: n.path,
          dev: st.dev,
          ino: st.ino,
          kind: st.kind === 'dir' ? 'dir' : 'file',
          flags: nodeFlags(n),
          why: `${n.role}${n.exec ? '+exec' : ''} (${n.origin})`,
        });
        break;
      }
      case 'dev': {
        const st = hostStat(n);
        if (st.kind === 'dir') {
          ops.push({
            op: 'bind',
            src: n.path,
            dest: n.path,
            dev: st.dev,
            ino: st.ino,
            kind: 'dir',
            flags: ['nosuid', 'noexec'],
            why: `device (${n.origin})`,
          });
        } else {
          ops.push({ op: 'devbind', src: n.path, dest: n.path, rdev: st.rdev, why: `device (${n.origin})` });
        }
        break;
      }
      default:
        // proc and devfs: their records are the built-in ones.
        break;
    }
  }
  return { ops, finalRemounts };
}

/** Phase 6: symlinks met while resolving, where the host's own link is not shown (nor hidden) already. */
export function symlinkRecords(usable: readonly Resolved[], linksOnly: readonly LinkHop[], tree: NodeTree): MountOp[] {
  const hops = [...usable.filter((r) => r.req.access !== 'deny').flatMap((r) => r.res.links), ...linksOnly];
  const links = new Map<string, string>();
  for (const l of hops) {
    const cover = tree.covering(l.at);
    if (cover && (cover.role === 'ro' || cover.role === 'rw' || cover.role === 'deny')) continue;
    if (tree.byPath.has(l.at)) continue;
    links.set(l.at, l.target);
  }
  return [...links].map(([at, target]): MountOp => ({ op: 'symlink', target, dest: at }));
}

/** Parents before children (the order within one depth is kept), then the read-only remounts, the root's last. */
export function orderOps(ops: readonly MountOp[], finalRemounts: readonly MountOp[]): MountOp[] {
  const ordered = ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => depth(a.op.dest) - depth(b.op.dest) || a.i - b.i)
    .map((x) => x.op);
  return [
    ...ordered,
    ...finalRemounts,
    { op: 'remount', dest: '/', flags: ['ro', 'nosuid', 'nodev'], why: 'nothing new at the root' },
  ];
}

/**
 * With a system tree: no host path under the host's system directories or
 * a directory the tree provides is mounted, neither as named nor where its
 * symlinks lead (the tree's own /usr and /etc are the system then, and the
 * host's must not show through a link into them); a command-line one is an
 * error, since it was asked for by name.
 */
function outsideTree(requests: readonly Resolved[], tree: RootTree | undefined, report: Report): Resolved[] {
  if (!tree) return [...requests];
  return requests.filter((r) => {
    const hit = [r.req.path, r.res.real].find((p) => systemOf(tree, p) !== undefined);
    if (hit === undefined) return true;
    const top = systemOf(tree, hit)!;
    const why =
      treeEntryOf(tree, hit) !== undefined
        ? `${top} comes from the system tree ${tree.dir} (${tree.origin})`
        : `${top} is the host's system, which the system tree ${tree.dir} (${tree.origin}) replaces`;
    if (r.req.required)
      throw new TsjailError(
        `${r.req.origin} ${r.req.spelled ?? r.req.path}: ${why}; a host path cannot be shown there`,
      );
    report.notes.push(`skipped ${r.req.path} (${r.req.origin}): ${why}`);
    return false;
  });
}

/** The host's system directories, never mounted with a system tree. */
const HOST_SYSTEM = new Set(['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc']);

function systemOf(tree: RootTree, p: string): string | undefined {
  const top = p.split('/')[1] ?? '';
  return HOST_SYSTEM.has(top) || treeEntryOf(tree, p) !== undefined ? `/${top}` : undefined;
}

/** The tree's top-level directories as nodes (executable: the system's programs), its links as links. */
function treeNodesAndOps(tree: RootTree | undefined): { nodes: FsNode[]; ops: MountOp[] } {
  const nodes: FsNode[] = [];
  const ops: MountOp[] = [];
  for (const e of tree?.entries ?? []) {
    if (e.kind === 'link') ops.push({ op: 'symlink', target: e.target!, dest: e.dest });
    else
      nodes.push({
        path: e.dest,
        src: e.src,
        role: tree!.writable ? 'rw' : 'ro',
        exec: true,
        origin: `system tree (${tree!.origin})`,
        layer: -1,
        stat: e.stat,
        mounted: true,
      });
  }
  return { nodes, ops };
}

export function planMounts(input: PlanInput, cache = new StatCache()): MountPlan {
  const report: Report = { notes: [], warnings: [] };
  createStateDirs(input.requests, input.createState ?? false, report);
  const resolved = outsideTree(resolveRequests(input.requests, cache, report), input.tree, report);
  const { usable, linksOnly } = screenRequests(resolved, report);
  // Secret and denied paths are reached only by a grant that names them.
  const guard = guardProtected(usable, input.secrets ?? [], cache);
  usable.push(...guard.hide);
  const { chosen, exec } = choosePerPath(usable);
  const builtin = builtinNodesAndOps(cache);
  const system = treeNodesAndOps(input.tree);
  const tree = buildNodes(
    [...builtin.nodes, ...system.nodes],
    chosen,
    exec,
    input.protect ?? [],
    input.devices,
    cache,
    report,
  );
  const records = mountRecords(tree, report);
  const ops = [
    ...builtin.ops,
    ...system.ops,
    ...records.ops,
    ...pinOps(tree.protectedList, tree, nodeFlags),
    ...symlinkRecords(usable, linksOnly, tree),
    ...guard.pins,
    ...(input.extraOps ?? []),
  ];
  return {
    ops: orderOps(ops, records.finalRemounts),
    nodes: tree.nodes,
    notes: report.notes,
    warnings: report.warnings,
  };
}

/** The host object behind a node of a host path (every ro, rw and dev node has one: phase 2 dropped the rest). */
function hostStat(n: FsNode): HostStat {
  if (!n.stat) throw new Error(`internal error: ${n.role} node ${n.path} has no host object`);
  return n.stat;
}

/** A path no grant may reach without naming it: a secret path, or one the profile denies. */
interface Protected {
  spelled: string;
  real: string;
  /** "SSH keys" / "denied by FILE:LINE", for the message. */
  what: string;
  secret: boolean;
  /** Refused even to a grant naming it (SecretPath.never). */
  never?: boolean;
}

const GRANTS: ReadonlySet<FsAccess> = new Set(['ro', 'rw', 'exec']);

/**
 * Refuses (TsjailError) a grant whose real path is a protected path or lies
 * inside one unless the grant names it (tsjail-profile(5), "Secret paths"),
 * and returns deny requests that hide each existing secret path lying inside
 * a grant that shows the host, unless some grant names exactly that path
 * (a `never` one whatever names it), with the mount points that pin its
 * parents inside a writable grant (SecretPath.pin).
 */
function guardProtected(
  usable: Resolved[],
  secrets: SecretPath[],
  cache: StatCache,
): { hide: Resolved[]; pins: MountOp[] } {
  const prot: Protected[] = [];
  const secretRes: { s: SecretPath; res: Resolution }[] = [];
  for (const s of secrets) {
    let res: Resolution;
    try {
      res = resolveHostPath(s.path, cache);
    } catch {
      continue; // a link loop: nothing is reachable there
    }
    prot.push({ spelled: s.path, real: res.real, what: s.why, secret: true, never: s.never });
    if (res.stat) secretRes.push({ s, res });
  }
  for (const r of usable) {
    if (r.req.access === 'deny')
      prot.push({ spelled: r.req.path, real: r.res.real, what: r.req.origin, secret: false });
  }
  const grants = usable.filter((r) => GRANTS.has(r.req.access));
  const spelledOf = (r: Resolved): string => r.req.spelled ?? r.req.path;
  const namesIt = (r: Resolved, p: Protected): boolean =>
    r.req.implicit === undefined &&
    isWithin(r.res.real, p.real) &&
    (isWithin(spelledOf(r), p.spelled) || isWithin(spelledOf(r), p.real));
  const named = new Set<string>();
  for (const r of grants) {
    for (const p of prot) {
      if (!isWithin(r.res.real, p.real)) continue;
      if (namesIt(r, p) && !p.never) {
        if (r.res.real === p.real) named.add(p.real);
        continue;
      }
      // Inside what a naming grant shows at least as writable, it shows nothing new.
      const within =
        !p.never &&
        grants.some(
          (g) =>
            g !== r &&
            namesIt(g, p) &&
            isWithin(r.res.real, g.res.real) &&
            (r.req.access === 'ro' || g.req.access !== 'ro'),
        );
      if (within) continue;
      const spelled = spelledOf(r);
      const subject =
        (r.req.implicit !== undefined ? `${r.req.implicit} ${spelled}` : spelled) +
        (spelled !== r.res.real ? ` resolves to ${r.res.real}` : '');
      const kind = p.secret ? 'secret path' : 'denied path';
      const target = p.real === r.res.real ? `a ${kind}` : `inside the ${kind} ${p.spelled}`;
      const rule = p.never
        ? 'no sandbox may see it'
        : `it is shown only to a grant that names it${p.secret ? ` (--ro ${p.spelled})` : ''}`;
      throw new TsjailError(`${r.req.origin}: ${subject}, ${target} (${p.what}): ${rule}`);
    }
  }
  const shown = usable.filter((r) => (r.req.access === 'ro' || r.req.access === 'rw') && r.res.stat?.kind === 'dir');
  const hide: Resolved[] = [];
  const pins: MountOp[] = [];
  // An empty tmpfs at exactly a secret path (the desktop's runtime directory
  // inside a writable home) shows nothing of it: no need to hide it.
  const emptied = new Set(usable.filter((r) => r.req.access === 'tmpfs').map((r) => r.res.real));
  for (const { s, res } of secretRes) {
    if (named.has(res.real) || emptied.has(res.real) || hide.some((h) => h.res.real === res.real)) continue;
    const under = shown.find((g) => g.res.real !== res.real && isWithin(res.real, g.res.real));
    if (!under) continue;
    if (s.pin) {
      for (const g of shown) {
        if (g.req.access !== 'rw' || g.res.real === res.real || !isWithin(res.real, g.res.real)) continue;
        for (let d = parentOf(res.real); d !== g.res.real && isWithin(d, g.res.real); d = parentOf(d)) {
          if (!pins.some((x) => x.dest === d))
            pins.push({ op: 'bindself', dest: d, flags: [], why: `a mount point: ${s.path} cannot be renamed away` });
        }
      }
    }
    hide.push({
      req: {
        path: res.real,
        access: 'deny',
        layer: -1,
        origin: `secret path ${s.path} (${s.why}) inside ${under.req.origin} ${under.req.path}`,
        required: false,
      },
      res,
    });
  }
  return { hide, pins };
}

function wins(a: FsRequest, b: FsRequest): boolean {
  if (a.access === 'deny' || b.access === 'deny') return a.access === 'deny' && b.access !== 'deny';
  if (a.layer !== b.layer) return a.layer > b.layer;
  return (STRICTNESS[a.access] ?? 0) > (STRICTNESS[b.access] ?? 0);
}

function parentOf(p: string): string {
  return p === '/' ? '/' : path.posix.dirname(p);
}

function addDevice(d: DeviceRequest, cache: StatCache, notes: string[], addNode: (n: FsNode) => void): void {
  const targets = hasGlob(d.path) ? expandGlob(d.path) : [d.path];
  if (targets.length === 0) notes.push(`device ${d.path} (${d.origin}): none present`);
  for (const p of targets) {
    const res = resolveHostPath(p, cache);
    if (!res.stat) {
      notes.push(`device ${p} (${d.origin}): not present`);
      continue;
    }
    if (!isWithin(res.real, '/dev')) {
      notes.push(`device ${p} (${d.origin}): resolves outside /dev (${res.real}); skipped`);
      continue;
    }
    const { kind } = res.stat;
    if (kind !== 'chr' && kind !== 'blk' && kind !== 'dir') {
      notes.push(`device ${p} (${d.origin}): not a device; skipped`);
      continue;
    }
    addNode({ path: res.real, role: 'dev', exec: false, origin: d.origin, layer: 0, stat: res.stat, mounted: true });
  }
}

/** Where is `p` inside the sandbox: the node that decides what it shows. */
export function visibleDir(plan: MountPlan, p: string): boolean {
  const byPath = new Map(plan.nodes.map((n) => [n.path, n] as const));
  for (let q = p; ; q = parentOf(q)) {
    const n = byPath.get(q);
    if (n) {
      if (n.role === 'ro' || n.role === 'rw') return true;
      return n.role === 'tmpfs' && q === p;
    }
    if (q === '/') return false;
  }
}

/** The node that decides what `p` shows: the deepest at or above it (none: the empty root). */
export function nodeAt(plan: MountPlan, p: string): FsNode | undefined {
  const byPath = new Map(plan.nodes.map((n) => [n.path, n] as const));
  for (let q = p; ; q = parentOf(q)) {
    const n = byPath.get(q);
    if (n) return n;
    if (q === '/') return undefined;
  }
}
