/**
 * The only module that calls into libc from Node (through koffi). Node is
 * multithreaded, so nothing here changes the process's sandbox state: these
 * are probes (Landlock ABI, seccomp), the sealed memfd that carries the
 * launch plan, and the final execve that hands the process to the shim so no
 * Node stays resident beside the program. koffi is loaded lazily: verbs that
 * never reach the kernel do not pay for it.
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { noteProbe } from '../cache/record.js';

const require = createRequire(import.meta.url);

interface Libc {
  memfd_create: (name: string, flags: number) => number;
  fcntl_int: (fd: number, cmd: number, arg: number) => number;
  execve: (path: string, argv: (string | null)[], envp: (string | null)[]) => number;
  syscall3: (nr: number, a: unknown, b: number, c: number) => number;
  syscallInts: (nr: number, a: number, b: number, c: number) => number;
  close: (fd: number) => number;
  errno: () => number;
}

let libc: Libc | undefined;

/**
 * libc through koffi, each function declared the first time it is called:
 * a launch parses the few declarations it uses (a probe, the memfd, fcntl,
 * execve), not all of them.
 */
function load(): Libc {
  if (libc) return libc;
  // koffi is CommonJS with a native part; require keeps it out of the ESM graph until needed.
  const koffi = require('koffi');
  const lib = koffi.load('libc.so.6');
  const lazy = <F extends (...a: never[]) => unknown>(declare: () => F): F => {
    let f: F | undefined;
    return ((...a: Parameters<F>) => (f ??= declare())(...a)) as F;
  };
  const fcntl = lazy(() => lib.func('int fcntl(int fd, int cmd, ...)'));
  const syscall = lazy(() => lib.func('long syscall(long number, ...)'));
  libc = {
    memfd_create: lazy(() => lib.func('int memfd_create(const char *name, unsigned int flags)')),
    fcntl_int: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg),
    execve: lazy(() => lib.func('int execve(const char *path, const char **argv, const char **envp)')),
    syscall3: (nr, a, b, c) => Number(syscall(nr, 'void *', a, 'unsigned long', b, 'unsigned int', c)),
    syscallInts: (nr, a, b, c) => Number(syscall(nr, 'long', a, 'long', b, 'long', c, 'long', 0)),
    close: lazy(() => lib.func('int close(int fd)')),
    errno: () => koffi.errno(),
  };
  return libc;
}

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const MFD_NOEXEC_SEAL = 0x8;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_GETFL = 3;
const F_SETFL = 4;
const F_ADD_SEALS = 1033;
const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;
const O_NONBLOCK = 0o4000;

export class KernelError extends Error {
  constructor(
    what: string,
    readonly errno: number,
  ) {
    super(`${what} failed (errno ${errno})`);
  }
}

/**
 * A sealed memfd holding `bytes`, without close-on-exec so it survives the
 * execve into the shim. Sealed so nothing can change the plan after it was
 * checked.
 */
export function sealedMemfd(name: string, bytes: Uint8Array, writeAll: (fd: number, b: Uint8Array) => void): number {
  const c = load();
  const fd = c.memfd_create(name, MFD_ALLOW_SEALING);
  if (fd < 0) throw new KernelError('memfd_create', c.errno());
  writeAll(fd, bytes);
  if (c.fcntl_int(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    throw new KernelError('sealing the plan memfd', c.errno());
  }
  return fd;
}

/**
 * Whether memfd_create knows MFD_NOEXEC_SEAL (Linux 6.3): the only memfds
 * tsjail's seccomp filter lets a program make (src/seccomp/policy.ts).
 */
export function probeMemfdNoexecSeal(): boolean {
  const c = load();
  const fd = c.memfd_create('tsjail-probe', MFD_CLOEXEC | MFD_NOEXEC_SEAL);
  // A plan cached with this answer holds only while the kernel still gives it (shim-c/fast.c asks again).
  noteProbe('memfd-noexec-seal', fd < 0 ? 0 : 1);
  if (fd < 0) return false;
  closeSync(fd);
  return true;
}

/**
 * Node marks its stdio close-on-exec at start-up and may set O_NONBLOCK on
 * them; the program must get 0, 1 and 2 as the caller gave them.
 */
export function restoreStdio(fd: number): void {
  const c = load();
  const fdFlags = c.fcntl_int(fd, F_GETFD, 0);
  if (fdFlags >= 0 && fdFlags & FD_CLOEXEC) c.fcntl_int(fd, F_SETFD, fdFlags & ~FD_CLOEXEC);
  const fl = c.fcntl_int(fd, F_GETFL, 0);
  if (fl >= 0 && fl & O_NONBLOCK) c.fcntl_int(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/** Replace this process. Returns only on failure (with the errno). */
export function execve(path: string, argv: string[], env: string[]): number {
  const c = load();
  c.execve(path, [...argv, null], [...env, null]);
  return c.errno();
}

// landlock_create_ruleset is 444 in both the x86_64 table and the generic (aarch64) one.
const NR_LANDLOCK_CREATE_RULESET = 444;
const LANDLOCK_CREATE_RULESET_VERSION = 1;
const ENOSYS = 38;
const EOPNOTSUPP = 95;

export type LandlockProbe = { abi: number } | { abi: 0; reason: 'not-built' | 'disabled' | 'error'; errno: number };

/** The Landlock ABI version the running kernel offers. */
export function probeLandlockAbi(): LandlockProbe {
  const c = load();
  const r = c.syscall3(NR_LANDLOCK_CREATE_RULESET, null, 0, LANDLOCK_CREATE_RULESET_VERSION);
  const errno = r > 0 ? 0 : c.errno();
  noteProbe('landlock-abi', r > 0 ? r : -errno);
  if (r > 0) return { abi: r };
  if (errno === ENOSYS) return { abi: 0, reason: 'not-built', errno };
  if (errno === EOPNOTSUPP) return { abi: 0, reason: 'disabled', errno };
  return { abi: 0, reason: 'error', errno };
}

// pidfd_open and pidfd_send_signal: 434 and 424 in every table since 5.1's unification.
const NR_PIDFD_OPEN = 434;
const NR_PIDFD_SEND_SIGNAL = 424;

/**
 * A pidfd of `pid` (Linux 5.3), or undefined when the process is gone or the
 * kernel has none (ENOSYS): whoever signals through it reaches that process
 * and never one that later got its pid.
 */
export function pidfdOpen(pid: number): { fd: number } | { errno: number } {
  const c = load();
  const fd = c.syscallInts(NR_PIDFD_OPEN, pid, 0, 0);
  return fd >= 0 ? { fd } : { errno: c.errno() };
}

/** pidfd_send_signal(2): 0 or the errno. */
export function pidfdSignal(fd: number, signal: number): number {
  const c = load();
  return c.syscallInts(NR_PIDFD_SEND_SIGNAL, fd, signal, 0) === 0 ? 0 : c.errno();
}

export function closeFd(fd: number): void {
  load().close(fd);
}
