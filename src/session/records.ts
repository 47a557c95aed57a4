/**
 * Running sandboxes, as `tsjail ps`, `enter` and `stop` see them. The shim's
 * monitor keeps each sandbox's record (shim-c/record.c) in the caller's
 * record directory for exactly its own lifetime; a monitor killed with
 * SIGKILL leaves its files behind, so every record is checked against the
 * live process (its pid and its start time since boot, which a reused pid
 * does not have) and a stale one is removed before anything is shown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';

/** What run puts in a record (the plan's RECORD meta). */
export interface SandboxMeta {
  name: string;
  profile: string;
  program: string;
  argv: string[];
  cwd: string;
  layers: {
    namespaces: string[];
    landlock: number | null;
    seccomp: { arch: string; instructions: number } | null;
    network: string;
  };
}

export interface Sandbox {
  id: string;
  /** The shim's monitor: the process `tsjail run` became, outside the sandbox. */
  pid: number;
  monitorStart: bigint;
  /** The sandbox's init (PID 1 inside), as the host sees it. */
  init: number;
  /** Milliseconds since the epoch. */
  started: number;
  meta: SandboxMeta;
  /** The plan the sandbox was started with. */
  planFile: string;
}

/**
 * The caller's record directory: `$XDG_RUNTIME_DIR/tsjail` when that is a
 * directory of the caller's, else `/tmp/tsjail-UID` (which the shim makes
 * 0700, and refuses when someone else made it).
 */
export function recordDir(env: NodeJS.ProcessEnv, uid: number): string {
  const rt = env.XDG_RUNTIME_DIR;
  if (rt && path.isAbsolute(rt)) {
    const st = fs.statSync(rt, { throwIfNoEntry: false });
    if (st?.isDirectory() && st.uid === uid) return path.join(path.resolve(rt), 'tsjail');
  }
  return `/tmp/tsjail-${uid}`;
}

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot), or
 * undefined when the process is gone or dead (a zombie nobody reaped yet).
 */
export function procStartTime(pid: number): bigint | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const v = fields[19];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : undefined;
}

/** The real uid of a process (/proc/PID/status), or undefined. */
function procUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function parseRecord(dir: string, file: string): Sandbox | undefined {
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  } catch {
    return undefined;
  }
  const r = j as Record<string, unknown>;
  if (r.v !== 1 || typeof r.id !== 'string' || `${r.id}.json` !== file) return undefined;
  if (typeof r.monitor !== 'number' || typeof r.init !== 'number' || typeof r.started !== 'number') return undefined;
  if (typeof r.monitorStart !== 'number' || typeof r.meta !== 'object' || r.meta === null) return undefined;
  return {
    id: r.id,
    pid: r.monitor,
    monitorStart: BigInt(r.monitorStart),
    init: r.init,
    started: r.started,
    meta: r.meta as SandboxMeta,
    planFile: path.join(dir, `${r.id}.plan`),
  };
}

/** Whether the record's monitor is the live process it names, and the caller's. */
export function isLive(s: Sandbox, uid: number): boolean {
  return procStartTime(s.pid) === s.monitorStart && procUid(s.pid) === uid;
}

/** Remove a dead sandbox's files (its name only when it still names this sandbox). */
export function removeRecord(dir: string, s: Pick<Sandbox, 'id' | 'meta'>): void {
  for (const f of [`${s.id}.json`, `${s.id}.plan`]) fs.rmSync(path.join(dir, f), { force: true });
  if (s.meta.name) {
    const link = path.join(dir, `${s.meta.name}.name`);
    try {
      if (fs.readlinkSync(link).split(':')[0] === s.id) fs.rmSync(link, { force: true });
    } catch {
      /* no such name */
    }
  }
}

/** The caller's running sandboxes, oldest first; stale records are removed on the way. */
export function listSandboxes(dir: string, uid: number): Sandbox[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Sandbox[] = [];
  for (const f of names) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const s = parseRecord(dir, f);
    if (!s) continue;
    if (isLive(s, uid)) out.push(s);
    else removeRecord(dir, s);
  }
  return out.sort((a, b) => a.started - b.started || a.id.localeCompare(b.id));
}

/** A running sandbox by ID, unique ID prefix or name; 125 when there is none of the caller's. */
export function findSandbox(dir: string, uid: number, ref: string): Sandbox {
  const all = listSandboxes(dir, uid);
  const byName = all.filter((s) => s.meta.name === ref);
  if (byName.length === 1) return byName[0]!;
  const byId = all.filter((s) => s.id === ref || (ref.length >= 4 && s.id.startsWith(ref)));
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) throw new TsjailError(`${ref}: more than one sandbox has an ID starting so`);
  throw new TsjailError(`${ref}: no running sandbox of yours has this ID or name (see tsjail ps)`);
}

/**
 * The sandbox's program (PID 2 inside, the child of init): its host pid and
 * start time, the process whose namespaces `enter` joins.
 */
export function programProcess(s: Sandbox): { pid: number; start: bigint } {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${e}/status`, 'utf8');
    } catch {
      continue;
    }
    const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
    const nspid = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (Number(ppid) !== s.init || nspid?.[nspid.length - 1] !== '2') continue;
    const start = procStartTime(Number(e));
    if (start !== undefined) return { pid: Number(e), start };
  }
  throw new TsjailError(`${s.id}: the sandbox's program is not running (it is starting or ending)`);
}

/**
 * The processes and threads that count against the sandbox's RLIMIT_NPROC
 * (Linux 5.14 and later count it per user namespace): the tasks of every
 * process in its program's user namespace (entered commands included) and
 * of their descendants (a namespace a program made below its own). Zombies
 * count until reaped, as the kernel counts them. Undefined when the program
 * cannot be looked at.
 */
export function sandboxTasks(program: number): number | undefined {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${program}/ns/user`);
  } catch {
    return undefined;
  }
  const procs = new Map<number, { ppid: number; threads: number }>();
  const members = new Set<number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = fs.readFileSync(`/proc/${e}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
      procs.set(Number(e), { ppid, threads });
      if (fs.readlinkSync(`/proc/${e}/ns/user`) === ns) members.add(Number(e));
    } catch {
      // gone, or another user's process: not the sandbox's
    }
  }
  let total = 0;
  for (const [pid, p] of procs) {
    // Up the parents until a member (or the top): a member's descendant counts too.
    let at: number | undefined = pid;
    const seen = new Set<number>();
    while (at !== undefined && at > 0 && !members.has(at) && !seen.has(at)) {
      seen.add(at);
      at = procs.get(at)?.ppid;
    }
    if (at !== undefined && members.has(at)) total += p.threads;
  }
  return total;
}
