// Issue 10, item 6: abstract unix sockets and the host's network. Abstract
// names belong to a network namespace. A program that shares the host's
// can (1) take a name a host service will use later: a later X client
// outside connects to @/tmp/.X11-unix/XN and sends its cookie to the
// squatter, and a real X server on :N cannot start; and (2), where Landlock
// cannot scope abstract sockets (ABI < 6, kernels before 6.12), connect to
// the host's own abstract sockets, an X server's or a session bus's, past
// the D-Bus proxy. Outside controls show both techniques work without
// tsjail; under each shipped profile they fail or the profile refuses to
// start. The browser profiles have a network namespace of their own
// ("private", issue 16), which holds none of the host's names; with the
// host's network (--net host, or their fallback where pasta cannot run)
// squatting stays open, as SECURITY.md says.
import t from 'tap';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, makeUserDir, removeDir, tsjail, tsjailArgv, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';
import { privateNetworkSkip } from '../helpers/internet.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = makeUserDir('escape-abstract');
t.teardown(() => removeDir(bin));
const probe = path.join(bin, 'probe');
execFileSync('gcc', ['-O2', '-Wall', '-o', probe, path.join(here, 'probe.c')]);
fs.chmodSync(probe, 0o755);

// A display number no X server uses now, and no other test picks.
function freeName(): { n: number; name: string } {
  const taken = fs.readFileSync('/proc/net/unix', 'utf8');
  for (let n = 5000 + (process.pid % 1000); ; n++) {
    const name = `/tmp/.X11-unix/X${n}`;
    if (!taken.includes(`@${name}\n`) && !fs.existsSync(name) && !fs.existsSync(`/tmp/.X${n}-lock`)) return { n, name };
  }
}

const ECONNREFUSED = 'errno=111';
const EPERM = 'errno=1';
const running: ChildProcess[] = [];
t.teardown(() => running.forEach((c) => c.kill('SIGKILL')));

/** Start `argv` (as the test user) and wait until it prints "ready": the name is bound. */
async function listener(argv: string[]): Promise<{ child: ChildProcess; out: () => string }> {
  const full = asUser(argv, userEnv({ home: bin }));
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: bin });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (out.includes('ready') || child.exitCode !== null || child.signalCode !== null) resolve();
    };
    child.stdout!.on('data', check);
    child.on('exit', () => resolve());
  });
  return { child, out: () => out };
}

/** connect() to @name from outside, as the test user. */
function connectOutside(name: string): string {
  const argv = asUser([probe, `connect_abstract=${name}`], userEnv({ home: bin }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: bin });
  return r.stdout.trim();
}

/** Can a real X server start on :n (it binds @/tmp/.X11-unix/Xn)? */
function xServerStarts(n: number): boolean {
  const argv = asUser(['Xvfb', `:${n}`, '-nolisten', 'tcp', '-screen', '0', '64x64x24'], userEnv({ home: bin }));
  const x = spawnSync('timeout', ['-s', 'TERM', '4', ...argv], { encoding: 'utf8' });
  // Killed by timeout's TERM after running for 4 s: it started. Exit 1 at once: it could not listen.
  return x.status === 124;
}

const haveXvfb = installed('Xvfb');

t.test('control: outside, a second process takes an abstract X11 name; clients and the X server meet it', async (t) => {
  const { n, name } = freeName();
  const squat = await listener([probe, '--listen-abstract', name]);
  t.match(squat.out(), 'ready', 'the name is bound');
  t.equal(connectOutside(name), 'connect_abstract ok', 'a later X client connects to the squatter');
  if (haveXvfb) t.notOk(xServerStarts(n), `a real X server on :${n} cannot start`);
  squat.child.kill('SIGKILL');
  await new Promise((r) => squat.child.once('exit', r));
  if (haveXvfb) t.ok(xServerStarts(n), 'once the squatter is gone it can');
});

/** Bind @name inside a sandbox under `opts`; keep it bound while `check` runs. */
async function squatInside(opts: string[], name: string, env: Record<string, string> = {}) {
  const argv = tsjailArgv([...opts, '--ro', bin, '--', probe, '--listen-abstract', name]);
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return listener(['env', ...envArgs, ...argv]);
}

// A network namespace of its own: the name is bound there, not on the host.
for (const profile of ['default', 'untrusted']) {
  t.test(`${profile}: a name bound inside is not the host's`, async (t) => {
    const { n, name } = freeName();
    const squat = await squatInside(['-p', profile], name);
    t.match(squat.out(), 'ready', 'bind inside works (its own namespace)');
    t.equal(connectOutside(name), `connect_abstract ${ECONNREFUSED}`, 'a client outside does not reach it');
    if (haveXvfb) t.ok(xServerStarts(n), `a real X server on :${n} starts`);
    squat.child.kill('SIGTERM');
  });
}

