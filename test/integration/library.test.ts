// SPEC v2's library, used the way another project uses it: `npm pack` of
// this tree, installed into a separate package (offline when npm's cache has
// the dependencies), whose scripts `import { spawn, plan } from 'tsjail'`
// and run as the unprivileged user. README's example block is run as is.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IS_ROOT, REPO, asUser, makeUserDir, removeDir, testUser, tsjail, userEnv } from '../helpers/sandbox.js';

const user = testUser();
const consumer = makeUserDir('tsjail-lib');
const runtime = path.join(consumer, 'run');
t.teardown(() => removeDir(consumer));

/** Pack and install; the reason when that cannot be done here. */
function install(): string | undefined {
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-pack-'));
  t.teardown(() => removeDir(packDir));
  // The tree is built (test/setup.ts checks): pack it as it is.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (pack.status !== 0) return `npm pack failed: ${pack.stderr.trim()}`;
  const tarball = path.join(packDir, pack.stdout.trim().split('\n').pop()!);
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'tsjail-consumer', private: true, type: 'module' }),
  );
  const inst = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: consumer,
    encoding: 'utf8',
  });
  if (inst.status !== 0) return `npm install of the packed tarball failed: ${inst.stderr.trim()}`;
  fs.mkdirSync(runtime, { mode: 0o700 });
  if (IS_ROOT) {
    spawnSync('chmod', ['-R', 'a+rX,go-w', consumer]);
    fs.chownSync(runtime, user.uid, user.gid);
  }
  return undefined;
}

const notInstalled = install();
const skip = notInstalled ?? (fs.existsSync('/usr/bin/curl') ? false : 'curl is not installed');
const env = { XDG_RUNTIME_DIR: runtime };

