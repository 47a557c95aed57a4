// tsjail learn (SPEC v2, issue 18): a program run in a recording sandbox
// gets a profile that allows what it used and nothing more. As the
// unprivileged test user, against the real kernel: the learned profile
// holds exactly the job's grants (never the whole home, one loopback port
// rather than the host's network, the calls it made), the job runs again
// under it, and what the job never touched is refused: a secret and another
// home file (with the control that the same script reads both outside
// tsjail), and a system call the job never made (with the control that the
// base profile allows it).
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import JSON5 from 'json5';
import { asUser, makeUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { httpServer } from '../helpers/internet.js';

const PORT = 20000 + (process.pid % 20000);
const home = makeUserDir('learn');
t.teardown(() => removeDir(home));

writeUserFile(path.join(home, 'notes/a.txt'), 'a note\n');
writeUserFile(path.join(home, '.ssh/id'), 'SECRET KEY\n', 0o600);
writeUserFile(path.join(home, 'other/x'), 'not for the job\n');
writeUserFile(path.join(home, 'www/index.html'), 'hello from the loopback\n');
// The job: read a note, write a result, exec env, fetch from a
// loopback server, call uname. With an argument, it also tries what it
// never did while learning: the ssh key, then another home file.
const job = path.join(home, 'job.sh');
writeUserFile(
  job,
  `#!/bin/sh
cat "$HOME/notes/a.txt" > /dev/null || exit 3
mkdir -p "$HOME/out" || exit 4
uname -a > "$HOME/out/uname" || exit 5
/usr/bin/env true || exit 6
curl -sf http://127.0.0.1:${PORT}/index.html > "$HOME/out/page" || exit 7
if [ -n "$1" ]; then
  cat "$HOME/.ssh/id" && exit 8
  cat "$HOME/other/x" && exit 9
  exit 10
fi
echo done
`,
  0o755,
);

t.before(async () => {
  await httpServer(t, { dir: path.join(home, 'www'), addr: '127.0.0.1', port: PORT, probe: 'index.html' });
});

const learned = path.join(home, 'job.json5');

t.test('control: outside tsjail the same script reads the secret and the other file', async (t) => {
  const argv = asUser(['/bin/sh', job, 'extra'], userEnv({ home }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: home });
  t.equal(r.status, 8, r.stderr);
  t.match(r.stdout, /SECRET KEY/);
  fs.rmSync(path.join(home, 'out'), { recursive: true, force: true });
});

t.test('learn writes exactly the grants the job used', async (t) => {
  const r = tsjail(['learn', '-o', learned, '--', job], { home, timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^done$/m, 'the job did its work while learning');
  t.match(r.stderr, /learned: .*job\.json5: 3 paths/);
  const text = fs.readFileSync(learned, 'utf8');
  t.match(text, /^\/\/ Learned by `tsjail learn`/, 'a commented profile');
  const p = JSON5.parse(text) as {
    filesystem: { ro?: string[]; rw?: string[]; tmpfs?: string[] };
    network: unknown;
    syscalls: { allow: unknown[] };
  };
  const ro = p.filesystem.ro ?? [];
  const rw = p.filesystem.rw ?? [];
  t.ok(ro.includes('${HOME}/notes'), 'the folder of the note, read-only');
  t.ok(rw.includes('${HOME}/out'), 'the folder written, writable');
  t.ok(ro.includes('${HOME}/job.sh'), 'the script itself, read');
  t.notOk([...ro, ...rw].includes('${HOME}'), 'never the whole home');
  t.notOk(
    [...ro, ...rw].some((x) => x.includes('.ssh') || x.includes('other') || x.includes('www')),
    'nothing it did not touch',
  );
  t.same(rw, ['${HOME}/out'], 'only one writable grant');
  t.same(p.network, { mode: 'private', allow: [`127.0.0.1:${PORT}`] }, 'one port of the loopback, not the host');
  const names = p.syscalls.allow.map((e) => (typeof e === 'string' ? e : (e as { name: string }).name));
  t.ok(names.includes('uname'), 'uname is allowed');
  t.ok(names.includes('connect'), 'connect is allowed');
  t.notOk(names.includes('@default'), 'not the whole baseline');
  for (const n of ['ptrace', 'clock_nanosleep', 'nanosleep', 'inotify_init1'])
    t.notOk(names.includes(n), `${n}, never made, is not allowed`);
  t.ok(
    p.syscalls.allow.some((e) => typeof e === 'object' && (e as { name: string }).name === 'socket'),
    "socket keeps the base's argument conditions",
  );
});

t.test('the job runs again under the learned profile; what it never used is refused', async (t) => {
  fs.rmSync(path.join(home, 'out'), { recursive: true, force: true });
  const again = tsjail(['-p', learned, '--', job], { home, timeout: 120_000 });
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /^done$/m);
  t.equal(fs.readFileSync(path.join(home, 'out/page'), 'utf8'), 'hello from the loopback\n', 'fetched again');
  t.match(fs.readFileSync(path.join(home, 'out/uname'), 'utf8'), /^Linux /);

  const extra = tsjail(['-p', learned, '--', job, 'extra'], { home, timeout: 120_000 });
  t.equal(extra.status, 10, `neither the secret nor the other file is readable: ${extra.stderr}`);
  t.notMatch(extra.stdout, /SECRET/);

  // A call the job never made: refused under the learned profile, allowed under its base.
  const sleepLearned = tsjail(['-p', learned, '--report-fd', '3', '--', '/bin/sleep', '0.01'], {
    home,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  t.not(sleepLearned.status, 0, 'sleep fails under the learned profile');
  t.match(String(sleepLearned.output[3]), /"syscall":"clock_nanosleep".*"key":"syscalls.allow"/, 'and is said why');
  const sleepBase = tsjail(['-p', 'default', '--', '/bin/sleep', '0.01'], { home });
  t.equal(sleepBase.status, 0, `control: the base profile allows it: ${sleepBase.stderr}`);
});

t.test('secrets the program touched are said, never proposed', async (t) => {
  const out = path.join(home, 'secret.json5');
  const r = tsjail(['learn', '-o', out, '--', '/bin/sh', '-c', 'cat "$HOME/.ssh/id"; true'], { home });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /SECRET/, 'hidden while learning too');
  t.match(r.stderr, /touched secrets, not proposed: \$\{HOME\}\/\.ssh \(/);
  const text = fs.readFileSync(out, 'utf8');
  t.match(text, /secret paths; they stay hidden and are never proposed: \$\{HOME\}\/\.ssh \(/);
  const p = JSON5.parse(text) as { filesystem?: { ro?: string[]; rw?: string[] } };
  t.notOk(
    [...(p.filesystem?.ro ?? []), ...(p.filesystem?.rw ?? [])].some((x) => x.includes('.ssh')),
    'no grant of it',
  );
});

t.test('learn never writes over a file', async (t) => {
  const before = fs.readFileSync(learned, 'utf8');
  const r = tsjail(['learn', '-o', learned, '--', '/bin/true'], { home });
  t.equal(r.status, 125);
  t.match(r.stderr, /exists; learn never writes over a file/);
  t.equal(fs.readFileSync(learned, 'utf8'), before, 'left as it was');
  const noOut = tsjail(['learn', '--', '/bin/true'], { home });
  t.equal(noOut.status, 125, 'no -o: a usage error');
});

t.test('--merge: only the additions, as NAME.local.json5, the profile left as written', async (t) => {
  const dir = path.join(home, '.config/tsjail/profiles');
  const own = `// my profile: the notes, read-only
{
  filesystem: {
    tmpfs: ["\${HOME}"],
    ro: ["\${HOME}/notes", "\${HOME}/job.sh"], // kept
  },
}
`;
  writeUserFile(path.join(dir, 'learnbase.json5'), own);
  const local = path.join(dir, 'learnbase.local.json5');
  fs.rmSync(path.join(home, 'out'), { recursive: true, force: true });
  const before = tsjail(['-p', 'learnbase', '--', job], { home, timeout: 120_000 });
  t.not(before.status, 0, 'control: the profile alone does not run the job');
  const r = tsjail(['learn', '--merge', '-p', 'learnbase', '-o', local, '--', job], { home, timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(dir, 'learnbase.json5'), 'utf8'), own, 'the profile is untouched');
  const p = JSON5.parse(fs.readFileSync(local, 'utf8')) as {
    filesystem?: { ro?: string[]; rw?: string[] };
    network?: unknown;
    syscalls?: unknown;
  };
  t.same(p.filesystem?.ro ?? [], [], 'what the profile shows already is not repeated');
  t.same(p.filesystem?.rw, ['${HOME}/out']);
  t.same(p.network, { mode: 'private', allow: [`127.0.0.1:${PORT}`] });
  t.equal(p.syscalls, undefined, 'a local adds no system calls the profile allowed already');
  fs.rmSync(path.join(home, 'out'), { recursive: true, force: true });
  const again = tsjail(['-p', 'learnbase', '--', job], { home, timeout: 120_000 });
  t.equal(again.status, 0, `the profile with its local runs the job: ${again.stderr}`);
});

const firefox = ['/usr/bin/firefox', '/usr/bin/firefox-esr'].find((f) => fs.existsSync(f));
t.test(
  'Firefox, headless, learned opening a page, renders it again under the learned profile',
  { skip: firefox ? false : 'firefox is not installed (.ci/run installs firefox-esr)' },
  async (t) => {
    const dir = path.join(home, 'web');
    writeUserFile(
      path.join(dir, 'page.html'),
      '<html><body style="background:#00ff00"><h1>learned</h1></body></html>\n',
    );
    const ff = (shot: string) => [
      firefox!,
      '--headless',
      '--no-remote',
      '--screenshot',
      path.join(dir, shot),
      `file://${dir}/page.html`,
    ];
    const out = path.join(home, 'firefox.json5');
    const r = tsjail(['learn', '-p', 'firefox', '-o', out, '--', ...ff('learning.png')], {
      home,
      cwd: dir,
      timeout: 240_000,
    });
    t.equal(r.status, 0, r.stderr);
    t.ok(fs.statSync(path.join(dir, 'learning.png')).size > 0, 'the page was rendered while learning');
    const p = JSON5.parse(fs.readFileSync(out, 'utf8')) as {
      filesystem: { rw?: string[] };
      syscalls: { allow: unknown[] };
    };
    t.ok(p.filesystem.rw?.includes('${HOME}/web'), 'the directory it was started from, where it wrote the screenshot');
    t.notOk(p.syscalls.allow.includes('@default'), 'its own calls, not the whole baseline');
    const again = tsjail(['-p', out, '--', ...ff('again.png')], { home, cwd: dir, timeout: 240_000 });
    t.equal(again.status, 0, again.stderr);
    t.ok(fs.statSync(path.join(dir, 'again.png')).size > 0, 'rendered again under the learned profile');
  },
);
