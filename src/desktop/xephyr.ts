/**
 * The nested X server of `sockets: ["x11-isolated"]`: one Xephyr per
 * sandbox, a client of the host's display (one window there) and the only X
 * server the program reaches. It listens on its path socket only (no TCP, no
 * abstract name, which any process of the host's network namespace could
 * reach) and accepts only a fresh cookie that exists in its private 0700
 * directory and in the sandbox. It never resets (-noreset): its state lasts
 * as long as the sandbox, whichever of the program's clients come and go.
 *
 * Lifetime as with the D-Bus proxy (proxy.ts): a small shell, detached, runs
 * Xephyr and reads one end of a socket pair until it closes; the other end
 * is a LIFELINE the shim's monitor holds for exactly the sandbox's lifetime.
 * When it closes (the sandbox ended, or tsjail was killed) the shell kills
 * Xephyr and removes the directory. Xephyr writes its display number on the
 * same socket (-displayfd) once it listens: that is the ready signal; if
 * Xephyr exits first, the shell exits too and the pair reads end of file.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import type { MountOp, NestedXPlan } from '../plan/plan.js';
import { findOnPath, sleepMs } from './proxy.js';
import { encodeXauth, FAMILY_WILD } from './xauth.js';

export const XEPHYR_READY_TIMEOUT_MS = 10_000;

export function findXephyr(env: NodeJS.ProcessEnv, origin: string): string {
  const p = findOnPath('Xephyr', env);
  if (p) return p;
  throw new TsjailError(
    `${origin}: sockets: "x11-isolated" needs Xephyr (Debian package xserver-xephyr), and it is not installed`,
  );
}

export interface StartedNestedX {
  pid: number;
  /** Its display number on the host. */
  display: number;
  /** Our end of the socket pair: blocking, not close-on-exec. */
  lifeline: number;
  /** The server's socket at the inside display's path, and the sandbox's cookie. */
  ops: MountOp[];
  abort(): void;
}

/** A display number of the host with neither a socket nor a lock file. */
function freeHostDisplay(): number {
  for (let tries = 0; tries < 1000; tries++) {
    const n = 3000 + crypto.randomInt(20_000);
    if (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && !fs.existsSync(`/tmp/.X${n}-lock`)) return n;
  }
  throw new TsjailError('x11-isolated: no free X display number for the nested server');
}

const SCRIPT =
  'd=$1; shift; "$@" 2>"$d/log" & p=$!; { read -r _ <&3; kill $p; } & w=$!; wait $p; kill $w 2>/dev/null; tail -n 2 "$d/log" >&3; rm -rf -- "$d"';

