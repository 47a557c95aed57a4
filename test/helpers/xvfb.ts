/**
 * An Xvfb display of the test user with cookie authentication, on the first
 * display number free on this machine, chosen by Xvfb itself (-displayfd):
 * other runs may start X servers at the same moment, so no number guessed
 * beforehand is safe.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import * as fs from 'node:fs';
import { asUser, IS_ROOT, userEnv, writeUserFile } from './sandbox.js';

export interface Xvfb {
  /** The display number: DISPLAY=:n. */
  n: number;
  process: ChildProcess;
  /** The inode of /tmp/.X11-unix/Xn once the server said its number, if it was a socket then. */
  socketIno?: bigint;
  /** The end of what the server wrote on stderr so far. */
  log: () => string;
}

/**
 * Starts Xvfb as the test user, accepting `cookie`, which `auth` (a fresh
 * file) then holds for display :n; the server is stopped at teardown.
 */
export async function startXvfb(t: Test, home: string, auth: string, cookie: string): Promise<Xvfb> {
  const xauth = (...args: string[]) => {
    const argv = asUser(['xauth', '-f', auth, ...args], userEnv({ home }));
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`xauth ${args.join(' ')} failed: ${r.stderr}`);
  };
  // The server takes every cookie of its -auth file when it starts, whatever
  // display an entry names: ours goes in under a placeholder until the
  // number is known.
  writeUserFile(auth, '', 0o600);
  const placeholder = 'tsjail-placeholder/unix:0';
  xauth('add', placeholder, '.', cookie);
  // -noreset: an X server resets whenever its last client leaves, and
  // closes every client still in its handshake then, which reports only
  // that it cannot open the display. A desktop session always has clients;
  // a test's server has none but the program starting and the test's own
  // short-lived xwininfo and xwd, so every poll left it empty: the program
  // lost that race under load (krita "could not connect to display :1000",
  // totem "cannot open display :1001"). desktop-x11-clients.test.ts.
  const argv = asUser(
    ['Xvfb', '-displayfd', '1', '-noreset', '-screen', '0', '800x600x24', '-nolisten', 'tcp', '-auth', auth],
    userEnv({ home }),
  );
  const xvfb = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  xvfb.stderr.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-2000)));
  t.teardown(() => {
    xvfb.kill('SIGTERM');
  });
  // Xvfb writes the number once it listens.
  const n = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb chose no display within 30 s: ${out}`)), 30_000);
    xvfb.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    xvfb.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before it chose a display`));
    });
  });
  xauth('add', `:${n}`, '.', cookie);
  xauth('remove', placeholder);
  const st = fs.lstatSync(`/tmp/.X11-unix/X${n}`, { bigint: true, throwIfNoEntry: false });
  return { n, process: xvfb, socketIno: st?.isSocket() ? st.ino : undefined, log: () => log };
}

/** /tmp/.X11-unix, where X servers put their sockets: made (sticky, world-writable) when root and missing. */
export function ensureX11Dir(): void {
  if (IS_ROOT && !fs.existsSync('/tmp/.X11-unix')) {
    fs.mkdirSync('/tmp/.X11-unix', { recursive: true }); // another test may make it at the same moment
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
  }
}
