/**
 * `tsjail ps`, `tsjail enter` and `tsjail stop`: the caller's running
 * sandboxes (src/session/records.ts), joined or ended through their
 * monitor's records. Another user's sandboxes are in that user's record
 * directory, never in the caller's, and a record whose monitor is not the
 * caller's own process is taken as stale.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { Command, Option } from 'clipanion';
import { cgroupUsage, type SandboxUsage, type Use } from '../cgroup/index.js';
import { TsjailError } from '../errors.js';
import { execPlan } from '../launch/exec.js';
import { RLIMITS } from '../launch/limits.js';
import { RLIM_INFINITY } from '../plan/plan.js';
import { findShim } from '../launch/shim-path.js';
import { enterPlan, sandboxCgroups, sandboxRlimit } from '../plan/enter.js';
import {
  findSandbox,
  isLive,
  listSandboxes,
  programProcess,
  recordDir,
  removeRecord,
  sandboxTasks,
} from '../session/records.js';
import type { Sandbox } from '../session/records.js';
import { closeFd, pidfdOpen, pidfdSignal } from '../sys/kernel.js';
import { BaseCommand } from './base.js';
import { currentCaller } from './context.js';
import { out, say } from './output.js';

const RLIMIT_NPROC = RLIMITS.nproc!.resource;

function layers(s: Sandbox): string {
  const l = s.meta.layers;
  return [
    `ns:${l.namespaces.join(',')}`,
    l.landlock ? `landlock:${l.landlock}` : 'landlock:-',
    l.seccomp ? `seccomp:${l.seccomp.instructions}` : 'seccomp:-',
    `net:${l.network}`,
  ].join(' ');
}

/**
 * The sandbox's memory and pids use, from the cgroups its plan put it in
 * (none without limits); undefined when its plan cannot be read.
 */
function usage(s: Sandbox): SandboxUsage | undefined {
  try {
    const saved = fs.readFileSync(s.planFile);
    const u = cgroupUsage(sandboxCgroups(saved, { pid: s.pid, start: s.monitorStart }));
    // Without a pids cgroup, its process limit (RLIMIT_NPROC) and the tasks that count against it.
    const nproc = u.pids ? undefined : sandboxRlimit(saved, RLIMIT_NPROC);
    if (nproc !== undefined && nproc !== RLIM_INFINITY) {
      let current: number | undefined;
      try {
        current = sandboxTasks(programProcess(s).pid);
      } catch {
        // starting or ending: its tasks are not counted now
      }
      if (current !== undefined) u.pids = { current, limit: Number(nproc) };
    }
    return u;
  } catch {
    return undefined;
  }
}

/** 13107200 -> "12.5M". */
function humanBytes(n: number): string {
  const units = ['K', 'M', 'G', 'T'];
  let v = n;
  let u = '';
  for (const next of units) {
    if (v < 1024) break;
    v /= 1024;
    u = next;
  }
  return u === '' ? String(n) : `${v < 10 ? v.toFixed(1) : Math.round(v)}${u}`.replace('.0', '');
}

/** "12.5M/128M", "3/64"; "no limit" where the sandbox has no cgroup of that controller (its use is not counted). */
function useCell(u: SandboxUsage | undefined, which: 'memory' | 'pids'): string {
  if (!u) return '?';
  const x: Use | undefined = u[which];
  if (!x) return 'no limit';
  const f = which === 'memory' ? humanBytes : String;
  return x.limit === undefined ? `${f(x.current)}/max` : `${f(x.current)}/${f(x.limit)}`;
}

/** The machine-readable form of `ps --json` (completions read `id` and `name`). */
function asJson(s: Sandbox, u: SandboxUsage | undefined): Record<string, unknown> {
  return {
    id: s.id,
    name: s.meta.name || null,
    profile: s.meta.profile,
    program: s.meta.program,
    argv: s.meta.argv,
    pid: s.pid,
    init: s.init,
    started: new Date(s.started).toISOString(),
    cwd: s.meta.cwd,
    layers: s.meta.layers,
    // null: no cgroup of that controller (not limited, use not counted).
    memory: u?.memory ?? null,
    pids: u?.pids ?? null,
  };
}

export class PsCommand extends BaseCommand {
  static override paths = [['ps']];
  static override usage = Command.Usage({
    description: "the caller's running sandboxes",
    details: `
      ID, name, profile, the monitor PID, start time, memory and process use against the sandbox's limits (its cgroup's
      counts, or without a pids cgroup the tasks counted against its process limit: "no limit" where it has none, its
      use then not counted), program and the layers in force.
    `,
    examples: [['As JSON, one array', '$0 ps --json']],
  });
  json = Option.Boolean('--json', false, { description: 'one JSON array on stdout' });

