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
import { spawn, spawnSync } from 'node:child_process';
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
  // The runtime directory the learning sandbox has is a tmpfs tsjail made at
  // the secret's place: using it is no touch of the host's secret.
  const script =
    'cat "$HOME/.ssh/id"; ls -A "$XDG_RUNTIME_DIR" && touch "$XDG_RUNTIME_DIR/state" && echo "runtime=$XDG_RUNTIME_DIR"; true';
  const r = tsjail(['learn', '-o', out, '--', '/bin/sh', '-c', script], { home });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /SECRET/, 'hidden while learning too');
  t.match(r.stdout, /^runtime=\/run\/user\/\d+$/m, 'the program used its runtime directory');
  t.match(r.stderr, /touched secrets, not proposed: \$\{HOME\}\/\.ssh \(/);
  t.notMatch(r.stderr, /\/run\/user/, "the sandbox's own runtime directory is not said to be a secret");
  const text = fs.readFileSync(out, 'utf8');
  t.match(text, /secret paths; they stay hidden and are never proposed: \$\{HOME\}\/\.ssh \(/);
  t.notMatch(text, /\/run\/user/, 'neither in the profile');
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

// D-Bus names (issue 18): while learning the session bus goes through a
// recording xdg-dbus-proxy; a private test bus of the test user's with a
// service that owns com.example.Called and com.example.Third. The job owns
// one name and calls another: the learned profile has exactly those, and
// under it the job runs again while a call to the third name is refused
// (the control: outside tsjail the same call is answered).
const haveDbusLearn =
  ['dbus-daemon', 'xdg-dbus-proxy', 'gdbus', 'dbus-send'].every(
    (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0,
  ) &&
  spawnSync('/usr/bin/python3', ['-c', 'import dbus, dbus.service, dbus.mainloop.glib; from gi.repository import GLib'])
    .status === 0;

const SERVICE = `
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
class Svc(dbus.service.Object):
    @dbus.service.method('com.example.Svc', in_signature='', out_signature='s')
    def Ping(self):
        return 'pong'
names = [dbus.service.BusName(n, bus) for n in ('com.example.Called', 'com.example.Third')]
Svc(bus, '/svc')
print('ready', flush=True)
GLib.MainLoop().run()
`;

t.test(
  'learn writes the D-Bus names called and owned, and nothing else',
  {
    skip: haveDbusLearn
      ? false
      : 'dbus-daemon, xdg-dbus-proxy, gdbus, dbus-send or python3-dbus/python3-gi is missing (.ci/run installs them)',
  },
  async (t) => {
    const dir = makeUserDir('learn-dbus');
    const address = `unix:path=${path.join(dir, 'bus')}`;
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const started: ReturnType<typeof spawn>[] = [];
    t.teardown(() => {
      for (const c of started) c.kill('SIGKILL');
      removeDir(dir);
    });
    const start = async (cmd: string[], word: string): Promise<void> => {
      const argv = asUser(cmd, userEnv({ home: dir, env }));
      const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
      started.push(c);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        c.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes(word)) resolve();
        });
        c.on('exit', (code) => reject(new Error(`${cmd[0]} exited ${code} before it was ready`)));
      });
    };
    await start(['dbus-daemon', '--session', `--address=${address}`, '--nofork', '--print-address'], 'unix:');
    writeUserFile(path.join(dir, 'service.py'), SERVICE);
    await start(['/usr/bin/python3', path.join(dir, 'service.py')], 'ready');

    const ping = (name: string) => `dbus-send --session --print-reply --dest=${name} /svc com.example.Svc.Ping`;
    const script = path.join(dir, 'dbus-job.sh');
    writeUserFile(
      script,
      `#!/bin/sh
gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.RequestName com.example.Owned 4 || echo "not owned"
${ping('com.example.Called')} || exit 4
if [ -n "$1" ]; then
  ${ping('com.example.Third')} && exit 8
  exit 10
fi
`,
      0o755,
    );
    const outside = asUser(['/bin/sh', script, 'extra'], userEnv({ home: dir, env }));
    const o = spawnSync(outside[0]!, outside.slice(1), { encoding: 'utf8' });
    t.equal(o.status, 8, `control: outside tsjail the third name answers: ${o.stderr}`);
    t.match(o.stdout, /\(uint32 1,\)/, 'control: outside, the name is owned');

    const out = path.join(dir, 'dbus-job.json5');
    const r = tsjail(['learn', '-o', out, '--', script], { home: dir, env, timeout: 120_000 });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /string "pong"/, 'the call went through while learning');
    t.match(r.stderr, /learned: D-Bus session bus: talk com\.example\.Called, own com\.example\.Owned/);
    const text = fs.readFileSync(out, 'utf8');
    const p = JSON5.parse(text) as { dbus?: { session?: { talk?: string[]; own?: string[] } } };
    t.same(p.dbus?.session?.talk, ['com.example.Called'], 'exactly the name called');
    t.same(p.dbus?.session?.own, ['com.example.Owned'], 'exactly the name owned');
    t.notMatch(text, /com\.example\.Third/, 'never the name it did not call');

    const again = tsjail(['-p', out, '--', script], { home: dir, env, timeout: 120_000 });
    t.equal(again.status, 0, again.stderr);
    t.match(again.stdout, /\(uint32 1,\)/, 'it owns the name under the learned profile');
    t.match(again.stdout, /string "pong"/, 'and its call is answered');
    const extra = tsjail(['-p', out, '--', script, 'extra'], { home: dir, env, timeout: 120_000 });
    t.equal(extra.status, 10, `the third name is refused: ${extra.stdout}${extra.stderr}`);

    // --merge on a profile that talks to the called name already: the local file adds only the name owned.
    const profiles = path.join(dir, '.config/tsjail/profiles');
    writeUserFile(path.join(profiles, 'dbusbase.json5'), '{ dbus: { session: { talk: ["com.example.Called"] } } }\n');
    const local = path.join(profiles, 'dbusbase.local.json5');
    const m = tsjail(['learn', '--merge', '-p', 'dbusbase', '-o', local, '--', script], {
      home: dir,
      env,
      timeout: 120_000,
    });
    t.equal(m.status, 0, m.stderr);
    const lp = JSON5.parse(fs.readFileSync(local, 'utf8')) as { dbus?: unknown };
    t.same(lp.dbus, { session: { own: ['com.example.Owned'] } }, '--merge: only the name the base lacks');
    const merged = tsjail(['-p', 'dbusbase', '--', script], { home: dir, env, timeout: 120_000 });
    t.match(merged.stdout, /\(uint32 1,\)/, 'the base with its local file owns the name');
  },
);
