// SPEC: signals sent to tsjail reach the program; when the program exits,
// whatever it left running is killed; when tsjail is killed, the whole
// sandbox dies at once.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { asUser, testUser, tsjailArgv, userEnv } from '../helpers/sandbox.js';

const user = testUser();

function start(script: string) {
  const argv = asUser(tsjailArgv(['--', '/bin/sh', '-c', script]), userEnv({}));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: user.home });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never ready: ${out}`)), 20000);
    child.stdout.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited, output: () => out };
}

/** Processes of the test user whose command line contains `marker`. */
function survivors(marker: string): string[] {
  const r = spawnSync('pgrep', ['-u', String(user.uid), '-f', marker], { encoding: 'utf8' });
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}

/** Waits (polling, up to 10 s on a loaded machine) until no process carries `marker`. */
async function gone(marker: string, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (survivors(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return survivors(marker).length === 0;
}

for (const [sig, num] of [
  ['SIGHUP', 1],
  ['SIGINT', 2],
  ['SIGQUIT', 3],
  ['SIGTERM', 15],
  ['SIGUSR1', 10],
  ['SIGUSR2', 12],
] as const) {
  t.test(`${sig} sent to tsjail reaches the program`, async (t) => {
    const name = sig.slice(3);
    const s = start(`trap 'echo got-${name}; exit ${40 + num}' ${name}; echo ready; while :; do sleep 0.05; done`);
    await s.ready;
    s.child.kill(sig);
    const ex = await s.exited;
    t.equal(ex.code, 40 + num, s.output());
    t.match(s.output(), `got-${name}`);
  });
}

t.test('what the program leaves running is killed when it exits', async (t) => {
  const marker = `sleep 98765${process.pid}`; // this run's own, whatever other runs leave
  const s = start(`${marker} & ${marker} & echo ready; exit 7`);
  const ex = await s.exited;
  t.equal(ex.code, 7);
  t.ok(await gone(marker), `no orphan left: ${survivors(marker).join(',')}`);
});

t.test('when tsjail is killed the whole sandbox dies at once', async (t) => {
  const marker = `sleep 87654${process.pid}`;
  const s = start(`${marker} & (${marker} &) ; echo ready; ${marker}`);
  await s.ready;
  t.ok(survivors(marker).length >= 3, 'the sandbox is running');
  s.child.kill('SIGKILL');
  await s.exited;
  t.ok(await gone(marker), `everything inside died: ${survivors(marker).join(',')}`);
});

t.test('no Node process stays beside the program', async (t) => {
  const s = start('echo ready; sleep 30');
  await s.ready;
  const pid = s.child.pid!;
  const comm = spawnSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8' }).stdout.trim();
  t.equal(comm, 'tsjail-shim', 'the process the caller waits on became the shim');
  const tree = spawnSync('ps', ['-o', 'comm=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  t.notMatch(tree, /node/);
  s.child.kill('SIGTERM');
  await s.exited;
});
