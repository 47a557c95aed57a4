/**
 * The Landlock ruleset of a sandbox, derived from the finished mount view so
 * the two layers say the same thing: read (and execute) where the view is
 * read-only, the writer's rights where it is writable, device ioctls only on
 * device nodes, TCP ports when the profile lists them, and scoping of
 * abstract unix sockets and signals to the sandbox. The kernel's ABI decides
 * what can be enforced; anything cut is reported (best effort), and a
 * profile that requires Landlock, or a rule only Landlock can enforce (TCP
 * ports), refuses to start instead.
 *
 * Rules are attached by the shim to the inodes at these paths in the final
 * tree, after pivot_root (seccomp-landlock.md §5.6).
 */
import type { FsNode, MountPlan } from '../mounts/plan.js';
import type { LandlockPlan } from '../plan/plan.js';
import { TsjailError } from '../errors.js';
import type { NetworkPolicy } from '../policy/build.js';
import { abiRow, firstAbiOf, FS, NET, RESTRICT, rightNames, SCOPE } from './abi.js';

export const READ = FS.READ_FILE | FS.READ_DIR;
export const READ_EXEC = READ | FS.EXECUTE;
export const WRITE =
  FS.WRITE_FILE |
  FS.TRUNCATE |
  FS.REMOVE_FILE |
  FS.REMOVE_DIR |
  FS.MAKE_REG |
  FS.MAKE_DIR |
  FS.MAKE_SYM |
  FS.MAKE_SOCK |
  FS.MAKE_FIFO |
  FS.REFER;
export const DEVICE = FS.READ_FILE | FS.WRITE_FILE | FS.IOCTL_DEV;
/**
 * The minimal /dev: null, zero, full, random, urandom and tty are read and
 * written, never ioctl'd (no IOCTL_DEV); its private pty instance is the one
 * place a program opens terminals of its own, so /dev/pts gets ioctls too.
 */
const DEVFS = READ | FS.WRITE_FILE;
/**
 * /proc: read, and write the few files a program sets for itself (comm,
 * oom_score_adj, uid_map of a nested sandbox). A shell's `>` opens with
 * O_TRUNC, which needs TRUNCATE from ABI 3 on even on procfs.
 */
const PROC = READ | FS.WRITE_FILE | FS.TRUNCATE;
/** Rights that make no sense on a non-directory (the kernel rejects them there). */
const FILE_ONLY = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV;

export interface LandlockRequest {
  mode: 'best-effort' | 'required';
  /** The running kernel's ABI (0: none). */
  abi: number;
  /** Why there is none, for the message. */
  unavailable?: string;
  network: NetworkPolicy;
  logDenials: boolean;
}

export interface LandlockResult {
  plan?: LandlockPlan;
  /** Said under -v. */
  notes: string[];
  /** Said always, once. */
  warnings: string[];
}

function nodeAccess(n: FsNode): bigint | undefined {
  switch (n.role) {
    case 'ro':
      return READ_EXEC;
    case 'rw':
    case 'tmpfs':
      return READ | WRITE | (n.exec ? FS.EXECUTE : 0n);
    case 'dev':
      return n.stat?.kind === 'dir' ? DEVICE | FS.READ_DIR : DEVICE;
    case 'proc':
      return PROC;
    case 'devfs':
      return DEVFS;
    default:
      return undefined;
  }
}

/** Each right of a mask with the ABI that brought it: "truncate (ABI 3)". */
export function describeRights(kind: 'fs' | 'scoped', mask: bigint): string[] {
  const table: Record<string, bigint> = kind === 'fs' ? FS : SCOPE;
  return rightNames(kind, mask).map((r) => `${r} (ABI ${firstAbiOf(kind, table[r.toUpperCase()]!)})`);
}

