/**
 * LaunchPlan -> the bytes of shim-c/PLAN.md (wire format v1). This file and
 * PLAN.md change together. The encoder checks what the shim would refuse
 * (path shape, string sizes), so a plan TypeScript produces is never
 * rejected for its form; the shim checks again, since it trusts nothing.
 */
import type { CgroupOp, IpcLimits, LaunchPlan, MountFlag, MountOp } from './plan.js';

export const PLAN_MAGIC = 0x504a5354;
export const PLAN_VERSION = 1;
export const MAX_STR = 4096;
export const MAX_PLAN = 16 * 1024 * 1024;
export const MAX_RECORDS = 65536;

/** shim-c/plan.h PLAN_MAX_DISCARDS. */
export const MAX_DISCARDS = 8;

export const RecordType = {
  NAMESPACES: 1,
  IDS: 2,
  HOSTNAME: 3,
  VERBOSE: 4,
  LIFELINE: 5,
  TTY: 6,
  IPC: 7,
  RECORD: 8,
  PARENT: 9,
  CGROUP: 23,
  CGWRITE: 24,
  TMPFS: 10,
  BIND: 11,
  MKDIR: 12,
  SYMLINK: 13,
  FILE: 14,
  PROC: 15,
  DEVBIND: 16,
  DEVPTS: 17,
  REMOUNT: 18,
  BINDSELF: 19,
  DENY: 20,
  DISCARD: 21,
  CHDIR: 30,
  RLIMIT: 31,
  ENV: 32,
  ARGV: 33,
  EXEC: 34,
  LANDLOCK: 40,
  LL_PATH: 41,
  LL_PORT: 42,
  SECCOMP: 50,
  ENTER: 60,
  NETARG: 61,
  NETRULE: 62,
  NETLISTEN: 63,
  CAPS: 64,
  IDMAP: 65,
  FILEOVER: 66,
  REPORT: 70,
  REPORT_SYSCALL: 71,
  REPORT_PATH: 72,
  REPORT_DBUS: 73,
  REPORT_LANDLOCK: 74,
  CGJOIN: 80,
} as const;

/** The IPC record's u32 fields after shm, in wire order (PLAN.md). */
export const IPC_U32 = [
  'msgmax',
  'msgmnb',
  'msgmni',
  'semmsl',
  'semmns',
  'semopm',
  'semmni',
] as const satisfies readonly (keyof IpcLimits)[];

/** The highest capability number the encoder accepts (CAP_CHECKPOINT_RESTORE is 40). */
export const MAX_CAP = 63;

const FLAG_BITS: Record<MountFlag, number> = { ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8 };

export class PlanEncodeError extends Error {
  override name = 'PlanEncodeError';
}

/** A name `tsjail run --name` accepts (PLAN.md, RECORD): it becomes a file name. */
export function isSandboxName(s: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s);
}

