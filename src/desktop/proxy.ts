/**
 * Starting xdg-dbus-proxy at the hand-over. The proxy runs as its own
 * detached process (so a ^C on the terminal reaches only the sandbox) with
 * `--fd=3`: it writes one byte there when its sockets listen, and exits when
 * the other end of that socket pair closes. The other end becomes a LIFELINE
 * of the plan: the shim's monitor holds it for exactly the sandbox's
 * lifetime, so the proxy dies with the sandbox, however the sandbox ends.
 * Its sockets live in a fresh 0700 directory that a small shell removes
 * when the proxy has exited.
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

/**
 * Start the proxy for `buses` and wait until it is ready. `clearCloexec`
 * makes our end of the socket pair survive the execve into the shim (and
 * blocking).
 */
export function startProxy(
  buses: DbusBusPlan[],
  opts: { env: NodeJS.ProcessEnv; hostRuntime?: string; clearCloexec: (fd: number) => void; timeoutMs?: number },
): StartedProxy {
  const proxy = findProxy(opts.env);
  const base = opts.hostRuntime && fs.existsSync(opts.hostRuntime) ? opts.hostRuntime : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'tsjail-dbus-'));
  fs.chmodSync(dir, 0o700);
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const args = ['--fd=3'];
  const sockets: { bus: DbusBusPlan; host: string }[] = [];
  for (const b of buses) {
    const host = path.join(dir, b.bus);
    sockets.push({ bus: b, host });
    args.push(b.address, host, '--filter', ...b.rules);
  }
  // The shell waits for the proxy, then removes the directory of its sockets.
  const script = 'd=$1; shift; "$@"; rm -rf -- "$d"';
  let child;
  try {
    child = spawn('/bin/sh', ['-c', script, 'tsjail-dbus-proxy', dir, proxy, ...args], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
      detached: true,
      env: { PATH: '/usr/bin:/bin' },
    });
  } catch (e) {
    removeDir();
    throw new TsjailError(`cannot start xdg-dbus-proxy: ${(e as Error).message}`);
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
    throw new TsjailError('cannot start xdg-dbus-proxy: no socket pair to it');
  }
  child.unref();
  // Wait for the ready byte: the descriptor is still non-blocking here.
  const deadline = Date.now() + (opts.timeoutMs ?? PROXY_READY_TIMEOUT_MS);
  const buf = Buffer.alloc(1);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        abort();
        throw new TsjailError(`xdg-dbus-proxy: ${(e as Error).message}`);
      }
      if (Date.now() > deadline) {
        abort();
        throw new TsjailError(
          `xdg-dbus-proxy was not ready within ${opts.timeoutMs ?? PROXY_READY_TIMEOUT_MS} ms (bus ${buses.map((b) => b.address).join(', ')})`,
        );
      }
      sleepMs(5);
      continue;
    }
    if (n === 0) {
      abort();
      throw new TsjailError(
        `xdg-dbus-proxy exited before it was ready; is the bus at ${buses.map((b) => b.address).join(', ')} running?`,
      );
    }
    break;
  }
  opts.clearCloexec(fd);
  const binds: MountOp[] = [];
  for (const s of sockets) {
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(s.host, { bigint: true });
    } catch {
      abort();
      throw new TsjailError(`xdg-dbus-proxy reported ready but ${s.host} does not exist`);
    }
    binds.push({
      op: 'bind',
      src: fs.realpathSync(s.host),
      dest: s.bus.inside,
      dev: st.dev,
      ino: st.ino,
      kind: 'file',
      flags: ['ro', 'nosuid', 'nodev', 'noexec'],
      why: `the ${s.bus.bus} bus through xdg-dbus-proxy`,
    });
  }
  return { pid, dir, lifeline: fd, binds, abort };
}