/**
 * The host's network without scoping of abstract unix sockets (Landlock ABI
 * 6, Linux 6.12): the program can connect to every abstract socket of the
 * host, an X server's or a session bus's (past the D-Bus proxy, to systemd's
 * manager). A profile that is given desktop sockets or D-Bus refuses to start
 * then, unless it says network.unscopedAbstractSockets; either way tsjail
 * says it once.
 */
function unscopedAbstract(req: LandlockRequest, kernel: string, warnings: string[]): void {
  const what =
    'abstract unix sockets of the host (X11, D-Bus) are reachable: this kernel cannot scope them (Landlock ABI 6, Linux 6.12)';
  const services = req.network.hostServices ?? [];
  if (services.length > 0 && !req.network.unscopedAbstractSockets) {
    throw new TsjailError(
      `the profile has the host's network and ${services.join(' and ')}, and ${kernel}, which cannot scope abstract unix sockets (ABI 6, Linux 6.12): the program could reach the host's X11 and D-Bus abstract sockets directly, past the D-Bus proxy; network: { mode: "host", unscopedAbstractSockets: true } in the profile starts it anyway`,
    );
  }
  warnings.push(
    services.length > 0
      ? `${what}; started anyway: network.unscopedAbstractSockets (${req.network.origin ?? 'profile'})`
      : what,
  );
}

