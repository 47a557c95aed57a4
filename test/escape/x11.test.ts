// Issue 10, item 7: X11 beside Wayland. On a real Xvfb display (cookie
// authentication, started as the test user) a client of the display can read
// another client's window and type into it: the outside control shows both
// with xwd and xdotool. Under a profile with `x11` the sandboxed program can
// do the same (documented, and said on stderr); with a Wayland socket present
// the browser profiles get no X11 at all; under `x11-isolated` the program
// talks to a nested Xephyr of its own, where the host's windows do not exist,
// and that server ends with the sandbox, also when tsjail is SIGKILLed.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  asUser,
  IS_ROOT,
  makeUserDir,
  mkUserDir,
  removeDir,
  tsjail,
  tsjailArgv,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';
import { startXvfb } from '../helpers/xvfb.js';
import { decodeXwd } from '../helpers/xwd.js';
import { countColour } from '../helpers/png.js';

const tools = ['Xvfb', 'xauth', 'xwd', 'xlogo', 'xev', 'xdotool', 'Xephyr'];
const missing = tools.filter((p) => !installed(p));
const VICTIM_GREEN: [number, number, number] = [0, 255, 0];

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nested servers tsjail started for display :n (its window title names the number inside, 1000 + n). */
function nestedServers(n: number): string[] {
  const r = spawnSync('pgrep', ['-a', '-x', 'Xephyr'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.endsWith(`-title tsjail :${1000 + n}`));
}

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  if (IS_ROOT && !fs.existsSync('/tmp/.X11-unix')) {
    fs.mkdirSync('/tmp/.X11-unix', { recursive: true });
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
  }
  const home = makeUserDir('escape-x11');
  const auth = path.join(home, '.Xauthority');
  // Stopped at teardown: the clients, Xvfb (startXvfb) and the directory.
  const children: ChildProcess[] = [];
  t.teardown(() => {
    for (const c of children) c.kill('SIGTERM');
  });
  const { n } = await startXvfb(t, home, auth, crypto.randomBytes(16).toString('hex'));
  t.teardown(() => removeDir(home));
  const env = { DISPLAY: `:${n}`, XAUTHORITY: auth };
  const opts = { home, env };
  const start = (cmd: string[], stdio: 'ignore' | 'pipe' = 'ignore'): ChildProcess => {
    const argv = asUser(cmd, userEnv(opts));
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', stdio, 'ignore'] });
    children.push(c);
    return c;
  };
  const run = (cmd: string[]) => {
    const argv = asUser(cmd, userEnv(opts));
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  };
  // The victims: a window painted green (to be read) and one that prints
  // every key it receives (to be typed into).
  let xevOut = '';
  t.before(async () => {
    await until(`Xvfb :${n}`, () => fs.existsSync(`/tmp/.X11-unix/X${n}`));
    start(['xlogo', '-name', 'tsjail-victim-logo', '-bg', '#00ff00', '-fg', '#00ff00', '-geometry', '300x300+0+0']);
    const xev = start(['xev', '-name', 'tsjail-victim-keys', '-geometry', '100x100+400+0'], 'pipe');
    xev.stdout!.on('data', (d) => (xevOut += d));
    await until(
      'the victim windows',
      () =>
        run(['xdotool', 'search', '--name', 'tsjail-victim-keys']).status === 0 &&
        run(['xdotool', 'search', '--name', 'tsjail-victim-logo']).status === 0,
    );
  });

  /** The share of the screenshot (xwd output) that is the victim's green. */
  const greenOf = (xwd: Buffer): number => {
    const img = decodeXwd(xwd);
    return countColour(img, VICTIM_GREEN) / (img.width * img.height);
  };
  // Read the whole screen, and type a key into the victim's window by
  // XSendEvent; the marker says which commands worked.
  // The screenshot goes to a directory given with --rw (too big for a pipe's buffer).
  const shots = path.join(home, 'shots');
  mkUserDir(shots);
  const shotFile = path.join(shots, 'shot.xwd');
  const SPY =
    `rm -f ${shotFile}; xwd -root -silent > ${shotFile} 2>/dev/null && echo shot=ok || echo shot=failed; ` +
    'w=$(xdotool search --name tsjail-victim-keys 2>/dev/null | head -1); echo "found=${w:-none}"; ' +
    '[ -n "$w" ] && xdotool key --window "$w" F7 && echo typed=ok; ' +
    'echo "display=$DISPLAY"; ls -A /tmp/.X11-unix 2>/dev/null | tr "\\n" " "; echo';
  const parseSpy = (stdout: string) => ({ text: stdout, shot: fs.readFileSync(shotFile) });

  t.test('control: a client of the host display reads another window and types into it', async (t) => {
    const argv = asUser(['/bin/sh', '-c', SPY], userEnv(opts));
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20, cwd: home });
    const { text, shot } = parseSpy(r.stdout);
    t.match(text, /shot=ok/);
    t.ok(greenOf(shot) > 0.1, `the victim's green is in the screenshot (${(greenOf(shot) * 100).toFixed(1)}%)`);
    t.match(text, /typed=ok/);
    await until('the key at the victim', () => /KeyPress event.*\n.*\n.*\(keysym 0x[0-9a-f]+, F7\)/.test(xevOut));
    t.pass('the victim received F7');
  });

  t.test('x11 (no Wayland): the same is possible, and tsjail says so on stderr', async (t) => {
    xevOut = '';
    const r = tsjail(['-p', 'firefox', '--rw', shots, '--', '/bin/sh', '-c', SPY], { ...opts, timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    const { text, shot } = parseSpy(r.stdout);
    t.ok(greenOf(shot) > 0.1, "the sandboxed program reads the victim's window");
    t.match(text, /typed=ok/, 'and types into it');
    await until('the key at the victim', () => /F7\)/.test(xevOut));
    t.equal(r.stderr.match(/warning: x11 /g)?.length, 1, 'one warning');
    t.match(r.stderr, /read every keystroke and the contents of every window, and type into other applications/);
  });

  t.test('a Wayland socket present: the browser profiles get Wayland only', async (t) => {
    // A stand-in compositor: a listening socket where WAYLAND_DISPLAY names it.
    const runtime = path.join(home, 'run');
    mkUserDir(runtime, 0o700);
    const sock = path.join(runtime, 'wayland-7');
    const server = net.createServer((c) => c.end('hello-wayland\n'));
    await new Promise<void>((r) => server.listen(sock, r));
    t.teardown(() => server.close());
    fs.chmodSync(sock, 0o777);
    if (IS_ROOT) fs.chownSync(sock, Number(run(['id', '-u']).stdout), Number(run(['id', '-g']).stdout));
    for (const profile of ['firefox', 'chromium']) {
      const r = tsjail(
        [
          '-p',
          profile,
          '-v',
          '--rw',
          shots,
          '--',
          '/bin/sh',
          '-c',
          `echo "W=$WAYLAND_DISPLAY D=[$DISPLAY] X=[$XAUTHORITY]"; ls -A /tmp/.X11-unix 2>&1; ${SPY}`,
        ],
        {
          home,
          env: { ...env, XDG_RUNTIME_DIR: runtime, WAYLAND_DISPLAY: 'wayland-7' },
        },
      );
      t.equal(r.status, 0, `${profile} starts${r.status === 0 ? '' : `: ${r.stderr.slice(-800)}`}`);
      t.match(r.stdout, 'W=wayland-7 D=[] X=[]', `${profile}: Wayland, no DISPLAY, no cookie`);
      t.match(r.stdout, /No such file or directory/, `${profile}: no X socket at all`);
      t.match(r.stdout, /shot=failed/, `${profile}: no screenshot`);
      t.match(r.stdout, /found=none/, `${profile}: no window found`);
      t.notMatch(r.stderr, /warning: x11/, `${profile}: no X11 warning: X11 was not granted`);
      t.match(r.stderr, /x11 .*not granted, the Wayland socket is/, `${profile}: -v says why`);
    }
  });

  const isolated = path.join(home, 'isolated.json5');
  writeUserFile(isolated, '{ sockets: ["x11-isolated"], filesystem: { tmpfs: ["${HOME}"] } }\n');

  t.test("x11-isolated: a nested server of its own, where the host's windows do not exist", async (t) => {
    xevOut = '';
    const r = tsjail(['-p', isolated, '--rw', shots, '--', '/bin/sh', '-c', SPY], { ...opts, timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    const { text, shot } = parseSpy(r.stdout);
    t.match(text, /shot=ok/, 'a screenshot of its own display works');
    t.equal(greenOf(shot), 0, 'and it holds nothing of the victim');
    t.match(text, /found=none/, 'no host window can be found');
    t.notMatch(text, /typed=ok/, 'so none can be typed into');
    const inside = /display=:(\d+)/.exec(text)?.[1];
    t.match(text, new RegExp(`^X${inside} $`, 'm'), "one X socket inside: the nested server's");
    t.notMatch(r.stderr, /warning/, 'no warning');
    // Give the victim a moment: nothing may arrive.
    await new Promise((res) => setTimeout(res, 500));
    t.notMatch(xevOut, /F7\)/, 'the victim received nothing');
    await until('the nested server to end with the sandbox', () => nestedServers(n).length === 0);
    t.pass('the nested server ended with the sandbox');
  });

  t.test('x11-isolated: the nested server dies when tsjail is SIGKILLed', async (t) => {
    const argv = asUser(
      tsjailArgv(['-p', isolated, '--', '/bin/sh', '-c', 'xdpyinfo >/dev/null && echo up; sleep 600']),
      userEnv(opts),
    );
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: home });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until('the program to reach its display', () => out.includes('up'), 30_000);
    t.equal(nestedServers(n).length, 1, 'one nested server while it runs');
    // tsjail is the process setpriv exec'd into (the shim's monitor).
    child.kill('SIGKILL');
    await until('the nested server to go', () => nestedServers(n).length === 0);
    t.pass('gone with the sandbox');
  });
}
