/**
 * Will the kernel let this user create a user namespace? A cheap check of
 * the knobs distributions use to refuse it, so the user is told which knob
 * and how to change it instead of a bare EPERM from the shim. The shim still
 * reports its own clone failure; this only turns the common causes into
 * instructions.
 */
import * as fs from 'node:fs';

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

export function checkUserns(procSys = '/proc/sys'): UsernsVerdict {
  const debian = readInt(`${procSys}/kernel/unprivileged_userns_clone`);
  if (debian === 0 && process.getuid?.() !== 0) {
    return {
      ok: false,
      message: 'unprivileged user namespaces are disabled on this system (kernel.unprivileged_userns_clone = 0)',
      hint: 'enable them with: sudo sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d to keep it)',
    };
  }
  const apparmor = readInt(`${procSys}/kernel/apparmor_restrict_unprivileged_userns`);
  if (apparmor === 1 && process.getuid?.() !== 0) {
    return {
      ok: false,
      message: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)',
      hint: 'allow tsjail with an AppArmor profile granting "userns," to the tsjail shim, or: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
    };
  }
  const max = readInt(`${procSys}/user/max_user_namespaces`);
  if (max === 0) {
    return {
      ok: false,
      message: 'user namespaces are disabled here (user.max_user_namespaces = 0)',
      hint: 'raise it with: sudo sysctl -w user.max_user_namespaces=15000 (inside a container, the host or container runtime sets it)',
    };
  }
  return { ok: true };
}