/** True when `p` is absolute and normalised as PLAN.md requires. */
export function isPlanPath(p: string): boolean {
  if (p === '/') return true;
  if (!p.startsWith('/') || p.endsWith('/') || p.includes('\0')) return false;
  return p
    .slice(1)
    .split('/')
    .every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export class Writer {
  private chunks: Buffer[] = [];
  private size = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.push(b);
    return this;
  }
  str(s: string, what: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.includes(0)) throw new PlanEncodeError(`${what}: contains a NUL byte`);
    if (b.length > MAX_STR) throw new PlanEncodeError(`${what}: longer than ${MAX_STR} bytes`);
    this.u32(b.length);
    this.push(b);
    return this;
  }
  path(p: string, what: string): this {
    if (!isPlanPath(p)) throw new PlanEncodeError(`${what}: not an absolute normalised path: ${JSON.stringify(p)}`);
    return this.str(p, what);
  }
  blob(b: Uint8Array): this {
    this.u32(b.length);
    this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }
  get length(): number {
    return this.size;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** CGROUP flags (PLAN.md). */
export const CG_PROCS = 0x1;
export const CG_SELF = 0x2;
export const CG_OOM_V1 = 0x4;
export const CG_OOM_V2 = 0x8;
export const CG_NAMED = 0x10;

/** A cgroup control file's bare name (a CGWRITE relative to the nearest earlier CGROUP). */
const CG_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The plan's cgroups so far: the directories known by path, and how many there are in all. */
interface CgroupsSoFar {
  dirs: string[];
  count: number;
}

function encodeCgroup(op: CgroupOp, w: Writer, seen: CgroupsSoFar): number {
  const dirs = seen.dirs;
  if (op.op === 'write') {
    if (!op.path.includes('/')) {
      if (!CG_FILE.test(op.path) || seen.count === 0)
        throw new PlanEncodeError(`cgroup write ${op.path}: a bare name is a control file of an earlier cgroup`);
      w.str(op.path, 'cgroup file').str(op.value, 'cgroup value');
      return RecordType.CGWRITE;
    }
    const parent = op.path.slice(0, op.path.lastIndexOf('/'));
    // A control file of one of the plan's cgroups, or of the directory that
    // holds one (a delegated scope's cgroup.subtree_control).
    if (!dirs.some((d) => d === parent || d.slice(0, d.lastIndexOf('/')) === parent))
      throw new PlanEncodeError(`cgroup write ${op.path}: not a file of the plan's cgroups or their parent`);
    w.path(op.path, 'cgroup file').str(op.value, 'cgroup value');
    return RecordType.CGWRITE;
  }
  if (op.self && op.procs) throw new PlanEncodeError(`cgroup ${op.path}: both the monitor's and the sandbox's`);
  if (op.self && op.oom) throw new PlanEncodeError(`cgroup ${op.path}: the monitor's cgroup watched for OOM kills`);
  if (op.self && op.named) throw new PlanEncodeError(`cgroup ${op.path}: the monitor's cgroup is not named by it`);
  const flags =
    (op.procs ? CG_PROCS : 0) |
    (op.self ? CG_SELF : 0) |
    (op.oom === 'v1' ? CG_OOM_V1 : op.oom === 'v2' ? CG_OOM_V2 : 0) |
    (op.named ? CG_NAMED : 0);
  if (op.path === '/') throw new PlanEncodeError('cgroup /: not a cgroup tsjail creates');
  w.path(op.path, 'cgroup')
    .u32(flags)
    .str(op.oom ? (op.message ?? '') : '', 'cgroup message');
  // A named cgroup's own directory is not known here: only bare names reach its files.
  if (!op.named) dirs.push(op.path);
  seen.count++;
  return RecordType.CGROUP;
}

function flagBits(flags: MountFlag[]): number {
  return flags.reduce((acc, f) => acc | FLAG_BITS[f], 0);
}

function encodeMount(op: MountOp, w: Writer): number {
  switch (op.op) {
    case 'tmpfs':
      w.path(op.dest, 'tmpfs').u32(op.mode).u64(BigInt(op.size)).u32(flagBits(op.flags));
      return RecordType.TMPFS;
    case 'bind':
      w.path(op.src, 'bind source').path(op.dest, 'bind').u64(op.dev).u64(op.ino);
      w.u32(op.kind === 'dir' ? 1 : 2).u32(flagBits(op.flags));
      return RecordType.BIND;
    case 'mkdir':
      w.path(op.dest, 'mkdir').u32(op.mode);
      return RecordType.MKDIR;
    case 'symlink':
      if (op.target === '') throw new PlanEncodeError(`symlink ${op.dest}: empty target`);
      w.str(op.target, 'symlink target').path(op.dest, 'symlink');
      return RecordType.SYMLINK;
    case 'file':
      w.path(op.dest, 'file').u32(op.mode).blob(op.content);
      return op.over ? RecordType.FILEOVER : RecordType.FILE;
    case 'proc':
      w.path(op.dest, 'proc');
      return RecordType.PROC;
    case 'devbind':
      w.path(op.src, 'device source').path(op.dest, 'device').u64(op.rdev);
      return RecordType.DEVBIND;
    case 'devpts':
      w.path(op.dest, 'devpts');
      return RecordType.DEVPTS;
    case 'remount':
      w.path(op.dest, 'remount').u32(flagBits(op.flags));
      return RecordType.REMOUNT;
    case 'bindself':
      w.path(op.dest, 'bindself').u32(flagBits(op.flags));
      return RecordType.BINDSELF;
    case 'deny':
      w.path(op.dest, 'deny').u32(op.kind === 'dir' ? 1 : 2);
      return RecordType.DENY;
  }
}

/** Encode a plan. Throws PlanEncodeError when a field cannot be represented. */
export function encodePlan(plan: LaunchPlan): Buffer {
  const records: Buffer[] = [];
  const rec = (fill: (w: Writer) => number): void => {
    const body = new Writer();
    const type = fill(body);
    const head = new Writer().u16(type).u16(0).u32(body.length);
    records.push(head.bytes(), body.bytes());
  };
  let count = 0;
  const add = (fill: (w: Writer) => number): void => {
    rec(fill);
    count++;
  };

  add((w) => (w.u32(plan.net ? 1 : 0), RecordType.NAMESPACES));
  add((w) => (w.u32(plan.uid).u32(plan.gid), RecordType.IDS));
  if (Buffer.byteLength(plan.hostname) > 64 || plan.hostname === '')
    throw new PlanEncodeError(`hostname must be 1 to 64 bytes`);
  add((w) => (w.str(plan.hostname, 'hostname'), RecordType.HOSTNAME));
  if (plan.verbose) add((w) => (w.u32(plan.verbose), RecordType.VERBOSE));
  const lifelines = plan.lifelines ?? [];
  if (lifelines.length > 16) throw new PlanEncodeError(`${lifelines.length} lifelines exceed 16`);
  for (const fd of lifelines) {
    if (!Number.isInteger(fd) || fd < 3 || fd > 0x7fffffff)
      throw new PlanEncodeError(`lifeline fd ${fd} is not a descriptor above 2`);
    add((w) => (w.u32(fd), RecordType.LIFELINE));
  }
  const tty = plan.tty;
  if (tty) {
    const bits = tty.fds.reduce((acc, fd) => acc | (1 << fd), 0);
    if (tty.fds.length === 0 || tty.fds.some((fd) => fd < 0 || fd > 2)) {
      throw new PlanEncodeError(`tty fds ${tty.fds.join(',')} are not among 0, 1, 2`);
    }
    if (!plan.mounts.some((m) => m.op === 'devpts' && m.dest === tty.devpts))
      throw new PlanEncodeError(`tty: no devpts mounted at ${tty.devpts}`);
    add(
      (w) => (
        w
          .path(tty.devpts, 'tty devpts')
          .u32(bits)
          .u32(tty.raw ? 1 : 0),
        RecordType.TTY
      ),
    );
  }
  if (plan.ipc) {
    const ipc = plan.ipc;
    const small = IPC_U32.map((k) => [k, ipc[k]] as const);
    for (const [k, v] of [['shm', ipc.shm] as const, ...small])
      if (!Number.isSafeInteger(v) || v <= 0 || (k !== 'shm' && v > 0x7fffffff))
        throw new PlanEncodeError(`ipc ${k} ${v} is not a positive number within its field`);
    add((w) => {
      w.u64(BigInt(ipc.shm));
      for (const [, v] of small) w.u32(v);
      return RecordType.IPC;
    });
  }
  if (plan.record) {
    const { dir, name, meta } = plan.record;
    if (name !== '' && !isSandboxName(name))
      throw new PlanEncodeError(`record: bad sandbox name ${JSON.stringify(name)}`);
    if (!meta.startsWith('{')) throw new PlanEncodeError('record: meta is not a JSON object');
    add((w) => (w.path(dir, 'record dir').str(name, 'record name').blob(Buffer.from(meta, 'utf8')), RecordType.RECORD));
  }
  if (plan.parent !== undefined) {
    const pid = plan.parent;
    if (!Number.isInteger(pid) || pid <= 1 || pid > 0x7fffffff) throw new PlanEncodeError(`parent pid ${pid}`);
    add((w) => (w.u32(pid), RecordType.PARENT));
  }
  const helper = plan.netHelper ?? [];
  const rules = plan.netRules ?? [];
  if ((helper.length || rules.length || plan.netListen) && !plan.net)
    throw new PlanEncodeError('a network helper, rules or a listening socket need a network namespace');
  if (helper.length > 64) throw new PlanEncodeError(`network helper of ${helper.length} arguments exceeds 64`);
  if (helper.length && !helper[0]!.startsWith('/'))
    throw new PlanEncodeError(`network helper ${helper[0]} is not an absolute path`);
  for (const a of helper) add((w) => (w.str(a, 'network helper argument'), RecordType.NETARG));
  if (rules.length > 256) throw new PlanEncodeError(`${rules.length} network rules exceed 256`);
  for (const r of rules) {
    if (r.addr.length !== (r.family === 4 ? 4 : 16) || r.prefix < 0 || r.prefix > r.addr.length * 8)
      throw new PlanEncodeError(
        `network rule ${Buffer.from(r.addr).toString('hex')}/${r.prefix} is not an IPv${r.family} prefix`,
      );
    add(
      (w) => (
        w
          .u32(r.family)
          .u32(r.prefix)
          .blob(r.addr)
          .u32(r.action === 'pass' ? 2 : 1),
        RecordType.NETRULE
      ),
    );
  }
  const listen = plan.netListen;
  if (listen) {
    if (!Number.isInteger(listen.port) || listen.port < 1 || listen.port > 65535)
      throw new PlanEncodeError(`listening port ${listen.port} is not 1 to 65535`);
    if (!lifelines.includes(listen.fd))
      throw new PlanEncodeError(`listening socket's fd ${listen.fd} is not a lifeline`);
    add((w) => (w.u32(listen.port).u32(listen.fd), RecordType.NETLISTEN));
  }
  const cgSeen: CgroupsSoFar = { dirs: [], count: 0 };
  for (const c of plan.cgroups ?? []) add((w) => encodeCgroup(c, w, cgSeen));
  if (plan.caps && plan.caps.length > 0) {
    let mask = 0n;
    for (const c of plan.caps) {
      if (!Number.isInteger(c) || c < 0 || c > MAX_CAP)
        throw new PlanEncodeError(`capability ${c} is not 0..${MAX_CAP}`);
      mask |= 1n << BigInt(c);
    }
    add((w) => (w.u64(mask), RecordType.CAPS));
  }
  const idmap = plan.idmap;
  if (idmap) {
    const text = (m: number[], what: string): string => {
      if (
        m.length === 0 ||
        m.length % 3 !== 0 ||
        m.length > 15 ||
        m.some((x) => !Number.isInteger(x) || x < 0 || x > 0xfffffffe)
      )
        throw new PlanEncodeError(`${what} map must be 1 to 5 triples of ids`);
      if (m[0] !== plan.uid && what === 'uid') throw new PlanEncodeError('uid map must start with the IDS uid');
      if (m[0] !== plan.gid && what === 'gid') throw new PlanEncodeError('gid map must start with the IDS gid');
      return m.join(' ');
    };
    const u = text(idmap.uid, 'uid');
    const g = text(idmap.gid, 'gid');
    add(
      (w) => (
        w.path(idmap.newuidmap, 'newuidmap').path(idmap.newgidmap, 'newgidmap').str(u, 'uid map').str(g, 'gid map'),
        RecordType.IDMAP
      ),
    );
  }
  for (const m of plan.mounts) add((w) => encodeMount(m, w));
  // At most MAX_DISCARDS (discardPaths keeps to it; plan.c refuses more).
  for (const d of plan.discard ?? []) add((w) => (w.path(d, 'discard'), RecordType.DISCARD));
  add((w) => (w.path(plan.cwd, 'cwd'), RecordType.CHDIR));
  for (const r of plan.rlimits) add((w) => (w.u32(r.resource).u64(r.soft).u64(r.hard), RecordType.RLIMIT));
  for (const e of plan.env) {
    if (!/^[^=]+=/.test(e)) throw new PlanEncodeError(`environment entry without NAME=: ${JSON.stringify(e)}`);
    add((w) => (w.str(e, 'environment entry'), RecordType.ENV));
  }
  if (plan.argv.length === 0) throw new PlanEncodeError('empty argv');
  for (const a of plan.argv) add((w) => (w.str(a, 'argument'), RecordType.ARGV));
  add((w) => (w.str(plan.exec.program, 'program').str(plan.exec.path, 'search path'), RecordType.EXEC));
  const ll = plan.landlock;
  if (ll) {
    add((w) => (w.u32(ll.abi).u64(ll.fs).u64(ll.net).u64(ll.scoped).u32(ll.flags), RecordType.LANDLOCK));
    for (const p of ll.paths) add((w) => (w.path(p.path, 'landlock path').u64(p.access), RecordType.LL_PATH));
    for (const p of ll.ports) add((w) => (w.u64(BigInt(p.port)).u64(p.access), RecordType.LL_PORT));
  }
  const sc = plan.seccomp;
  if (sc) {
    if (sc.program.length % 8 !== 0 || sc.program.length === 0 || sc.program.length > 4096 * 8) {
      throw new PlanEncodeError(`seccomp program of ${sc.program.length} bytes is not 1..4096 instructions`);
    }
    add((w) => (w.u32(sc.flags).blob(sc.program), RecordType.SECCOMP));
  }
  const rep = plan.report;
  if (rep) {
    if (rep.fd !== undefined && !lifelines.includes(rep.fd))
      throw new PlanEncodeError(`report fd ${rep.fd} is not a lifeline`);
    if (rep.syscalls.length > 0 && !sc) throw new PlanEncodeError('reported syscalls without a seccomp filter');
    add((w) => (w.u32(rep.fd ?? 0xffffffff).u32((rep.summary ? 1 : 0) | (rep.learn ? 2 : 0)), RecordType.REPORT));
    const nrs = new Set<number>();
    for (const r of rep.syscalls) {
      if (!Number.isInteger(r.nr) || r.nr < 0 || r.nr >= 1024 || nrs.has(r.nr))
        throw new PlanEncodeError(`reported syscall ${r.nr} is not a distinct number below 1024`);
      // errno 0: a call let go on, only when learning.
      const lowest = rep.learn ? 0 : 1;
      if (!Number.isInteger(r.errno) || r.errno < lowest || r.errno > 4095)
        throw new PlanEncodeError(`reported syscall ${r.nr}: errno ${r.errno} is not ${lowest}..4095`);
      if (!r.json.startsWith('{')) throw new PlanEncodeError(`reported syscall ${r.nr}: json is not an object`);
      nrs.add(r.nr);
      add(
        (w) => (
          w.u32(r.nr).u32(r.errno).str(r.json, 'report json').str(r.hint, 'report hint'),
          RecordType.REPORT_SYSCALL
        ),
      );
    }
    if (rep.dbus) {
      const d = rep.dbus;
      if (!lifelines.includes(d.fd) || d.fd === rep.fd)
        throw new PlanEncodeError(`report: the D-Bus log fd ${d.fd} is not a lifeline of its own`);
      if (!d.talk.startsWith('{') || !d.own.startsWith('{'))
        throw new PlanEncodeError('report: the D-Bus json is not an object');
      add((w) => (w.u32(d.fd).str(d.talk, 'report json').str(d.own, 'report json'), RecordType.REPORT_DBUS));
    }
    const arg = (a: number | undefined, what: string): number => {
      if (a === undefined) return 0xffffffff;
      if (!Number.isInteger(a) || a < 0 || a > 5) throw new PlanEncodeError(`reported path: ${what} ${a} is not 0..5`);
      return a;
    };
    for (const p of rep.paths ?? []) {
      if (!Number.isInteger(p.nr) || p.nr < 0 || p.nr >= 1024 || nrs.has(p.nr))
        throw new PlanEncodeError(`reported path call ${p.nr} is not a distinct number below 1024`);
      if (!p.json.startsWith('{')) throw new PlanEncodeError(`reported path call ${p.nr}: json is not an object`);
      nrs.add(p.nr);
      const pa = arg(p.pathArg, 'path argument');
      const da = arg(p.dirfdArg, 'dirfd argument');
      const fa = arg(p.flagsArg, 'flags argument');
      add(
        (w) => (
          w.u32(p.nr).u32(pa).u32(da).u32(fa).str(p.json, 'report json').str(p.hint, 'report hint'),
          RecordType.REPORT_PATH
        ),
      );
    }
    if ((rep.landlock ?? []).length > 0 && (!plan.landlock || (rep.paths ?? []).length === 0))
      throw new PlanEncodeError('report: Landlock advice without a Landlock plan and reported paths');
    for (const l of rep.landlock ?? []) {
      if (l.access <= 0n) throw new PlanEncodeError(`report: Landlock advice at ${l.path} for no right`);
      if (!l.json.startsWith('{'))
        throw new PlanEncodeError(`report: Landlock advice at ${l.path}: json is not an object`);
      add(
        (w) => (
          w.path(l.path, 'report path').u64(l.access).str(l.json, 'report json').str(l.hint, 'report hint'),
          RecordType.REPORT_LANDLOCK
        ),
      );
    }
  }

  const bodyLen = records.reduce((n, b) => n + b.length, 0);
  if (16 + bodyLen > MAX_PLAN) throw new PlanEncodeError(`plan of ${16 + bodyLen} bytes exceeds ${MAX_PLAN}`);
  if (count > MAX_RECORDS) throw new PlanEncodeError(`plan of ${count} records exceeds ${MAX_RECORDS}`);
  const header = new Writer()
    .u32(PLAN_MAGIC)
    .u32(PLAN_VERSION)
    .u32(16 + bodyLen)
    .u32(count);
  return Buffer.concat([header.bytes(), ...records], 16 + bodyLen);
}