  async execute(): Promise<number> {
    const c = currentCaller();
    const all = listSandboxes(recordDir(c.env, c.uid), c.uid);
    const uses = all.map(usage);
    if (this.json) {
      out(
        JSON.stringify(
          all.map((s, i) => asJson(s, uses[i])),
          null,
          2,
        ),
      );
      return 0;
    }
    const rows = [
      ['ID', 'NAME', 'PROFILE', 'PID', 'STARTED', 'MEMORY', 'PIDS', 'PROGRAM', 'LAYERS'],
      ...all.map((s, i) => [
        s.id,
        s.meta.name || '-',
        s.meta.profile,
        String(s.pid),
        new Date(s.started).toISOString().replace(/\.\d+Z$/, 'Z'),
        useCell(uses[i], 'memory'),
        useCell(uses[i], 'pids'),
        s.meta.argv.join(' ').slice(0, 60),
        layers(s),
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) out(r.map((v, i) => (i < r.length - 1 ? v.padEnd(widths[i]!) : v)).join('  '));
    return 0;
  }
}

export class EnterCommand extends BaseCommand {
  static override paths = [['enter']];
  static override usage = Command.Usage({
    description: 'run a command inside a running sandbox, under the same restrictions',
    details: `
      CMD (default: /bin/sh) joins the sandbox's namespaces and gets its program's Landlock rules, seccomp filter,
      rlimits, environment and working directory, with no capabilities and no_new_privs: it sees what the program sees.
      It ends when the sandbox ends. Returns CMD's status like \`run\`.
    `,
    examples: [['A shell in the sandbox named web', '$0 enter web']],
  });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'say what the shim does' });
  ref = Option.String({ name: 'ID|NAME' });
  cmd = Option.Rest({ name: 'CMD' });

  async execute(): Promise<number> {
    const c = currentCaller();
    const s = findSandbox(recordDir(c.env, c.uid), c.uid, this.ref);
    let saved: Buffer;
    try {
      saved = fs.readFileSync(s.planFile);
    } catch (e) {
      throw new TsjailError(`${s.id}: its plan cannot be read: ${(e as Error).message}`);
    }
    const argv = this.cmd[0] === '--' ? this.cmd.slice(1) : this.cmd;
    const fds = [0, 1, 2].filter((fd) => tty.isatty(fd));
    const prog = programProcess(s);
    const bytes = enterPlan(saved, {
      pid: prog.pid,
      start: prog.start,
      argv: argv.length > 0 ? argv : ['/bin/sh'],
      tty: fds.length > 0 ? { fds, raw: fds.includes(0) && fds.includes(1) } : undefined,
      verbose: this.verbose ? 1 : 0,
      monitor: { pid: s.pid, start: s.monitorStart },
    });
    execPlan(bytes, findShim());
  }
}

const SIGTERM = 15;
const SIGKILL = 9;
export const STOP_GRACE_MS = 5000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class StopCommand extends BaseCommand {
  static override paths = [['stop']];
  static override usage = Command.Usage({
    description: 'end a running sandbox: SIGTERM, then SIGKILL after 5 seconds',
    examples: [['Stop the sandbox named web', '$0 stop web']],
  });
  ref = Option.String({ name: 'ID|NAME' });

  async execute(): Promise<number> {
    const c = currentCaller();
    const dir = recordDir(c.env, c.uid);
    const s = findSandbox(dir, c.uid, this.ref);
    // Through a pidfd opened and then checked, a signal reaches this monitor
    // and never a process that took its pid after it exited.
    const opened = pidfdOpen(s.pid);
    if ('errno' in opened || !isLive(s, c.uid)) {
      if ('fd' in opened) closeFd(opened.fd);
      removeRecord(dir, s);
      return 0;
    }
    try {
      // The monitor forwards SIGTERM to the program; SIGKILL of the monitor
      // kills the whole sandbox (its init dies with it).
      pidfdSignal(opened.fd, SIGTERM);
      const deadline = Date.now() + STOP_GRACE_MS;
      while (isLive(s, c.uid) && Date.now() < deadline) sleep(50);
      if (isLive(s, c.uid)) {
        say(`${s.id}: still running after ${STOP_GRACE_MS / 1000} s: SIGKILL`);
        pidfdSignal(opened.fd, SIGKILL);
        while (isLive(s, c.uid)) sleep(20);
      }
    } finally {
      closeFd(opened.fd);
    }
    removeRecord(dir, s);
    return 0;
  }
}
