/**
 * Where the sandbox's cgroups go and what is written into them: the CGROUP
 * and CGWRITE records of the launch plan (shim-c/PLAN.md), which the shim's
 * monitor applies before the clone and removes after the sandbox.
 *
 * Two ways, chosen by `chooseCgroups`:
 *   - cgroup v1 (a hybrid or legacy machine): one directory per controller,
 *     `sb-PID-START` below the subtree `tsjail setup-limits` delegated to the
 *     caller (config.ts), PID and START being the monitor's (the process
 *     that is tsjail now and the shim after execve, or the C entry point
 *     running a cached plan), which the monitor names itself;
 *   - cgroup v2 under systemd: a transient scope with Delegate=yes (systemd.ts)
 *     that holds the monitor; inside it the monitor moves itself into
 *     `supervisor`, enables the controllers for the scope's children and puts
 *     the sandbox into `sandbox` (v2 forbids processes in a cgroup whose
 *     children have controllers).
 * v1's records depend only on the administrator's file and the hierarchies,
 * so a cached plan holds them; a systemd scope is asked for at each launch.
 */
import * as fs from 'node:fs';
import type { CgroupOp } from '../plan/plan.js';
import { readLimitsConfig, type Subtree } from './config.js';
import {
  CONTROLLERS,
  hierarchies,
  hierarchyOf,
  realFs,
  type Controller,
  type FsView,
  type Hierarchy,
} from './layout.js';
import { systemdScopeAvailable } from './systemd.js';

/** The limits asked for: bytes, processes, CPUs. */
export interface Wanted {
  memory?: number;
  pids?: number;
  cpu?: number;
}

export const CPU_PERIOD_US = 100_000;

export function wantedControllers(w: Wanted): Controller[] {
  return CONTROLLERS.filter((c) => w[c] !== undefined);
}

/** 268435456 -> "256M", for messages. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['G', 2 ** 30],
    ['M', 2 ** 20],
    ['K', 2 ** 10],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n} bytes`;
}

export function oomMessage(w: Wanted): string {
  return `tsjail: the sandbox reached its memory limit (limits.memory ${formatBytes(w.memory ?? 0)}) and was killed`;
}

/** The monitor's identity in a cgroup's name: "sb-PID-START" (START: /proc/PID/stat field 22). */
export function sandboxName(pid: number, start: string): string {
  return `sb-${pid}-${start}`;
}

/** Field 22 of /proc/PID/stat, the process's start time in clock ticks since boot. */
export function startTime(pid: number | 'self', view: FsView = realFs): string | undefined {
  const stat = view.read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/**
 * v1: the records for a sandbox in the caller's delegated subtree: in each
 * controller's directory a `named` cgroup, `sb-PID-START` after the monitor
 * (which names it: the records are the same at every launch, a cached
 * plan's too), and its control files by their bare names.
 */
export function placeV1(w: Wanted, subtree: Subtree, view: FsView): CgroupOp[] {
  const ops: CgroupOp[] = [];
  for (const c of wantedControllers(w)) {
    const base = subtree.dirs[c]!;
    if (c === 'memory') {
      ops.push({ op: 'cgroup', path: base, procs: true, self: false, oom: 'v1', message: oomMessage(w), named: true });
      ops.push({ op: 'write', path: 'memory.limit_in_bytes', value: String(w.memory) });
      // Without swap accounting there is no memsw file: swap is then not
      // counted (doctor says so); with it, memory plus swap is the same cap.
      if (view.exists(`${base}/memory.memsw.limit_in_bytes`))
        ops.push({ op: 'write', path: 'memory.memsw.limit_in_bytes', value: String(w.memory) });
    } else {
      ops.push({ op: 'cgroup', path: base, procs: true, self: false, named: true });
      if (c === 'pids') ops.push({ op: 'write', path: 'pids.max', value: String(w.pids) });
      else {
        ops.push({ op: 'write', path: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) });
        ops.push({ op: 'write', path: 'cpu.cfs_quota_us', value: String(cpuQuota(w.cpu!)) });
      }
    }
  }
  return ops;
}

