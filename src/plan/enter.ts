/**
 * The plan of `tsjail enter`: built from the plan a running sandbox was
 * started with (its record's ID.plan, the bytes its shim read), so the
 * entered command gets exactly that sandbox's process records (ids,
 * working directory, rlimits, environment, Landlock rules, seccomp filter)
 * and nothing of a profile that may have changed since. The mounts and the
 * rest of the set-up are dropped (the sandbox exists); an ENTER record
 * names the program whose namespaces the shim joins, a CGJOIN record each
 * of the sandbox's own cgroups (sandboxCgroups), which the entered command
 * joins so the sandbox's limits hold for it too, and the command replaces
 * ARGV and EXEC. Only record headers and the few strings needed
 * are read: the records kept are copied byte for byte.
 */
import {
  CG_NAMED,
  CG_PROCS,
  MAX_PLAN,
  PLAN_MAGIC,
  PLAN_VERSION,
  PlanEncodeError,
  RecordType,
  Writer,
} from './encode.js';

/** Records of the sandbox's plan that the entered command keeps as they are. */
const KEPT: ReadonlySet<number> = new Set([
  RecordType.NAMESPACES,
  RecordType.IDS,
  RecordType.CHDIR,
  RecordType.RLIMIT,
  RecordType.ENV,
  RecordType.LANDLOCK,
  RecordType.LL_PATH,
  RecordType.LL_PORT,
  RecordType.SECCOMP,
]);

export interface SavedRecord {
  type: number;
  /** The whole record, header included. */
  bytes: Buffer;
  payload: Buffer;
}

/** The records of an encoded plan; throws on a plan that does not frame. */
export function splitPlan(buf: Buffer): SavedRecord[] {
  if (buf.length < 16 || buf.readUInt32LE(0) !== PLAN_MAGIC) throw new PlanEncodeError('not a launch plan');
  if (buf.readUInt32LE(4) !== PLAN_VERSION) throw new PlanEncodeError(`plan version ${buf.readUInt32LE(4)}`);
  if (buf.readUInt32LE(8) !== buf.length) throw new PlanEncodeError('plan length does not match');
  const out: SavedRecord[] = [];
  let off = 16;
  for (let i = buf.readUInt32LE(12); i > 0; i--) {
    if (off + 8 > buf.length) throw new PlanEncodeError('record header past the end');
    const size = buf.readUInt32LE(off + 4);
    if (off + 8 + size > buf.length) throw new PlanEncodeError('record past the end');
    out.push({
      type: buf.readUInt16LE(off),
      bytes: buf.subarray(off, off + 8 + size),
      payload: buf.subarray(off + 8, off + 8 + size),
    });
    off += 8 + size;
  }
  if (off !== buf.length) throw new PlanEncodeError('bytes after the last record');
  return out;
}

/** The first `str` fields of a payload. */
function strings(payload: Buffer, n: number): string[] {
  const out: string[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const len = payload.readUInt32LE(off);
    out.push(payload.subarray(off + 4, off + 4 + len).toString('utf8'));
    off += 4 + len;
  }
  return out;
}

export interface SavedPlanFacts {
  /** Where the sandbox's devpts is mounted (for the entered command's pty). */
  devpts?: string;
  /** The program's search path (EXEC's path field). */
  path: string;
  /** The program's environment. */
  env: string[];
  cwd?: string;
}

export function savedPlanFacts(buf: Buffer): SavedPlanFacts {
  const facts: SavedPlanFacts = { path: '/usr/local/bin:/usr/bin:/bin', env: [] };
  for (const r of splitPlan(buf)) {
    if (r.type === RecordType.DEVPTS && facts.devpts === undefined) facts.devpts = strings(r.payload, 1)[0];
    else if (r.type === RecordType.EXEC) facts.path = strings(r.payload, 2)[1]!;
    else if (r.type === RecordType.ENV) facts.env.push(strings(r.payload, 1)[0]!);
    else if (r.type === RecordType.CHDIR) facts.cwd = strings(r.payload, 1)[0];
  }
  return facts;
}

