/**
 * The hand-over: start what must live beside the sandbox (the D-Bus proxy,
 * the nested X server of x11-isolated and the PulseAudio filter, each held
 * by a LIFELINE), encode the plan into a sealed memfd and execve the shim in
 * place of this Node process, so nothing of Node stays resident beside the
 * program (the shim becomes the monitor the caller waits on). If anything
 * fails before the execve, they are killed again: a failed launch leaves
 * nothing running.
 */
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { TsjailError } from '../errors.js';
import { restoreStdio, execve, sealedMemfd } from '../sys/kernel.js';
import { startProxy } from '../desktop/proxy.js';
import { startNestedX } from '../desktop/xephyr.js';
import { startPulseFilter } from '../desktop/pulse-filter.js';
import { startNetProxy } from '../net/proxy.js';
import { encodePlan } from '../plan/encode.js';
import { dbusReport } from '../policy/report.js';
import type { LaunchPlan, MountOp } from '../plan/plan.js';

/** Positional writes (pwrite) leave the file offset at 0, where the shim starts reading. */
function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off, off);
}

/** Mounts plus `extra`, placed before the final read-only remounts (so their mount points can still be made). */
function withBinds(mounts: MountOp[], extra: MountOp[]): MountOp[] {
  const at = mounts.findIndex((m) => m.op === 'remount');
  if (at < 0) return [...mounts, ...extra];
  return [...mounts.slice(0, at), ...extra, ...mounts.slice(at)];
}

/**
 * How the shim's monitor runs tsjail again when the plan went stale between
 * planning and mounting (a host file replaced meanwhile: ldconfig renaming a
 * new /etc/ld.so.cache over the old one): `argv` in place of the monitor,
 * with `env`. The shim keeps its check; tsjail re-plans against the host as
 * it is then, at most MAX_REPLANS times (TSJAIL_REPLAN counts them), and
 * only the last attempt refuses.
 */
export interface Replan {
  argv: string[];
  env: string[];
}

export const MAX_REPLANS = 10;