export function cpuQuota(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

/** v2: the records inside a delegated scope whose directory is `scope`. */
export function placeV2(w: Wanted, scope: string, view: FsView): CgroupOp[] {
  const offered = (view.read(`${scope}/cgroup.controllers`) ?? '').trim().split(/\s+/);
  const cs = wantedControllers(w).filter((c) => offered.includes(c));
  const sb = `${scope}/sandbox`;
  const ops: CgroupOp[] = [
    { op: 'cgroup', path: `${scope}/supervisor`, self: true, procs: false },
    { op: 'write', path: `${scope}/cgroup.subtree_control`, value: cs.map((c) => `+${c}`).join(' ') },
    cs.includes('memory')
      ? { op: 'cgroup', path: sb, procs: true, self: false, oom: 'v2', message: oomMessage(w) }
      : { op: 'cgroup', path: sb, procs: true, self: false },
  ];
  if (cs.includes('memory')) {
    ops.push({ op: 'write', path: `${sb}/memory.max`, value: String(w.memory) });
    if (view.exists(`${scope}/memory.swap.max`)) ops.push({ op: 'write', path: `${sb}/memory.swap.max`, value: '0' });
    ops.push({ op: 'write', path: `${sb}/memory.oom.group`, value: '1' });
  }
  if (cs.includes('pids')) ops.push({ op: 'write', path: `${sb}/pids.max`, value: String(w.pids) });
  if (cs.includes('cpu'))
    ops.push({ op: 'write', path: `${sb}/cpu.max`, value: `${cpuQuota(w.cpu!)} ${CPU_PERIOD_US}` });
  return ops;
}

export type Choice =
  | { kind: 'v1'; subtree: Subtree; enforced: Controller[] }
  | { kind: 'systemd'; enforced: Controller[] }
  | { kind: 'none'; enforced: [] };

export interface Decision {
  choice: Choice;
  /** Controllers asked for that cannot be had here, each with why. */
  missing: { controller: Controller; reason: string }[];
}

export interface Host {
  uid: number;
  env: NodeJS.ProcessEnv;
  hierarchies?: Hierarchy[];
  subtrees?: Subtree[];
  view?: FsView;
}

/** A subtree directory usable by `uid`: a directory it owns. */
function ownedDir(dir: string, uid: number): string | undefined {
  try {
    const st = fs.statSync(dir);
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not ${uid}`;
    return undefined;
  } catch {
    return `${dir} does not exist (any more)`;
  }
}

const ADMIN_HINT = 'an administrator runs `tsjail setup-limits USER` (see tsjail doctor)';

/** Which way the wanted limits can be enforced here, and which cannot. */
export function chooseCgroups(w: Wanted, host: Host): Decision {
  const wanted = wantedControllers(w);
  if (wanted.length === 0) return { choice: { kind: 'none', enforced: [] }, missing: [] };
  const hs = host.hierarchies ?? hierarchies(host.view);
  const view = host.view ?? realFs;
  const v1 = wanted.filter((c) => hierarchyOf(hs, c)?.version === 1);
  if (v1.length === 0) {
    const sd = systemdScopeAvailable(hs, host.uid, host.env, view);
    if (sd.ok) {
      const v2 = hs.find((h) => h.version === 2)!;
      const enforced = wanted.filter((c) => v2.controllers.includes(c));
      const missing = wanted
        .filter((c) => !enforced.includes(c))
        .map((controller) => ({ controller, reason: `the ${controller} controller is not enabled in cgroup v2` }));
      return { choice: { kind: 'systemd', enforced }, missing };
    }
    return {
      choice: { kind: 'none', enforced: [] },
      missing: wanted.map((controller) => ({
        controller,
        reason: hierarchyOf(hs, controller)
          ? `cgroup v2 without a delegated cgroup: ${sd.reason}`
          : `no cgroup hierarchy has the ${controller} controller`,
      })),
    };
  }
  // v1 controllers: the caller's entry in the administrator's file.
  let subtrees = host.subtrees;
  let configError: string | undefined;
  if (!subtrees) {
    try {
      subtrees = readLimitsConfig().subtrees;
    } catch (e) {
      configError = (e as Error).message;
      subtrees = [];
    }
  }
  const mine = subtrees.filter((s) => s.uid === host.uid);
  let best: { subtree: Subtree; enforced: Controller[] } | undefined;
  const why = new Map<Controller, string>();
  for (const s of mine) {
    const enforced: Controller[] = [];
    for (const c of wanted) {
      const dir = s.dirs[c];
      const bad = dir === undefined ? `the subtree has no ${c} cgroup` : ownedDir(dir, host.uid);
      if (bad === undefined) enforced.push(c);
      else if (!why.has(c)) why.set(c, bad);
    }
    if (!best || enforced.length > best.enforced.length) best = { subtree: s, enforced };
  }
  const enforced = best?.enforced ?? [];
  const missing = wanted
    .filter((c) => !enforced.includes(c))
    .map((controller) => ({
      controller,
      reason:
        configError ??
        (mine.length === 0
          ? `no cgroup subtree is delegated to uid ${host.uid} in /etc/tsjail/limits.json5: ${ADMIN_HINT}`
          : `${why.get(controller) ?? 'not delegated'}: ${ADMIN_HINT}`),
    }));
  if (!best || enforced.length === 0) return { choice: { kind: 'none', enforced: [] }, missing };
  return { choice: { kind: 'v1', subtree: best.subtree, enforced }, missing };
}

/**
 * limits.pids without a pids cgroup. Since Linux 5.14 RLIMIT_NPROC counts a
 * user's tasks in one user namespace and the namespaces below it, not all of
 * that user's tasks on the machine (the kernel's ucounts, "Reimplement
 * RLIMIT_NPROC on top of ucounts"). Set in the sandbox's user namespace as a
 * hard limit, it caps the processes and threads of the sandbox's program and
 * its descendants, entered commands included, like pids.max (fork and clone
 * fail with EAGAIN), and nothing inside can raise it (that takes
 * CAP_SYS_RESOURCE in the initial namespace). Two exceptions: before 5.14 it
 * counts all of the user's processes, and the kernel never applies it to
 * uid 0's tasks, so a root caller's sandbox is not capped by it.
 */
export function nprocPerUserns(uid: number, release: string): { ok: true } | { ok: false; reason: string } {
  if (uid === 0) return { ok: false, reason: 'the kernel does not apply RLIMIT_NPROC to uid 0, the caller here' };
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m || Number(m[1]) * 1000 + Number(m[2]) < 5014)
    return {
      ok: false,
      reason: `Linux ${release} counts RLIMIT_NPROC per user, not per user namespace (5.14 and later do)`,
    };
  return { ok: true };
}

/** A decision whose missing pids are enforced as the user namespace's process limit instead, where it can be. */
export interface LimitsDecision extends Decision {
  /** limits.pids by RLIMIT_NPROC in the sandbox's user namespace (no pids cgroup here). */
  nproc: boolean;
}

/** chooseCgroups, then limits.pids through nprocPerUserns where no pids cgroup can be had. */
export function chooseLimits(w: Wanted, host: Host, release: string): LimitsDecision {
  const d = chooseCgroups(w, host);
  const pids = d.missing.find((m) => m.controller === 'pids');
  if (!pids) return { ...d, nproc: false };
  const alt = nprocPerUserns(host.uid, release);
  if (alt.ok) return { choice: d.choice, missing: d.missing.filter((m) => m !== pids), nproc: true };
  const missing = d.missing.map((m) => (m === pids ? { ...m, reason: `${m.reason}; ${alt.reason}` } : m));
  return { choice: d.choice, missing, nproc: false };
}

/** The wanted limits reduced to those a choice enforces. */
export function only(w: Wanted, cs: Controller[]): Wanted {
  const out: Wanted = {};
  for (const c of cs) if (w[c] !== undefined) out[c] = w[c];
  return out;
}

/**
 * Remove the cgroups of the caller's dead sandboxes in its subtree: `sb-PID-START`
 * directories whose monitor is gone (no such process, or another one with that
 * pid), left behind when the monitor and its cleaner were both killed. rmdir
 * removes only an empty cgroup; a live sandbox's is never touched. Returns the
 * directories removed.
 */
export function sweepDead(subtree: Subtree, view: FsView = realFs): string[] {
  const removed: string[] = [];
  for (const base of Object.values(subtree.dirs)) {
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^sb-(\d+)-(\d+)$/.exec(name);
      if (!m || startTime(Number(m[1]), view) === m[2]) continue;
      try {
        fs.rmdirSync(`${base}/${name}`);
        removed.push(`${base}/${name}`);
      } catch {
        // Busy (still emptying) or already gone: the next launch retries.
      }
    }
  }
  return removed;
}

/** A use and its cap, read from a cgroup's files (`limit` undefined: none). */
export interface Use {
  current: number;
  limit?: number;
}

/** What `tsjail ps` shows of a sandbox's cgroups: memory and pids use, with their limits. */
export interface SandboxUsage {
  memory?: Use;
  pids?: Use;
}

/**
 * The memory and pids use of a sandbox from its own cgroup directories (v1
 * controllers' or a v2 `sandbox`), as the kernel counts them: memory.current
 * or memory.usage_in_bytes (every page charged to it, tmpfs and shared
 * memory included) against memory.max or memory.limit_in_bytes, pids.current
 * against pids.max. A controller without a directory is absent: the sandbox
 * is not limited there, and its use is not counted.
 */
export function cgroupUsage(dirs: string[], view: FsView = realFs): SandboxUsage {
  const out: SandboxUsage = {};
  for (const dir of dirs) {
    const num = (f: string): number | undefined => {
      const v = view.read(`${dir}/${f}`)?.trim();
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const mem = num('memory.current') ?? num('memory.usage_in_bytes');
    if (mem !== undefined && !out.memory) {
      const limit = num('memory.max') ?? num('memory.limit_in_bytes');
      // v1 says "no limit" with the largest page-aligned number; v2 with "max".
      out.memory = limit !== undefined && limit < 2 ** 62 ? { current: mem, limit } : { current: mem };
    }
    const pids = num('pids.current');
    if (pids !== undefined && !out.pids) {
      const limit = num('pids.max');
      out.pids = limit !== undefined ? { current: pids, limit } : { current: pids };
    }
  }
  return out;
}