export function buildLandlock(view: MountPlan, req: LandlockRequest): LandlockResult {
  const notes: string[] = [];
  const warnings: string[] = [];
  // A direction is restricted when the profile wrote its port list, even an empty one (no port at all).
  // With an allow list the proxy's port is the only TCP connect allowed: the
  // namespace already holds that (only loopback), Landlock says it again
  // where the kernel has it (best effort, never a refusal).
  const proxyPort = req.network.mode === 'private' ? req.network.proxyPort : undefined;
  const netWanted =
    req.network.mode === 'host'
      ? (req.network.tcp.restrictConnect ? NET.CONNECT_TCP : 0n) | (req.network.tcp.restrictBind ? NET.BIND_TCP : 0n)
      : proxyPort !== undefined
        ? NET.CONNECT_TCP
        : 0n;
  const tcp = req.network.mode === 'host' && netWanted !== 0n;
  const row = abiRow(req.abi);
  if (!row) {
    const why = req.unavailable ?? 'not available';
    if (tcp)
      throw new TsjailError(
        `the profile limits TCP ports, which only Landlock can enforce, and Landlock is ${why} on this kernel`,
      );
    if (req.mode === 'required')
      throw new TsjailError(`the profile requires Landlock, which is ${why} on this kernel`, {
        hint: 'see `tsjail doctor`',
      });
    notes.push(`Landlock ${why}: the mount view alone confines the filesystem`);
    if (req.network.mode === 'host') unscopedAbstract(req, `Landlock is ${why}`, warnings);
    return { notes, warnings };
  }
  if (tcp && row.net === 0n) {
    throw new TsjailError(`the profile limits TCP ports, which needs Landlock ABI 4; this kernel has ABI ${req.abi}`);
  }

  const wanted = {
    fs: READ_EXEC | WRITE | DEVICE | FS.MAKE_CHAR | FS.MAKE_BLOCK,
    net: netWanted,
    scoped: SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL,
  };
  const handled = { fs: wanted.fs & row.fs, net: wanted.net & row.net, scoped: wanted.scoped & row.scoped };
  for (const kind of ['fs', 'scoped'] as const) {
    const dropped = wanted[kind] & ~handled[kind];
    if (dropped !== 0n)
      notes.push(`Landlock ABI ${req.abi} cannot enforce ${describeRights(kind, dropped).join(', ')}`);
  }
  if (req.abi === 1) notes.push('Landlock ABI 1: moving files between directories fails with EXDEV (no REFER right)');
  if ((handled.scoped & SCOPE.ABSTRACT_UNIX_SOCKET) === 0n && req.network.mode === 'host') {
    unscopedAbstract(req, `this kernel has Landlock ABI ${req.abi}`, warnings);
  }

  // The rules as the newest ABI would have them; what this kernel cannot
  // enforce is cut below, after "required" has had its say.
  const full = new Map<string, bigint>();
  const grant = (p: string, a: bigint): void => {
    if (a !== 0n) full.set(p, (full.get(p) ?? 0n) | a);
  };
  // Listing the root tmpfs (and the directories tsjail made in it) must work; reading below needs a rule of its own.
  grant('/', FS.READ_DIR);
  for (const n of view.nodes) {
    if (!n.mounted) continue;
    const access = nodeAccess(n);
    if (access === undefined) continue;
    const isDir = n.role === 'tmpfs' || n.role === 'proc' || n.role === 'devfs' || n.stat?.kind === 'dir';
    grant(n.path, isDir ? access : access & FILE_ONLY);
  }
  // Files tsjail writes into the new root (the resolver of network "private") are read.
  for (const op of view.ops) if (op.op === 'file') grant(op.dest, FS.READ_FILE);
  // /dev/shm is a writable tmpfs of its own below the device directory.
  grant('/dev/shm', READ | WRITE);
  // Not counted as a need of the profile: tsjail grants its own private ptys.
  const ptys = view.ops.some((op) => op.op === 'devpts');
  let needFs = 0n;
  for (const a of full.values()) needFs |= a;
  if (ptys) grant('/dev/pts', DEVFS | FS.IOCTL_DEV);

  if (req.mode === 'required') {
    // What this profile needs: every right its paths and devices are
    // granted, and scoping of abstract unix sockets when it shares the
    // host's network (with a network namespace of its own they are out of
    // reach anyway; signals already stop at the PID namespace but for
    // tsjail's init).
    const needScoped = req.network.mode === 'host' ? SCOPE.ABSTRACT_UNIX_SOCKET : 0n;
    const missing = [...describeRights('fs', needFs & ~row.fs), ...describeRights('scoped', needScoped & ~row.scoped)];
    if (missing.length) {
      throw new TsjailError(
        `the profile requires Landlock, and this kernel's ABI ${req.abi} lacks ${missing.join(', ')}`,
        { hint: 'see `tsjail doctor`' },
      );
    }
  }
  const paths = new Map<string, bigint>();
  for (const [p, a] of full) if ((a & handled.fs) !== 0n) paths.set(p, a & handled.fs);

  const ports: { port: number; access: bigint }[] = [];
  if (proxyPort !== undefined && (handled.net & NET.CONNECT_TCP) !== 0n) {
    ports.push({ port: proxyPort, access: NET.CONNECT_TCP });
    notes.push(`Landlock: TCP connections only to port ${proxyPort}, the proxy's`);
  } else if (proxyPort !== undefined) {
    notes.push(
      `Landlock ABI ${req.abi} cannot limit TCP ports: the network namespace alone keeps the program to the proxy`,
    );
  }
  if (tcp) {
    if (req.network.tcp.restrictConnect)
      for (const p of req.network.tcp.connect) ports.push({ port: p, access: NET.CONNECT_TCP });
    if (req.network.tcp.restrictBind)
      for (const p of req.network.tcp.bind) ports.push({ port: p, access: NET.BIND_TCP });
  }
  let flags = 0;
  if (req.logDenials) {
    if (row.restrictFlags & RESTRICT.LOG_NEW_EXEC_ON) flags |= RESTRICT.LOG_NEW_EXEC_ON;
    else notes.push(`logging denials needs Landlock ABI 7; this kernel has ABI ${req.abi}`);
  }
  return {
    plan: {
      abi: Math.min(req.abi, row.abi),
      fs: handled.fs,
      net: handled.net,
      scoped: handled.scoped,
      flags,
      paths: [...paths].map(([path, access]) => ({ path, access })),
      ports,
    },
    notes,
    warnings,
  };
}