/** The re-plan of this process (attempt `done` + 1), or none when the attempts are used up. */
export function replanOf(proc: NodeJS.Process = process): Replan | undefined {
  const done = Number(proc.env.TSJAIL_REPLAN ?? '0');
  const attempt = Number.isInteger(done) && done >= 0 ? done : MAX_REPLANS;
  if (attempt >= MAX_REPLANS) return undefined;
  const env = Object.entries({ ...proc.env, TSJAIL_REPLAN: String(attempt + 1) })
    .filter((kv): kv is [string, string] => kv[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return { argv: [proc.execPath, ...proc.execArgv, ...proc.argv.slice(1)], env };
}

/**
 * `cgroups`: the sandbox's cgroup records, asked for once the helpers run
 * (src/cgroup: a systemd scope takes this process, and only it).
 */
export function handOver(
  plan: LaunchPlan,
  shim: string,
  env: NodeJS.ProcessEnv = process.env,
  replan?: Replan,
  cgroups?: () => LaunchPlan['cgroups'],
): never {
  const { final, abort } = startBeside(plan, shim, env, cgroups);
  try {
    execPlan(encodePlan(refreshFileBinds(final)), shim, replan);
  } catch (e) {
    abort();
    throw e;
  }
}

/**
 * The plan with each bound regular file's device and inode taken again, at
 * the last moment before the shim runs, where the path is still a regular
 * file at the same real path (no symbolic link on the way): a file renamed
 * over it since planning (ldconfig writing /etc/ld.so.cache) is what a
 * re-plan would show there, as nothing of the plan depends on a file's
 * inode or content. The shim's check then covers only the moments from here
 * to its mount, instead of the whole planning: far fewer re-plans. A file
 * that became anything else keeps the planned inode, and the shim re-plans.
 */
export function refreshFileBinds(plan: LaunchPlan): LaunchPlan {
  const mounts = plan.mounts.map((m): MountOp => {
    if (m.op !== 'bind' || m.kind !== 'file') return m;
    try {
      const st = fs.lstatSync(m.src, { bigint: true });
      if (!st.isFile() || fs.realpathSync(m.src) !== m.src) return m;
      return st.dev === m.dev && st.ino === m.ino ? m : { ...m, dev: st.dev, ino: st.ino };
    } catch {
      return m;
    }
  });
  return { ...plan, mounts };
}

/**
 * The helpers beside the sandbox started, and the plan that holds them
 * (their mounts and lifelines); `abort` ends them again when the launch
 * fails before the shim runs.
 */
export function startBeside(
  plan: LaunchPlan,
  shim: string,
  env: NodeJS.ProcessEnv = process.env,
  cgroups?: () => LaunchPlan['cgroups'],
  /** tsjail learn: each bus through a proxy of its own, whose --log goes to this descriptor. */
  dbusLogs?: Partial<Record<'session' | 'system', number>>,
): { final: LaunchPlan; abort(): void } {
  const helpers: { abort(): void }[] = [];
  const abort = (): void => {
    for (const h of helpers) h.abort();
  };
  try {
    let final = plan;
    /** A helper started beside the sandbox: its mounts go in, the monitor holds its lifeline. */
    const beside = (h: { lifeline: number; abort(): void }, mounts: MountOp[]): void => {
      helpers.push(h);
      final = {
        ...final,
        mounts: withBinds(final.mounts, mounts),
        lifelines: [...(final.lifelines ?? []), h.lifeline],
      };
    };
    // restoreStdio clears close-on-exec and O_NONBLOCK on any descriptor.
    if (plan.dbus && dbusLogs) {
      // Learning: one proxy per bus, as the log does not say which bus a line is about.
      for (const b of plan.dbus.buses) {
        const proxy = startProxy([b], {
          env,
          hostRuntime: plan.dbus.hostRuntime,
          clearCloexec: restoreStdio,
          ...(dbusLogs[b.bus] !== undefined ? { logTo: dbusLogs[b.bus] } : {}),
        });
        beside(proxy, proxy.binds);
      }
    } else if (plan.dbus && plan.dbus.buses.length > 0) {
      const proxy = startProxy(plan.dbus.buses, {
        env,
        hostRuntime: plan.dbus.hostRuntime,
        clearCloexec: restoreStdio,
        // Its refusals are reported: its log goes to the shim's reporter.
        ...(plan.report ? { log: true } : {}),
      });
      beside(proxy, proxy.binds);
      if (plan.report && proxy.log !== undefined)
        final = {
          ...final,
          lifelines: [...(final.lifelines ?? []), proxy.log],
          report: { ...plan.report, dbus: { fd: proxy.log, ...dbusReport(plan.dbus.buses.map((b) => b.bus)) } },
        };
    }
    if (plan.nestedX) {
      const nestedX = startNestedX(plan.nestedX, { clearCloexec: restoreStdio });
      beside(nestedX, nestedX.ops);
    }
    if (plan.netProxy) {
      const proxy = startNetProxy(plan.netProxy, {
        shim,
        verbose: plan.verbose > 0,
        clearCloexec: restoreStdio,
        // Its refusals go on the caller's --report-fd too.
        ...(plan.report?.fd !== undefined ? { reportFd: plan.report.fd } : {}),
      });
      beside(proxy, []);
      final = { ...final, netListen: { port: plan.netProxy.port, fd: proxy.lifeline } };
    }
    if (plan.pulse) {
      const filter = startPulseFilter(plan.pulse, { shim, verbose: plan.verbose > 0, clearCloexec: restoreStdio });
      beside(filter, filter.binds);
    }
    // The caller's --report-fd reaches the shim's monitor as it is (a lifeline).
    if (plan.report?.fd !== undefined) restoreStdio(plan.report.fd);
    const cg = cgroups?.() ?? [];
    if (cg.length > 0) final = { ...final, cgroups: cg };
    return { final, abort };
  } catch (e) {
    abort();
    throw e;
  }
}

/**
 * The shim as a child of this process (tsjail learn, which reads the record
 * after the sandbox): the encoded plan in a sealed memfd it inherits, the
 * caller's stdio; resolves to the sandbox's exit status (SPEC's table).
 * This Node process stays beside the sandbox until it ends; the plan's
 * PARENT makes the sandbox die with it.
 */
export function spawnPlan(bytes: Uint8Array, shim: string): Promise<number> {
  const fd = sealedMemfd('tsjail-plan', bytes, writeAll);
  restoreStdio(fd);
  return new Promise((resolve, reject) => {
    const child = spawn(shim, ['--plan-fd', String(fd)], { stdio: 'inherit', env: {}, argv0: 'tsjail-shim' });
    // A signal to this process goes to the monitor, which passes it to the program (a ^C
    // reaches both at once); this process waits for the end to read what the sandbox did.
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
    for (const s of signals) process.on(s, forward);
    const done = (): void => {
      for (const s of signals) process.off(s, forward);
      fs.closeSync(fd);
    };
    child.on('error', (e) => {
      done();
      reject(new TsjailError(`cannot execute the sandbox helper ${shim} (${e.message})`));
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

/** Hand an encoded plan to the shim in a sealed memfd, in place of this process. */
export function execPlan(bytes: Uint8Array, shim: string, replan?: Replan): never {
  const fd = sealedMemfd('tsjail-plan', bytes, writeAll);
  for (const std of [0, 1, 2]) restoreStdio(std);
  const argv = ['tsjail-shim', '--plan-fd', String(fd), ...(replan ? ['--replan', ...replan.argv] : [])];
  const errno = execve(shim, argv, replan?.env ?? []);
  throw new TsjailError(`cannot execute the sandbox helper ${shim} (errno ${errno})`);
}
