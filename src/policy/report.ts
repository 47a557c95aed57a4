/**
 * What a reported refusal means to the user: for each syscall whose refusal
 * the filter hands to the shim's reporter (src/seccomp/notify.ts), the
 * profile key that would allow it, decided here, ahead of the launch, and
 * carried in the plan (REPORT_SYSCALL) as the JSON object the reporter
 * completes with the call's arguments and as the summary's words. The shim
 * only fills in what it sees. Pure.
 */
import type { NotifiedSyscall } from '../seccomp/compile.js';
import type { ReportedPath, ReportedSyscall } from '../plan/plan.js';
import type { ProfileSyscalls } from './seccomp.js';

const ERRNO_NAME: Record<number, string> = { 1: 'EPERM', 97: 'EAFNOSUPPORT' };

/** The key and the words for one refused call. */
export function syscallAdvice(
  name: string,
  p: ProfileSyscalls,
  network: 'none' | 'host' | 'tcp',
): { key: string | null; add?: unknown; hint: string } {
  const denied = p.syscalls.deny.find(
    (t) => t.value === name || (typeof t.value === 'object' && t.value.name === name),
  );
  if (denied !== undefined)
    return {
      key: 'syscalls.deny',
      hint: `${name}: denied by syscalls.deny (${denied.source.file}${denied.source.line ? `:${denied.source.line}` : ''}); remove it there`,
    };
  if (name === 'socket' && network === 'none')
    return {
      key: 'network',
      add: 'host',
      hint: 'socket: internet and netlink sockets need network "host" or "private" (other families: socket in syscalls.allow with their args)',
    };
  if (name === 'ioctl')
    return {
      key: null,
      hint: 'ioctl: TIOCSTI and TIOCLINUX (fake terminal input) are never allowed; other requests: ioctl in syscalls.allow with their args',
    };
  return { key: 'syscalls.allow', add: name, hint: `${name}: add "${name}" to syscalls.allow` };
}

/** The REPORT_SYSCALL records of a filter compiled with `notify`. */
export function reportedSyscalls(
  notified: readonly NotifiedSyscall[],
  p: ProfileSyscalls,
  network: 'none' | 'host' | 'tcp',
): ReportedSyscall[] {
  return notified.map((n) => {
    const a = syscallAdvice(n.name, p, network);
    const obj: Record<string, unknown> = {
      kind: 'syscall',
      syscall: n.name,
      nr: n.nr,
      errno: ERRNO_NAME[n.errno] ?? n.errno,
      key: a.key,
      ...(a.add !== undefined ? { add: a.add } : {}),
      hint: a.hint,
    };
    const json = JSON.stringify(obj);
    return { nr: n.nr, errno: n.errno, json: json.slice(0, -1), hint: a.hint };
  });
}

/**
 * The calls whose paths are looked at (`observe`): opening and executing,
 * with where their path, directory and flags are. The reporter lets them go
 * on and says the paths the sandbox does not show but the host has.
 */
export const OBSERVED_PATH_CALLS: Readonly<Record<string, { path: number; dirfd?: number; flags?: number }>> = {
  open: { path: 0, flags: 1 },
  openat: { dirfd: 0, path: 1, flags: 2 },
  openat2: { dirfd: 0, path: 1 },
  creat: { path: 0 },
  execve: { path: 0 },
  execveat: { dirfd: 0, path: 1 },
};

/** The REPORT_PATH records of a filter compiled with `observe`. */
export function reportedPaths(observed: readonly NotifiedSyscall[]): ReportedPath[] {
  return observed.flatMap((n) => {
    const at = OBSERVED_PATH_CALLS[n.name];
    if (at === undefined) return [];
    const exec = n.name.startsWith('exec');
    const hint = exec
      ? 'executing a path the sandbox does not show: filesystem.ro shows it (read-only paths may be executed)'
      : 'opening a path the sandbox does not show: filesystem.ro shows it, filesystem.rw to write it';
    const obj = {
      kind: 'path',
      syscall: n.name,
      key: 'filesystem.ro',
      ...(exec ? {} : { keyToWrite: 'filesystem.rw' }),
      hint,
    };
    return [
      {
        nr: n.nr,
        pathArg: at.path,
        ...(at.dirfd !== undefined ? { dirfdArg: at.dirfd } : {}),
        ...(at.flags !== undefined ? { flagsArg: at.flags } : {}),
        json: JSON.stringify(obj).slice(0, -1),
        hint,
      },
    ];
  });
}
