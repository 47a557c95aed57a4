/**
 * The hand-over: start what must live beside the sandbox (the D-Bus proxy,
 * the nested X server of x11-isolated, each held by a LIFELINE), encode the plan into a sealed memfd and execve the
 * shim in place of this Node process, so nothing of Node stays resident
 * beside the program (the shim becomes the monitor the caller waits on).
 * If anything fails before the execve, they are killed again: a failed
 * launch leaves nothing running.
 */
import * as fs from 'node:fs';
import { TsjailError } from '../errors.js';
import { restoreStdio, execve, sealedMemfd } from '../sys/kernel.js';
import { startProxy, type StartedProxy } from '../desktop/proxy.js';
import { startNestedX, type StartedNestedX } from '../desktop/xephyr.js';
import { encodePlan } from '../plan/encode.js';
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

export function handOver(plan: LaunchPlan, shim: string, env: NodeJS.ProcessEnv = process.env): never {
  let proxy: StartedProxy | undefined;
  let nestedX: StartedNestedX | undefined;
  try {
    let final = plan;
    if (plan.dbus && plan.dbus.buses.length > 0) {
      // restoreStdio clears close-on-exec and O_NONBLOCK on any descriptor.
      proxy = startProxy(plan.dbus.buses, { env, hostRuntime: plan.dbus.hostRuntime, clearCloexec: restoreStdio });
      final = {
        ...final,
        mounts: withBinds(final.mounts, proxy.binds),
        lifelines: [...(final.lifelines ?? []), proxy.lifeline],
      };
    }
    if (plan.nestedX) {
      nestedX = startNestedX(plan.nestedX, { clearCloexec: restoreStdio });
      final = {
        ...final,
        mounts: withBinds(final.mounts, nestedX.ops),
        lifelines: [...(final.lifelines ?? []), nestedX.lifeline],
      };
    }
    const bytes = encodePlan(final);
    const fd = sealedMemfd('tsjail-plan', bytes, writeAll);
    for (const std of [0, 1, 2]) restoreStdio(std);
    const errno = execve(shim, ['tsjail-shim', '--plan-fd', String(fd)], []);
    throw new TsjailError(`cannot execute the sandbox helper ${shim} (errno ${errno})`);
  } catch (e) {
    proxy?.abort();
    nestedX?.abort();
    throw e;
  }
}