// The browser profiles' own network namespace ("private", issue 16): the
// name is bound there. With the host's network (their fallback where pasta
// cannot run, or --net host) Landlock's scope (ABI 6) restricts connecting
// out of the sandbox, not binding, and a host client is in no Landlock
// domain; a seccomp filter cannot read bind()'s address: squatting is open
// there (SECURITY.md).
const noPasta = privateNetworkSkip();
for (const profile of ['firefox', 'chromium']) {
  t.test(`${profile}: a name bound inside does not capture the host's clients`, { skip: noPasta }, async (t) => {
    const { n, name } = freeName();
    const squat = await squatInside(['-p', profile], name);
    t.match(squat.out(), 'ready', 'bind inside works (its own network namespace)');
    t.notMatch(squat.out(), /network\.fallback/, 'the private network ran, no fallback');
    t.equal(connectOutside(name), `connect_abstract ${ECONNREFUSED}`, 'a client outside does not reach it');
    if (haveXvfb) t.ok(xServerStarts(n), `a real X server on :${n} starts`);
    squat.child.kill('SIGTERM');
  });
}

// Reach: the host's abstract sockets where Landlock cannot scope them.
t.test(
  "reach: the browser profiles' own network has none of the host's abstract sockets, on every kernel",
  async (t) => {
    const { name } = freeName();
    const host = await listener([probe, '--listen-abstract', name]);
    t.teardown(() => host.child.kill('SIGKILL'));
    t.equal(connectOutside(name), 'connect_abstract ok', 'control: the host listener answers outside');
    for (const profile of ['firefox', 'chromium']) {
      for (const abi of noPasta ? [] : ['', '5', '0']) {
        const r = tsjail(['-p', profile, '--ro', bin, '--', probe, `connect_abstract=${name}`], {
          cwd: bin,
          env: abi ? { TSJAIL_LANDLOCK_ABI: abi } : {},
        });
        t.equal(r.status, 0, r.stderr);
        t.equal(
          r.stdout.trim(),
          `connect_abstract ${ECONNREFUSED}`,
          `${profile}, Landlock ABI ${abi || 'of the kernel'}: not there`,
        );
      }
    }
  },
);

// With the host's network, where Landlock cannot scope abstract sockets.
t.test('reach: with the host network and no scoping, the browser profiles refuse to start', async (t) => {
  const { name } = freeName();
  const host = await listener([probe, '--listen-abstract', name]);
  t.teardown(() => host.child.kill('SIGKILL'));
  t.equal(connectOutside(name), 'connect_abstract ok', 'control: the host listener answers outside');
  for (const profile of ['firefox', 'chromium']) {
    const scoped = tsjail(['-p', profile, '--net', 'host', '--ro', bin, '--', probe, `connect_abstract=${name}`], {
      cwd: bin,
    });
    t.equal(scoped.stdout.trim(), `connect_abstract ${EPERM}`, `${profile}, ABI 6 or later: Landlock refuses it`);
    for (const abi of ['5', '0']) {
      const r = tsjail(['-p', profile, '--net', 'host', '--ro', bin, '--', probe, `connect_abstract=${name}`], {
        cwd: bin,
        env: { TSJAIL_LANDLOCK_ABI: abi },
      });
      t.equal(r.status, 125, `${profile} --net host, Landlock ABI ${abi}: refuses to start`);
      t.equal(r.stdout, '', 'nothing ran');
      t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      t.match(r.stderr, /cannot scope abstract unix sockets.*unscopedAbstractSockets: true/, 'naming the key');
    }
    // Its fallback where pasta cannot run is the host's network: refused the same way.
    const fb = tsjail(['-p', profile, '--ro', bin, '--', probe, `connect_abstract=${name}`], {
      cwd: bin,
      env: { TSJAIL_LANDLOCK_ABI: '5', TSJAIL_PASTA: '/nonexistent/pasta' },
    });
    t.equal(fb.status, 125, `${profile} without pasta, ABI 5: the fallback refuses to start`);
    t.match(fb.stderr, /cannot scope abstract unix sockets/);
  }
  // A profile that says so starts, says once what it allows, and reaches the host's socket.
  const cfg = path.join(bin, 'config');
  writeUserFile(
    path.join(cfg, 'tsjail', 'profiles', 'firefox.local.json5'),
    '{ network: { mode: "host", unscopedAbstractSockets: true } }\n',
  );
  const r = tsjail(['-p', 'firefox', '--ro', bin, '--', probe, `connect_abstract=${name}`], {
    cwd: bin,
    env: { TSJAIL_LANDLOCK_ABI: '5', XDG_CONFIG_HOME: cfg },
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), 'connect_abstract ok', 'with the key the host socket is in reach, as documented');
  t.equal(r.stderr.match(/warning: abstract unix sockets of the host/g)?.length, 1, 'said once');
  t.match(r.stderr, /started anyway: network\.unscopedAbstractSockets/);
  // Without desktop sockets or D-Bus there is nothing to refuse: the warning stays.
  const plain = tsjail(['--net', 'host', '--ro', bin, '--', probe, `connect_abstract=${name}`], {
    cwd: bin,
    env: { TSJAIL_LANDLOCK_ABI: '5' },
  });
  t.equal(plain.status, 0, plain.stderr);
  t.match(plain.stderr, /warning: abstract unix sockets of the host/, '--net host alone warns');
});