/** The sandbox's monitor: its host pid and start time (clock ticks since boot). */
export interface MonitorId {
  pid: number;
  start: bigint;
}

/**
 * The cgroups the sandbox started with `saved` runs in: its CGROUP records
 * with PROCS (those init was moved into), a NAMED one completed with the
 * name its monitor gave it (`sb-PID-START`, shim-c/cgroup.c). Host paths,
 * in plan order; none for a sandbox without limits.
 */
export function sandboxCgroups(saved: Buffer, monitor: MonitorId): string[] {
  const out: string[] = [];
  for (const r of splitPlan(saved)) {
    if (r.type !== RecordType.CGROUP) continue;
    const dir = strings(r.payload, 1)[0]!;
    const flags = r.payload.readUInt32LE(4 + r.payload.readUInt32LE(0));
    if (!(flags & CG_PROCS)) continue;
    out.push(flags & CG_NAMED ? `${dir}/sb-${monitor.pid}-${monitor.start}` : dir);
  }
  return out;
}

/** The hard limit of the sandbox's RLIMIT record for `resource` (setrlimit's number), if its plan has one. */
export function sandboxRlimit(saved: Buffer, resource: number): bigint | undefined {
  let out: bigint | undefined;
  for (const r of splitPlan(saved))
    if (r.type === RecordType.RLIMIT && r.payload.readUInt32LE(0) === resource) out = r.payload.readBigUInt64LE(12);
  return out;
}

export interface EnterRequest {
  /** The sandbox's program: host pid and start time (clock ticks since boot). */
  pid: number;
  start: bigint;
  argv: string[];
  /** Relay the caller's terminal: which of 0-2 are terminals, raw mode. */
  tty?: { fds: number[]; raw: boolean };
  verbose: number;
  /** The sandbox's monitor, whose pid and start time name its cgroups. */
  monitor: MonitorId;
}

/** The plan that enters the sandbox started with `saved`. */
export function enterPlan(saved: Buffer, req: EnterRequest): Buffer {
  const facts = savedPlanFacts(saved);
  const parts: Buffer[] = [];
  let count = 0;
  const add = (type: number, fill: (w: Writer) => void): void => {
    const body = new Writer();
    fill(body);
    parts.push(new Writer().u16(type).u16(0).u32(body.length).bytes(), body.bytes());
    count++;
  };
  for (const r of splitPlan(saved)) {
    if (!KEPT.has(r.type)) continue;
    parts.push(r.bytes);
    count++;
  }
  if (req.argv.length === 0) throw new PlanEncodeError('empty argv');
  add(RecordType.ENTER, (w) => w.u32(req.pid).u64(req.start));
  for (const dir of sandboxCgroups(saved, req.monitor)) add(RecordType.CGJOIN, (w) => w.path(dir, 'cgroup to join'));
  for (const a of req.argv) add(RecordType.ARGV, (w) => w.str(a, 'argument'));
  add(RecordType.EXEC, (w) => w.str(req.argv[0]!, 'program').str(facts.path, 'search path'));
  if (req.verbose) add(RecordType.VERBOSE, (w) => w.u32(req.verbose));
  if (req.tty) {
    if (!facts.devpts) throw new PlanEncodeError('the sandbox has no devpts for a terminal');
    const bits = req.tty.fds.reduce((acc, fd) => acc | (1 << fd), 0);
    const raw = req.tty.raw ? 1 : 0;
    add(RecordType.TTY, (w) => w.path(facts.devpts!, 'tty devpts').u32(bits).u32(raw));
  }
  const body = Buffer.concat(parts);
  if (16 + body.length > MAX_PLAN) throw new PlanEncodeError('plan too large');
  const head = new Writer()
    .u32(PLAN_MAGIC)
    .u32(PLAN_VERSION)
    .u32(16 + body.length)
    .u32(count);
  return Buffer.concat([head.bytes(), body]);
}
