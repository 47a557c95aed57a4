/**
 * Starting the helpers that live beside a sandbox at the hand-over:
 * xdg-dbus-proxy, and tsjail-pulse-filter (src/desktop/pulse-filter.ts).
 Each runs as its own detached
 * process (so a ^C on the terminal reaches only the sandbox) with a socket
 * pair on descriptor 3 (`--fd=3`): it writes one byte there when its sockets
 * listen, and exits when the other end of the pair closes. The other end
 * becomes a LIFELINE of the plan: the shim's monitor holds it for exactly
 * the sandbox's lifetime, so the helper dies with the sandbox, however the
 * sandbox ends. Its sockets live in a fresh 0700 directory that a small
 * shell removes when the helper has exited.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import type { DbusBusPlan, MountOp } from '../plan/plan.js';

export const PROXY_READY_TIMEOUT_MS = 5000;

export interface StartedProxy {
  pid: number;
  dir: string;
  /** Our end of the socket pair: blocking, not close-on-exec. */
  lifeline: number;
  /** The proxy's sockets, shown in the sandbox. */
  binds: MountOp[];
  /** Kill the proxy and remove its directory (a launch that failed). */
  abort(): void;
  /** With logStdout: our end of its standard output (blocking, not close-on-exec). */
  log?: number;
}

/** An executable `name` on the caller's PATH (absolute entries only), else in /usr/bin or /usr/local/bin. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [...(env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      continue;
    }
  }
  return undefined;
}

export function findProxy(env: NodeJS.ProcessEnv): string {
  const p = findOnPath('xdg-dbus-proxy', env);
  if (p) return p;
  throw new TsjailError(
    'the profile has a "dbus" key, which needs xdg-dbus-proxy (Debian package xdg-dbus-proxy), and it is not installed',
  );
}

/** Sleep without an event loop (the hand-over is synchronous). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A helper beside the sandbox: where its sockets go and how to run it. */
export interface HelperSpec {
  /** Its name in messages ("xdg-dbus-proxy"). */
  what: string;
  /** Prefix of its private socket directory ("tsjail-dbus-"). */
  dirPrefix: string;
  /** The command line, given that directory; the ready/lifeline socket is descriptor 3. */
  argv(dir: string): string[];
  /** Sockets it creates in the directory (by name) and where the sandbox sees each. */
  sockets: { name: string; inside: string; why: string }[];
  /** Added to "exited before it was ready". */
  exitHint: string;
  /** A descriptor of ours it gets as its descriptor 4 (the caller's --report-fd). */
  fd4?: number;
  /** Its standard output goes to a socket whose other end is StartedProxy.log (xdg-dbus-proxy's --log). */
  logStdout?: boolean;
  /** Its standard output goes to this descriptor of ours (tsjail learn's record of a proxy's --log). */
  logTo?: number;
}

/**
 * Start a helper and wait until it is ready: it writes one byte on
 * descriptor 3 when its sockets listen and exits when the other end closes.
 * `clearCloexec` makes our end of the socket pair survive the execve into
 * the shim (and blocking).
 */