function startOnce(
  x: NestedXPlan,
  n: number,
  dir: string,
  opts: { clearCloexec: (fd: number) => void; timeoutMs?: number },
): { pid: number; n: number; fd: number; abort: () => void } | 'taken' {
  const args = [
    ':' + n,
    '-displayfd',
    '3',
    '-auth',
    path.join(dir, 'auth'),
    '-nolisten',
    'tcp',
    '-nolisten',
    'local',
    // An X server resets when its last client leaves and closes every
    // client still in its handshake then: the program's clients are all
    // this one has, so one leaving as the next connects (a script's xrdb
    // before its program, a program's helpers) refused the newcomer with
    // no reason given, and a reset drops what the earlier ones set.
    '-noreset',
    '-resizeable',
    '-title',
    `tsjail :${x.inside}`,
  ];
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', DISPLAY: x.hostDisplay, XAUTHORITY: x.hostXauthority };
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'tsjail-xephyr', dir, x.server, ...args], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    detached: true,
    env,
  });
  const pid = child.pid;
  const fd = (child.stdio[3] as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd;
  const kill = (): void => {
    if (pid === undefined) return;
    try {
      // TERM: Xephyr removes its socket and lock file; the shell and its reader end.
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  if (pid === undefined || fd === undefined || fd < 3) {
    kill();
    throw new TsjailError('cannot start Xephyr: no socket pair to it');
  }
  child.unref();
  const timeout = opts.timeoutMs ?? XEPHYR_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeout;
  const buf = Buffer.alloc(512);
  let got = '';
  for (;;) {
    let r: number;
    try {
      r = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        kill();
        throw new TsjailError(`Xephyr: ${(e as Error).message}`);
      }
      if (Date.now() > deadline) {
        kill();
        throw new TsjailError(`Xephyr was not ready within ${timeout} ms (host display ${x.hostDisplay})`);
      }
      sleepMs(5);
      continue;
    }
    if (r === 0) break;
    got += buf.subarray(0, r).toString('latin1');
    if (/^\d+\n/.test(got)) break;
  }
  if (!/^\d+\n/.test(got)) {
    kill();
    // What Xephyr said last, passed on by the shell when it exited.
    if (/already active|already in use/i.test(got)) return 'taken';
    const last = got.trim().split('\n').pop()?.trim();
    throw new TsjailError(
      `Xephyr exited before it was ready (host display ${x.hostDisplay})${last ? `: ${last}` : ''}`,
    );
  }
  if (got.trim() !== String(n)) {
    kill();
    throw new TsjailError(`Xephyr reported display ${JSON.stringify(got.trim())}, expected :${n}`);
  }
  opts.clearCloexec(fd);
  return { pid, n, fd, abort: kill };
}

export function startNestedX(
  x: NestedXPlan,
  opts: { clearCloexec: (fd: number) => void; timeoutMs?: number },
): StartedNestedX {
  const base = x.hostRuntime && fs.existsSync(x.hostRuntime) ? x.hostRuntime : os.tmpdir();
  const cookie = crypto.randomBytes(16);
  const entry = (number: string) => ({
    family: FAMILY_WILD,
    address: Buffer.alloc(0),
    number,
    name: 'MIT-MAGIC-COOKIE-1',
    data: cookie,
  });
  for (let attempt = 0; attempt < 5; attempt++) {
    // A directory per attempt: the shell removes it when its server exits.
    const dir = fs.mkdtempSync(path.join(base, 'tsjail-x11-'));
    const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
    let r: ReturnType<typeof startOnce>;
    try {
      fs.chmodSync(dir, 0o700);
      // The server accepts every cookie in its -auth file; the number matters only to clients.
      fs.writeFileSync(path.join(dir, 'auth'), encodeXauth([entry('')]), { mode: 0o600 });
      r = startOnce(x, freeHostDisplay(), dir, opts);
    } catch (e) {
      removeDir();
      throw e;
    }
    if (r === 'taken') {
      removeDir();
      continue;
    }
    const started = r;
    const abort = (): void => {
      started.abort();
      removeDir();
    };
    const socket = `/tmp/.X11-unix/X${started.n}`;
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(socket, { bigint: true });
      if (!st.isSocket()) throw new Error('not a socket');
    } catch {
      abort();
      throw new TsjailError(`Xephyr reported display :${started.n} ready, but ${socket} is not its socket`);
    }
    const ops: MountOp[] = [
      {
        op: 'bind',
        src: fs.realpathSync(socket),
        dest: `/tmp/.X11-unix/X${x.inside}`,
        dev: st.dev,
        ino: st.ino,
        kind: 'file',
        flags: ['ro', 'nosuid', 'nodev', 'noexec'],
        why: `x11-isolated: the nested X server :${started.n}`,
      },
      {
        op: 'file',
        dest: x.xauthority,
        mode: 0o600,
        content: encodeXauth([entry(x.inside)]),
        why: "the nested X server's cookie",
      },
    ];
    return { pid: started.pid, display: started.n, lifeline: started.fd, ops, abort };
  }
  throw new TsjailError('x11-isolated: every display number tried for the nested X server was taken');
}
