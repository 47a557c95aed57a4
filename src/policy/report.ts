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

/**
 * Learning (tsjail learn) looks at the paths of these too: the calls that
 * make, remove or rename an entry, each a write to the directory it is in.
 * (Calls that only look, stat and access, are not: a program probes many
 * paths it never uses, and none of them is a grant to propose.)
 */
export const LEARNED_WRITE_CALLS: Readonly<Record<string, { path: number; dirfd?: number }>> = Object.fromEntries(
  // name, the path's argument, the directory's (-1: none)
  (
    'mkdir 0 -1, mkdirat 1 0, unlink 0 -1, unlinkat 1 0, rmdir 0 -1, rename 1 -1, renameat 3 2, ' +
    'renameat2 3 2, link 1 -1, linkat 3 2, symlink 1 -1, symlinkat 2 1, truncate 0 -1, mknod 0 -1, mknodat 1 0'
  )
    .split(', ')
    .map((e) => e.split(' '))
    .map(([name, p, d]) => [name!, { path: Number(p), ...(d !== '-1' ? { dirfd: Number(d) } : {}) }]),
);

/** Calls never observed while learning: the ones every filter allows after it is loaded, and the shim makes first. */
const NOT_LEARNED = new Set(['write', 'exit', 'exit_group']);

/** The calls a learning filter hands to the reporter: every one `names` has but those. */
export function learnedCalls(names: Iterable<string>): string[] {
  return [...names].filter((n) => !NOT_LEARNED.has(n));
}

/**
 * The REPORT_SYSCALL records of a learning filter's observed calls (errno 0:
 * let go on, said once as {kind: "used"}; connect and sendto with their
 * address each time), but for the path calls, which are REPORT_PATH.
 */
export function learnedSyscalls(observed: readonly NotifiedSyscall[]): ReportedSyscall[] {
  return observed
    .filter((n) => OBSERVED_PATH_CALLS[n.name] === undefined && LEARNED_WRITE_CALLS[n.name] === undefined)
    .map((n) => ({
      nr: n.nr,
      errno: 0,
      json: JSON.stringify({ kind: 'used', syscall: n.name }).slice(0, -1),
      hint: n.name,
    }));
}

/** The REPORT_PATH records of a learning filter: opens and execs, and the calls that write a directory. */
export function learnedPaths(observed: readonly NotifiedSyscall[]): ReportedPath[] {
  return [
    ...reportedPaths(observed.filter((n) => LEARNED_WRITE_CALLS[n.name] === undefined)),
    ...observed.flatMap((n) => {
      const at = LEARNED_WRITE_CALLS[n.name];
      if (at === undefined) return [];
      return [
        {
          nr: n.nr,
          pathArg: at.path,
          ...(at.dirfd !== undefined ? { dirfdArg: at.dirfd } : {}),
          json: JSON.stringify({ kind: 'path', syscall: n.name, write: true, entry: true }).slice(0, -1),
          hint: n.name,
        },
      ];
    }),
  ];
}

/** The REPORT_PATH records of a filter compiled with `observe` (with the calls that make or remove entries too). */
export function reportedPaths(observed: readonly NotifiedSyscall[]): ReportedPath[] {
  return observed.flatMap((n) => {
    const w = LEARNED_WRITE_CALLS[n.name];
    if (w !== undefined) {
      const hint =
        'making or removing an entry where the sandbox does not show the path: filesystem.rw shows it writable';
      const json = JSON.stringify({ kind: 'path', syscall: n.name, key: 'filesystem.rw', hint }).slice(0, -1);
      return [{ nr: n.nr, pathArg: w.path, ...(w.dirfd !== undefined ? { dirfdArg: w.dirfd } : {}), json, hint }];
    }
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

/**
 * The starts of the JSON objects for a message xdg-dbus-proxy refuses (its
 * --log, read by the shim's reporter): the key that allows the name on the
 * bus of the sandbox (with both buses, the proxy's log does not say which:
 * bus null, and the session bus's key).
 */
export function dbusReport(buses: readonly ('session' | 'system')[]): { talk: string; own: string } {
  const bus = buses.length === 1 ? buses[0]! : null;
  const k = bus ?? 'session';
  const of = (kind: 'talk' | 'own'): string =>
    JSON.stringify({
      kind: 'dbus',
      bus,
      key: `dbus.${k}.${kind}`,
      hint: `a D-Bus ${kind === 'own' ? 'name the program asked to own' : 'name the program called'}, which the proxy refused: dbus.${k}.${kind} allows it`,
    }).slice(0, -1);
  return { talk: of('talk'), own: of('own') };
}
