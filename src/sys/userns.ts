/**
 * Will the kernel let this user create a user namespace? The knobs
 * distributions use to refuse it are read first, so the user is told which
 * knob and how to change it instead of a bare EPERM from the shim.
 *
 * Two knobs are definite: Debian's kernel.unprivileged_userns_clone = 0 and
 * user.max_user_namespaces = 0 refuse every program. Ubuntu's
 * kernel.apparmor_restrict_unprivileged_userns = 1 is not: AppArmor lets a
 * program whose profile grants `userns,` (tsjail ships one for the installed
 * shim, /etc/apparmor.d/tsjail) keep its capabilities in the namespace, and
 * strips them from every other. So then tsjail asks the shim itself
 * (`tsjail-shim --probe-userns`, which is what the profile is attached to)
 * and refuses only when the shim cannot build a namespace, naming the fix
 * that applies to this shim's path. The shim still reports its own clone
 * failure; this turns the common causes into instructions.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Where `make install` and the packages put the AppArmor profile granting the installed shim `userns`. */
export const APPARMOR_PROFILE = '/etc/apparmor.d/tsjail';

function readInt(file: string): number | undefined {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

export interface UsernsVerdict {
  ok: boolean;
  message?: string;
  hint?: string;
}

/** The sysctls that decide, as read from /proc/sys (undefined: absent). */
export interface UsernsKnobs {
  unprivilegedClone?: number;
  apparmorRestrict?: number;
  maxUserNamespaces?: number;
}

/** What `tsjail-shim --probe-userns` answered: ok, or the step refused and its errno name. */
export type ProbeResult = { ok: true } | { ok: false; step: 'clone' | 'mount' | 'run'; errno: string };

export function readKnobs(procSys = '/proc/sys'): UsernsKnobs {
  return {
    unprivilegedClone: readInt(`${procSys}/kernel/unprivileged_userns_clone`),
    apparmorRestrict: readInt(`${procSys}/kernel/apparmor_restrict_unprivileged_userns`),
    maxUserNamespaces: readInt(`${procSys}/user/max_user_namespaces`),
  };
}

/** Run the shim's probe; its exit status and one line say what happened. */
export function probeShim(shim: string): ProbeResult {
  const r = spawnSync(shim, ['--probe-userns'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { ok: false, step: 'run', errno: (r.error as NodeJS.ErrnoException).code ?? 'error' };
  if (r.status === 0) return { ok: true };
  const [step, errno] = (r.stdout ?? '').trim().split(' ');
  return step === 'clone' || step === 'mount'
    ? { ok: false, step, errno: errno ?? '?' }
    : { ok: false, step: 'run', errno: `exit ${r.status ?? r.signal}` };
}

/** The AppArmor profile that grants `userns` to SHIM alone, in the style of Ubuntu's own. */
export function apparmorProfileFor(shim: string): string {
  return `abi <abi/4.0>, include <tunables/global> profile tsjail-shim ${shim} flags=(unconfined) { userns, }`;
}

/**
 * The decision, from the knobs and a probe it calls only when AppArmor's
 * restriction is on. `profileCovers`: whether /etc/apparmor.d/tsjail is
 * on this machine and attached to SHIM (then loading it is the fix).
 */
export function decideUserns(
  knobs: UsernsKnobs,
  env: { root: boolean; shim: string | undefined; probe: (shim: string) => ProbeResult; profileCovers: boolean },
): UsernsVerdict {
  if (knobs.unprivilegedClone === 0 && !env.root) {
    return {
      ok: false,
      message: 'unprivileged user namespaces are disabled on this system (kernel.unprivileged_userns_clone = 0)',
      hint: 'enable them with: sudo sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d to keep it)',
    };
  }
  if (knobs.maxUserNamespaces === 0) {
    return {
      ok: false,
      message: 'user namespaces are disabled here (user.max_user_namespaces = 0)',
      hint: 'raise it with: sudo sysctl -w user.max_user_namespaces=15000 (inside a container, the host or container runtime sets it)',
    };
  }
  // Without a shim there is nothing to probe: the caller reports the missing shim.
  if (knobs.apparmorRestrict !== 1 || env.root || env.shim === undefined) return { ok: true };
  const shim = env.shim;
  const probe = env.probe(shim);
  if (probe.ok) return { ok: true };
  const why =
    probe.step === 'run'
      ? `the probe could not run (${probe.errno})`
      : probe.step === 'clone'
        ? `creating one failed with ${probe.errno}`
        : `the namespace came without capabilities (mount: ${probe.errno})`;
  const message = `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1) and ${shim} is not allowed one: ${why}`;
  const global = 'or, for every program: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0';
  if (env.profileCovers) {
    return {
      ok: false,
      message,
      hint: `load tsjail's AppArmor profile: sudo apparmor_parser -r ${APPARMOR_PROFILE}; ${global}`,
    };
  }
  return {
    ok: false,
    message,
    hint: `grant this shim user namespaces: write '${apparmorProfileFor(shim)}' to /etc/apparmor.d/tsjail-shim and run sudo apparmor_parser -r /etc/apparmor.d/tsjail-shim; ${global}`,
  };
}

/** Whether the AppArmor profile FILE attaches a profile to SHIM's path. */
export function profileAttachedTo(file: string, shim: string): boolean {
  try {
    return new RegExp(`^\\s*profile\\s+\\S+\\s+${shim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm').test(
      fs.readFileSync(file, 'utf8'),
    );
  } catch {
    return false;
  }
}

/** The decision for this process and SHIM (undefined: not found; the caller says so). */
export function checkUserns(shim: string | undefined, procSys = '/proc/sys'): UsernsVerdict {
  return decideUserns(readKnobs(procSys), {
    root: process.getuid?.() === 0,
    shim,
    probe: probeShim,
    profileCovers: shim !== undefined && profileAttachedTo(APPARMOR_PROFILE, shim),
  });
}
