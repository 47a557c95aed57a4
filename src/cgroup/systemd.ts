/**
 * The systemd way on a cgroup v2 desktop: ask the user's service manager
 * (user@UID.service, which systemd delegates to the user) for a transient
 * scope holding this process, with Delegate=yes, as
 * `systemd-run --user --scope -p Delegate=yes` does. The request is
 * StartTransientUnit on the user bus, sent with busctl (part of systemd, so
 * present wherever this path applies). This process becomes the shim's
 * monitor by execve, so the scope is the monitor's; the monitor then makes
 * the scope's children (place.ts placeV2). When the scope is empty systemd
 * removes it, children included: after the sandbox, and after SIGKILL of
 * tsjail, whatever becomes of the monitor.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import type { FsView, Hierarchy } from './layout.js';

/** Whether a scope can be asked for: cgroup v2 only, under the user's manager, a user bus, busctl. */
export function systemdScopeAvailable(
  hs: Hierarchy[],
  uid: number,
  env: NodeJS.ProcessEnv,
  view: FsView,
): { ok: true } | { ok: false; reason: string } {
  const v2 = hs.find((h) => h.version === 2);
  if (!v2?.dir) return { ok: false, reason: 'cgroup v2 is not mounted' };
  if (hs.some((h) => h.version === 1 && h.mount))
    return { ok: false, reason: 'cgroup v1 controllers are mounted (a hybrid machine)' };
  if (!v2.path.includes(`/user@${uid}.service/`))
    return {
      ok: false,
      reason: `this process is not under the user's service manager (user@${uid}.service): its cgroup is ${v2.path}`,
    };
  if (!userBus(env, view)) return { ok: false, reason: 'no user bus (DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus)' };
  if (!busctl(env)) return { ok: false, reason: 'busctl (systemd) is not on PATH' };
  return { ok: true };
}

function userBus(env: NodeJS.ProcessEnv, view: FsView): boolean {
  if (env.DBUS_SESSION_BUS_ADDRESS) return true;
  return env.XDG_RUNTIME_DIR !== undefined && view.exists(`${env.XDG_RUNTIME_DIR}/bus`);
}

function busctl(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', 'busctl');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A unit name of this launch. */
export function scopeUnit(pid: number, nonce: string): string {
  return `tsjail-${pid}-${nonce}.scope`;
}

/**
 * busctl's arguments for StartTransientUnit(name, mode, properties, aux):
 * the scope holds `pid`, is delegated to the user, and is collected when it
 * ends, failed or not.
 */
export function scopeRequest(unit: string, pid: number, description: string): string[] {
  return [
    '--user',
    '--quiet',
    'call',
    'org.freedesktop.systemd1',
    '/org/freedesktop/systemd1',
    'org.freedesktop.systemd1.Manager',
    'StartTransientUnit',
    'ssa(sv)a(sa(sv))',
    unit,
    'fail',
    '4',
    'PIDs',
    'au',
    '1',
    String(pid),
    'Delegate',
    'b',
    'true',
    'CollectMode',
    's',
    'inactive-or-failed',
    'Description',
    's',
    description,
    '0',
  ];
}

/** The v2 cgroup of this process once systemd has moved it, or undefined. */
export function ownScopePath(procCgroup: string, unit: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  const p = line?.slice(3);
  return p !== undefined && p.endsWith(`/${unit}`) ? p : undefined;
}

/**
 * Ask for the scope and wait (up to 5 s) until systemd has moved this process
 * into it. Returns the scope's directory. A refusal is one line naming systemd.
 */
export function startScope(unit: string, description: string, v2mount: string, env: NodeJS.ProcessEnv): string {
  const tool = busctl(env)!;
  const r = spawnSync(tool, scopeRequest(unit, process.pid, description), { encoding: 'utf8', env, timeout: 10_000 });
  if (r.status !== 0)
    throw new TsjailError(
      `limits: systemd refused a delegated scope for the sandbox: ${(r.stderr || r.error?.message || `busctl exited ${r.status}`).trim()}`,
    );
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 500; i++) {
    const p = ownScopePath(fs.readFileSync('/proc/self/cgroup', 'utf8'), unit);
    if (p) return v2mount + p;
    Atomics.wait(wait, 0, 0, 10);
  }
  throw new TsjailError(`limits: systemd did not move tsjail into its scope ${unit} within 5 s`);
}