export function startHelper(
  spec: HelperSpec,
  opts: { hostRuntime?: string; clearCloexec: (fd: number) => void; timeoutMs?: number },
): StartedProxy {
  const base = opts.hostRuntime && fs.existsSync(opts.hostRuntime) ? opts.hostRuntime : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, spec.dirPrefix));
  fs.chmodSync(dir, 0o700);
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  // The shell waits for the helper, then removes the directory of its sockets.
  const script = 'd=$1; shift; "$@"; rm -rf -- "$d"';
  let child;
  try {
    child = spawn('/bin/sh', ['-c', script, spec.dirPrefix.replace(/-$/, ''), dir, ...spec.argv(dir)], {
      stdio: [
        'ignore',
        spec.logTo ?? (spec.logStdout ? 'pipe' : 'ignore'),
        'inherit',
        'pipe',
        ...(spec.fd4 !== undefined ? [spec.fd4] : []),
      ],
      detached: true,
      env: { PATH: '/usr/bin:/bin' },
    });
  } catch (e) {
    removeDir();
    throw new TsjailError(`cannot start ${spec.what}: ${(e as Error).message}`);
  }
  const pid = child.pid;
  // libuv's end of the pair; its fd is what the monitor will hold.
  const handle = (child.stdio[3] as unknown as { _handle?: { fd?: number } } | null)?._handle;
  const fd = handle?.fd;
  const abort = (): void => {
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    removeDir();
  };
  if (pid === undefined || fd === undefined || fd < 3) {
    abort();
    throw new TsjailError(`cannot start ${spec.what}: no socket pair to it`);
  }
  child.unref();
  // Wait for the ready byte: the descriptor is still non-blocking here.
  const timeout = opts.timeoutMs ?? PROXY_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeout;
  const buf = Buffer.alloc(1);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        abort();
        throw new TsjailError(`${spec.what}: ${(e as Error).message}`);
      }
      if (Date.now() > deadline) {
        abort();
        throw new TsjailError(`${spec.what} was not ready within ${timeout} ms (${spec.exitHint})`);
      }
      sleepMs(5);
      continue;
    }
    if (n === 0) {
      abort();
      throw new TsjailError(`${spec.what} exited before it was ready; ${spec.exitHint}`);
    }
    break;
  }
  opts.clearCloexec(fd);
  // The log's reader is the shim's reporter, never this process's event loop.
  let log: number | undefined;
  if (spec.logStdout) {
    const out = child.stdout as unknown as { pause?(): void; _handle?: { fd?: number; readStop?(): void } } | null;
    out?.pause?.();
    out?._handle?.readStop?.();
    log = out?._handle?.fd;
    if (log === undefined || log < 3) {
      abort();
      throw new TsjailError(`cannot start ${spec.what}: no socket for its log`);
    }
    opts.clearCloexec(log);
  }
  const binds: MountOp[] = [];
  for (const s of spec.sockets) {
    const host = path.join(dir, s.name);
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(host, { bigint: true });
    } catch {
      abort();
      throw new TsjailError(`${spec.what} reported ready but ${host} does not exist`);
    }
    binds.push({
      op: 'bind',
      src: fs.realpathSync(host),
      dest: s.inside,
      dev: st.dev,
      ino: st.ino,
      kind: 'file',
      flags: ['ro', 'nosuid', 'nodev', 'noexec'],
      why: s.why,
    });
  }
  return { pid, dir, lifeline: fd, binds, abort, ...(log !== undefined ? { log } : {}) };
}

/** Start xdg-dbus-proxy for `buses`. */
export function startProxy(
  buses: DbusBusPlan[],
  opts: {
    env: NodeJS.ProcessEnv;
    hostRuntime?: string;
    clearCloexec: (fd: number) => void;
    timeoutMs?: number;
    /** Refusals are reported: --log, line-buffered (stdbuf), on StartedProxy.log. */
    log?: boolean;
    /** Learning: --log, line-buffered, written to this descriptor (one bus per proxy, so each log is its bus's). */
    logTo?: number;
  },
): StartedProxy {
  const proxy = findProxy(opts.env);
  const logged = opts.log === true || opts.logTo !== undefined;
  const stdbuf = logged ? findOnPath('stdbuf', opts.env) : undefined;
  const addresses = buses.map((b) => b.address).join(', ');
  return startHelper(
    {
      what: 'xdg-dbus-proxy',
      dirPrefix: 'tsjail-dbus-',
      argv: (dir) => [
        ...(stdbuf ? [stdbuf, '-oL'] : []),
        proxy,
        '--fd=3',
        ...buses.flatMap((b) => [
          b.address,
          path.join(dir, b.bus),
          '--filter',
          ...(logged ? ['--log'] : []),
          ...b.rules,
        ]),
      ],
      ...(opts.logTo !== undefined ? { logTo: opts.logTo } : opts.log ? { logStdout: true } : {}),
      sockets: buses.map((b) => ({ name: b.bus, inside: b.inside, why: `the ${b.bus} bus through xdg-dbus-proxy` })),
      exitHint: `is the bus at ${addresses} running?`,
    },
    opts,
  );
}
