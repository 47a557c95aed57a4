// SPEC v2: `tsjail ps`, `enter` and `stop` on real sandboxes, as the
// unprivileged user. Each test has its own XDG_RUNTIME_DIR, so the records
// it sees are its own sandboxes' only.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  IS_ROOT,
  REPO,
  asUser,
  makeUserDir,
  mkUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailArgv,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const user = testUser();

/** A scratch home and runtime directory for one test. */
function session(t: Test) {
  const home = makeUserDir('tsjail-ps');
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  t.teardown(() => removeDir(home));
  const env = { XDG_RUNTIME_DIR: runtime };
  return { home, runtime, records: path.join(runtime, 'tsjail'), env };
}

type Session = ReturnType<typeof session>;

/** `tsjail [ARGS] sh -c SCRIPT` in the background; resolves `ready` once it printed "ready". */
function start(s: Session, args: string[], script: string) {
  const argv = asUser(tsjailArgv([...args, '--', '/bin/sh', '-c', script]), userEnv({ home: s.home, env: s.env }));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: s.home });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never ready: ${out}`)), 30_000);
    const check = () => {
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before ready: ${out}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => out };
}

function run(s: Session, args: string[]) {
  return tsjail(args, { home: s.home, env: s.env });
}

interface PsEntry {
  id: string;
  name: string | null;
  profile: string;
  program: string;
  argv: string[];
  pid: number;
  init: number;
  started: string;
  layers: { namespaces: string[]; landlock: number | null; seccomp: unknown; network: string };
}

function ps(t: Test, s: Session): PsEntry[] {
  const r = run(s, ['ps', '--json']);
  t.equal(r.status, 0, `ps --json: ${r.stderr}`);
  return JSON.parse(r.stdout) as PsEntry[];
}

/** Polls (up to 20 s on a loaded machine) until the process is gone. */
async function processGone(pid: number): Promise<boolean> {
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    const st = (() => {
      try {
        return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return undefined;
      }
    })();
    if (st === undefined || / [ZX] /.test(st.slice(st.lastIndexOf(')')))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

t.test('ps lists a running sandbox with its name, profile, pid and layers; stop ends it', async (t) => {
  const s = session(t);
  const box = start(s, ['--name', 'web'], 'echo ready; exec sleep 600');
  await box.ready;
  const list = ps(t, s);
  t.equal(list.length, 1, JSON.stringify(list));
  const e = list[0]!;
  t.match(e, { name: 'web', profile: 'default', program: '/bin/sh' });
  t.equal(e.pid, box.child.pid, "the record's pid is the monitor, the process tsjail became");
  t.match(e.id, /^[0-9a-f]{12}$/);
  t.ok(e.layers.namespaces.includes('user') && e.layers.namespaces.includes('net'), 'the namespaces');
  t.equal(e.layers.network, 'none');
  t.ok(Date.now() - Date.parse(e.started) >= 0, 'a start time');
  const st = fs.statSync(s.records);
  t.equal(st.mode & 0o777, 0o700, 'the record directory is 0700');
  t.equal(st.uid, user.uid, "and the caller's");
  const table = run(s, ['ps']);
  t.match(table.stdout, /^ID\s+NAME\s+PROFILE\s+PID/);
  t.match(table.stdout, new RegExp(`${e.id}\\s+web\\s+default\\s+${e.pid}`));

  const busy = start(s, ['--name', 'web'], 'echo ready');
  const second = await busy.exited;
  t.equal(second.code, 125, 'a second live sandbox of the same name is refused');
  t.match(busy.output(), /the name web is taken/);
  t.notOk(busy.output().includes('ready'), 'and nothing ran');

  const stop = run(s, ['stop', 'web']);
  t.equal(stop.status, 0, stop.stderr);
  const ex = await box.exited;
  t.equal(ex.code, 128 + 15, 'the program got SIGTERM');
  t.same(ps(t, s), [], 'ps no longer lists it');
  t.same(fs.readdirSync(s.records), [], 'the monitor removed its record');
  const again = run(s, ['stop', 'web']);
  t.equal(again.status, 125, 'stop of an unknown sandbox is 125');
  t.match(again.stderr, /web: no running sandbox of yours/);
});

t.test('stop sends SIGKILL when SIGTERM is ignored', async (t) => {
  const s = session(t);
  const box = start(s, ['--name', 'stubborn'], 'trap "" TERM; echo ready; while :; do sleep 1; done');
  await box.ready;
  const stop = run(s, ['stop', 'stubborn']);
  t.equal(stop.status, 0, stop.stderr);
  t.match(stop.stderr, /still running after 5 s: SIGKILL/);
  const ex = await box.exited;
  t.equal(ex.signal, 'SIGKILL', 'the monitor was killed, and with it the sandbox');
  t.same(ps(t, s), []);
});

t.test('a sandbox whose tsjail was killed with SIGKILL is never listed, and its name is free', async (t) => {
  const s = session(t);
  const box = start(s, ['--name', 'gone'], 'echo ready; exec sleep 600');
  await box.ready;
  t.equal(ps(t, s).length, 1);
  const init = ps(t, s)[0]!.init;
  box.child.kill('SIGKILL');
  await box.exited;
  t.ok(await processGone(init), 'the sandbox died with its monitor');
  t.ok(
    fs.readdirSync(s.records).some((f) => f.endsWith('.json')),
    'control: a monitor killed with SIGKILL could not remove its record',
  );
  t.same(ps(t, s), [], 'ps checks the record against the live process and drops it');
  t.same(fs.readdirSync(s.records), [], 'the stale record and its name are removed');
  const again = start(s, ['--name', 'gone'], 'echo ready; exec sleep 600');
  await again.ready;
  t.equal(ps(t, s)[0]?.name, 'gone', 'the name of a dead sandbox can be used again');
  again.child.kill('SIGKILL');
  await again.exited;
  t.ok(fs.readdirSync(s.records).includes('gone.name'), 'control: the killed one left its name behind');
  const third = start(s, ['--name', 'gone'], 'echo ready; exec sleep 600');
  await third.ready;
  t.equal(ps(t, s)[0]?.name, 'gone', 'the shim itself replaces a name whose monitor is gone');
  t.equal(run(s, ['stop', 'gone']).status, 0);
  await third.exited;
});

t.test('enter: the same view and restrictions as the program; ~/.ssh invisible, mount refused', async (t) => {
  const s = session(t);
  writeUserFile(path.join(s.home, '.ssh', 'id_ed25519'), 'secret\n', 0o600);
  const mountPy =
    'import ctypes; l = ctypes.CDLL(None, use_errno=True); ' +
    'r = l.mount(b"none", b"/tmp", b"tmpfs", 0, None); print("mount", r, ctypes.get_errno())';
  // Outside controls: the key is there for the user, and the user can mount in a namespace of their own.
  const control = asUser(
    ['/bin/sh', '-c', `cat ~/.ssh/id_ed25519; unshare -rm python3 -c '${mountPy}'`],
    userEnv({ home: s.home }),
  );
  const outside = spawnSync(control[0]!, control.slice(1), { encoding: 'utf8', cwd: s.home });
  t.match(
    outside.stdout,
    /secret\nmount 0 0/,
    `control: outside, ~/.ssh is readable and mount works ${outside.stderr}`,
  );

  const box = start(s, ['--name', 'shell'], 'echo ready; exec sleep 600');
  await box.ready;
  const probe = [
    'echo pid=$$',
    'ls /proc | grep -x 2 >/dev/null && echo sees-program',
    'ls -A ~/.ssh 2>&1; echo ssh=$?',
    `python3 -c '${mountPy}'`,
    'unshare -rm true 2>/dev/null; echo unshare=$?',
    'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status',
    'id -u',
    'pwd',
  ].join('; ');
  const r = run(s, ['enter', 'shell', '--', '/bin/sh', '-c', probe]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /sees-program/, "in the sandbox's PID namespace, beside its program");
  t.notMatch(r.stdout, /id_ed25519/, '~/.ssh is not there');
  t.match(r.stdout, /ssh=[12]/);
  t.match(r.stdout, /mount -1 1\n/, 'mount(2) fails with EPERM');
  t.match(r.stdout, /unshare=[1-9]/, 'no new user namespace either');
  t.match(r.stdout, /CapEff:\s+0+\n/, 'no capabilities');
  t.match(r.stdout, /NoNewPrivs:\s+1/, 'no_new_privs');
  t.match(r.stdout, /Seccomp:\s+2/, 'a seccomp filter');
  t.match(
    r.stdout,
    new RegExp(`\n${user.uid}\n${s.home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`),
    "the caller's uid, the program's directory",
  );
  // The same program, in the same sandbox, run the usual way: what the program itself sees.
  const prog = run(s, [
    'enter',
    'shell',
    '--',
    '/bin/sh',
    '-c',
    'cat /proc/2/status | grep -E "^(Seccomp|NoNewPrivs):"',
  ]);
  t.match(prog.stdout, /NoNewPrivs:\s+1\nSeccomp:\s+2/, "the program's own status says the same");
  const status = run(s, ['enter', 'shell', '--', '/bin/sh', '-c', 'exit 7']);
  t.equal(status.status, 7, "enter returns CMD's status");
  const missing = run(s, ['enter', 'shell', '--', 'no-such-command-here']);
  t.equal(missing.status, 127, 'a command not in the sandbox is 127');
  t.equal(run(s, ['stop', 'shell']).status, 0);
  await box.exited;
  const after = run(s, ['enter', 'shell']);
  t.equal(after.status, 125, 'no entering a sandbox that ended');
});

t.test(
  "another user cannot see, enter or stop the caller's sandboxes",
  { skip: IS_ROOT ? false : 'needs a second user (root)' },
  async (t) => {
    const s = session(t);
    const box = start(s, ['--name', 'mine'], 'echo ready; exec sleep 600');
    await box.ready;
    const id = ps(t, s)[0]!.id;
    // Root, pointing at the test user's runtime directory: it is not root's, so root's records are elsewhere.
    const root = spawnSync(process.execPath, [path.join(REPO, 'bin', 'tsjail.js'), 'stop', id], {
      env: { PATH: '/usr/bin:/bin', HOME: '/root', XDG_RUNTIME_DIR: s.runtime },
      encoding: 'utf8',
    });
    t.equal(root.status, 125, `refused: ${root.stderr}`);
    t.equal(ps(t, s).length, 1, 'the sandbox still runs');
    t.equal(run(s, ['stop', id]).status, 0, 'its owner stops it by ID');
    await box.exited;
  },
);