/** Run a script of the consumer package as the test user. */
function script(name: string, text: string) {
  fs.writeFileSync(path.join(consumer, name), text, { mode: 0o644 });
  const argv = asUser([process.execPath, name], userEnv({ env }));
  return spawn(argv[0]!, argv.slice(1), { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
}

function collect(child: ReturnType<typeof spawn>) {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { exited, output: () => out };
}

/** Lines of the script's stdout as JSON, the last one. */
function last(out: string): Record<string, unknown> {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(st.slice(st.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function until(what: () => boolean, ms = 20_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

function ps(): { id: string; name: string | null; pid: number; init: number }[] {
  const r = tsjail(['ps', '--json'], { env });
  return r.status === 0 ? JSON.parse(r.stdout) : [];
}

t.test("README's example runs curl in a sandbox against a loopback server and gets its output", { skip }, async (t) => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /<!-- library example[^\n]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(block, 'README has the example');
  const run = collect(script('example.mjs', block!));
  const ex = await run.exited;
  t.equal(ex.code, 0, run.output());
  t.same(last(run.output()), { code: 0, signal: null, out: 'hello from the loopback\n' });
});

t.test('the ChildProcess is the sandbox: stdio, exit codes, refusals', { skip }, async (t) => {
  const run = collect(
    script(
      'codes.mjs',
      `import { spawn } from 'tsjail';
const wait = (c) => new Promise((r) => c.on('exit', (code, signal) => r({ code, signal })));
const echo = spawn('/bin/sh', ['-c', 'read x; echo "got $x"; exit 3']);
let out = '';
echo.stdout.on('data', (d) => (out += d));
echo.stdin.end('hi\\n');
const a = await wait(echo);
const killed = await wait(spawn('/bin/sh', ['-c', 'kill -KILL $$']));
const bad = spawn('true', [], { profile: 'no-such-profile-here' });
let err = '';
bad.stderr.on('data', (d) => (err += d));
const b = await wait(bad);
console.log(JSON.stringify({ a, out, killed, b, err }));
`,
    ),
  );
  const ex = await run.exited;
  t.equal(ex.code, 0, run.output());
  const r = last(run.output());
  t.same(r.a, { code: 3, signal: null }, "the program's exit code");
  t.equal(r.out, 'got hi\n', 'stdin and stdout are pipes to the program');
  t.same(r.killed, { code: 128 + 9, signal: null }, 'killed by signal 9: 137');
  t.same(r.b, { code: 125, signal: null }, 'tsjail refused: 125');
  t.match(r.err, /no-such-profile-here/, 'with one line naming what');
});

t.test('AbortSignal: aborting ends the sandbox', { skip }, async (t) => {
  const run = collect(
    script(
      'abort.mjs',
      `import { spawn } from 'tsjail';
const ac = new AbortController();
const child = spawn('/bin/sh', ['-c', 'echo ready; exec sleep 600'], { signal: ac.signal });
let aborted = false;
child.on('error', (e) => (aborted = e.name === 'AbortError'));
child.stdout.on('data', () => ac.abort());
child.on('exit', (code, signal) => console.log(JSON.stringify({ code, signal, aborted, pid: child.pid })));
`,
    ),
  );
  const ex = await run.exited;
  t.equal(ex.code, 0, run.output());
  const r = last(run.output());
  t.same([r.code, r.signal, r.aborted], [128 + 15, null, true], 'SIGTERM reached the program: 143');
  t.notOk(alive(r.pid as number), 'nothing is left');
});

t.test('killing the caller kills the sandbox', { skip }, async (t) => {
  const marker = `sleep 7${process.pid}`;
  const body = (sandboxed: boolean) => `import { spawn as raw } from 'node:child_process';
import { spawn } from 'tsjail';
const child = ${sandboxed ? `spawn('/bin/sh', ['-c', 'exec ${marker}'], { name: 'libkill' })` : `raw('/bin/sh', ['-c', 'exec ${marker}'])`};
child.on('spawn', () => console.log(JSON.stringify({ pid: child.pid })));
setInterval(() => {}, 1000);
`;
  // Outside control: a plain child of a Node program outlives it.
  const control = script('control.mjs', body(false));
  const c = collect(control);
  await until(() => c.output().includes('pid'));
  const plainPid = last(c.output()).pid as number;
  control.kill('SIGKILL');
  await c.exited;
  t.ok(alive(plainPid), 'control: a plain child survives its killed parent');
  process.kill(plainPid, 'SIGKILL');

  const caller = script('caller.mjs', body(true));
  const k = collect(caller);
  t.ok(await until(() => ps().some((s) => s.name === 'libkill')), `the sandbox runs ${k.output()}`);
  const box = ps().find((s) => s.name === 'libkill')!;
  t.equal(box.pid, last(k.output()).pid, "the ChildProcess's pid is the sandbox's monitor");
  caller.kill('SIGKILL');
  await k.exited;
  t.ok(await until(() => !alive(box.pid) && !alive(box.init)), 'monitor and init are gone');
  const left = spawnSync('pgrep', ['-u', String(user.uid), '-f', marker], { encoding: 'utf8' });
  t.equal(left.stdout.trim(), '', 'nothing of the sandbox is left');
  t.same(ps(), [], 'and ps lists nothing');
});

t.test('plan() resolves to the --dry-run document, or rejects with the one-line error', { skip }, async (t) => {
  const run = collect(
    script(
      'plan.mjs',
      `import { plan } from 'tsjail';
const p = await plan('ls', ['-l'], { profile: 'default', ro: ['/var/tmp'] });
let refused;
try { await plan('ls', [], { profile: 'nope-nope' }); } catch (e) { refused = { message: e.message, code: e.exitCode }; }
console.log(JSON.stringify({ argv: p.argv, hasMounts: Array.isArray(p.mounts), shown: JSON.stringify(p).includes('"/var/tmp"'), refused }));
`,
    ),
  );
  const ex = await run.exited;
  t.equal(ex.code, 0, run.output());
  const r = last(run.output());
  t.same(r.argv, ['ls', '-l']);
  t.equal(r.hasMounts, true);
  t.equal(r.shown, true, 'the --ro path is in the plan');
  t.match(r.refused, { code: 125, message: /nope-nope/ });
});

t.test('the shipped types check a caller and reject a wrong option', { skip: notInstalled ?? false }, async (t) => {
  fs.writeFileSync(
    path.join(consumer, 'check.ts'),
    `import { spawn, plan, type SpawnOptions } from 'tsjail';
import type { ChildProcess } from 'node:child_process';
const opts: SpawnOptions = { profile: 'default', net: 'host', ro: ['/etc'], signal: new AbortController().signal };
const child: ChildProcess = spawn('curl', ['-sf', 'http://127.0.0.1/'], opts);
child.on('exit', (code: number | null) => code);
void plan('firefox', [], { profile: 'firefox' }).then((p) => Object.keys(p));
// @ts-expect-error: net is "none" or "host"
spawn('x', [], { net: 'everywhere' });
`,
  );
  fs.writeFileSync(
    path.join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(REPO, 'node_modules', '@types')],
      },
      files: ['check.ts'],
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer],
    {
      encoding: 'utf8',
    },
  );
  t.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
});
