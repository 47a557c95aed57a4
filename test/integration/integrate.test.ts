// `tsjail integrate` on a scratch XDG_DATA_HOME, as the test user: Firefox
// (the system's entry has an absolute Exec=) and a test app with an
// absolute Exec=, TryExec, an action and DBusActivatable=true with its D-Bus
// service file. Launching through gio, D-Bus activation and the PATH
// wrapper each go through tsjail (a record in `ps`); --undo restores the
// directories byte for byte; a file integrate did not make is left alone.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asUser,
  makeUserDir,
  mkUserDir,
  removeDir,
  tsjail,
  tsjailRoot,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const haveFirefox = fs.existsSync('/usr/share/applications/firefox-esr.desktop');
const haveGio = fs.existsSync('/usr/bin/gio');
const haveBus = spawnSync('dbus-daemon', ['--version'], { encoding: 'utf8' }).status === 0;

function scratch(t: Test) {
  const home = makeUserDir('tsjail-integrate');
  t.teardown(() => removeDir(home));
  const apps = path.join(home, 'apps');
  const sys = path.join(home, 'sys');
  const data = path.join(home, 'data');
  const runtime = path.join(home, 'run');
  mkUserDir(data);
  mkUserDir(runtime, 0o700);
  writeUserFile(path.join(apps, 'testapp'), '#!/bin/sh\necho "testapp $*"\nexec sleep 600\n', 0o755);
  writeUserFile(
    path.join(sys, 'applications', 'org.tsjail.TestApp.desktop'),
    `[Desktop Entry]\nType=Application\nName=Test App\nExec=${apps}/testapp %F\nTryExec=${apps}/testapp\n` +
      `DBusActivatable=true\nMimeType=text/x-tsjail-test;\n\n[Desktop Action new]\nName=New\nExec=${apps}/testapp --new\n`,
  );
  writeUserFile(
    path.join(sys, 'dbus-1', 'services', 'org.tsjail.TestApp.service'),
    `[D-BUS Service]\nName=org.tsjail.TestApp\nExec=${apps}/testapp --gapplication-service\n`,
  );
  writeUserFile(
    path.join(home, 'config', 'tsjail', 'profiles', 'testapp.json5'),
    `{\n  description: "integrate test app",\n  command: ["testapp"],\n  filesystem: { ro: ["${apps}"] },\n}\n`,
  );
  writeUserFile(
    path.join(home, 'config', 'mimeapps.list'),
    '[Default Applications]\ntext/x-tsjail-test=org.tsjail.TestApp.desktop;\n',
  );
  const env = {
    PATH: `${home}/.local/bin:/usr/local/bin:/usr/bin:/bin:${apps}`,
    XDG_DATA_HOME: data,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_DIRS: `${sys}:/usr/share`,
    XDG_RUNTIME_DIR: runtime,
  };
  return { home, apps, sys, data, runtime, env };
}

type Scratch = ReturnType<typeof scratch>;

const run = (s: Scratch, args: string[]) => tsjail(args, { home: s.home, env: s.env });

/** Every file and directory under the roots: type, mode and content hash. */
function tree(roots: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    for (const rel of ['', ...(fs.readdirSync(root, { recursive: true }) as string[])]) {
      const p = path.join(root, rel);
      const st = fs.lstatSync(p);
      out[p] = st.isDirectory()
        ? `dir ${st.mode.toString(8)}`
        : `${st.mode.toString(8)} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    }
  }
  return out;
}

function ps(s: Scratch): { id: string; profile: string; program: string; argv: string[] }[] {
  const r = run(s, ['ps', '--json']);
  return r.status === 0 ? JSON.parse(r.stdout) : [];
}

async function until(what: () => boolean, ms = 30_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return what();
}

function stopAll(s: Scratch): void {
  for (const b of ps(s)) run(s, ['stop', b.id]);
}

function background(s: Scratch, argv: string[]) {
  const a = asUser(argv, userEnv({ home: s.home, env: s.env }));
  return spawn(a[0]!, a.slice(1), { cwd: s.home, stdio: 'ignore' });
}

t.test(
  'integrate firefox and a D-Bus activatable app, launch them through every path, undo byte for byte',
  { skip: haveFirefox ? false : 'firefox-esr is not installed (no /usr/share/applications/firefox-esr.desktop)' },
  async (t) => {
    const s = scratch(t);
    t.teardown(() => stopAll(s));
    const roots = [s.data, path.join(s.home, '.local')];
    const before = tree(roots);

    const list0 = run(s, ['integrate', '--list']);
    t.equal(list0.status, 0, list0.stderr);
    t.match(list0.stdout, /^testapp: bypassing$/m, 'control: before, the test app bypasses tsjail');
    t.match(
      list0.stdout,
      /\/usr\/share\/applications\/firefox-esr\.desktop:\d+: Exec=\/usr\/lib\/firefox-esr\/firefox-esr/,
    );
    t.match(list0.stdout, /org\.tsjail\.TestApp\.service:3: Exec=/, 'the D-Bus service file, with its line');
    t.match(list0.stdout, /mimeapps\.list:2: text\/x-tsjail-test=org\.tsjail\.TestApp\.desktop; \(a MIME default\)/);

    const r = run(s, ['integrate', 'firefox', 'testapp']);
    t.equal(r.status, 0, r.stderr);
    const entry = fs.readFileSync(path.join(s.data, 'applications', 'org.tsjail.TestApp.desktop'), 'utf8');
    const bin = path.join(tsjailRoot(), 'bin', 'tsjail.js');
    t.match(entry, `Exec=${bin} run -p testapp -- ${s.apps}/testapp %F`, 'Exec goes through tsjail');
    t.match(entry, `Exec=${bin} run -p testapp -- ${s.apps}/testapp --new`, 'and so does the action');
    t.match(entry, /^DBusActivatable=false$/m);
    t.match(entry, `TryExec=${s.apps}/testapp`, 'TryExec kept: the entry goes when the app does');
    const ff = fs.readFileSync(path.join(s.data, 'applications', 'firefox-esr.desktop'), 'utf8');
    t.match(ff, `Exec=${bin} run -p firefox -- /usr/lib/firefox-esr/firefox-esr %u`, "Firefox's absolute Exec= too");
    t.notMatch(ff, /^Exec=\/usr\/lib/m, 'no Exec= line is left that bypasses');
    const list1 = run(s, ['integrate', '--list']);
    t.match(list1.stdout, /^firefox: sandboxed$/m, list1.stdout);
    t.match(list1.stdout, /^testapp: sandboxed$/m);
    const after = tree(roots);
    t.same(run(s, ['integrate', 'firefox', 'testapp']).stdout, '', 'idempotent: nothing written the second time');
    t.same(tree(roots), after, 'and nothing changed');

    // 1. A launcher: gio launches the desktop ID that launchers resolve (ours, in XDG_DATA_HOME first).
    if (haveGio) {
      const gio = asUser(
        ['gio', 'launch', path.join(s.data, 'applications', 'org.tsjail.TestApp.desktop')],
        userEnv({ home: s.home, env: s.env }),
      );
      const g = spawnSync(gio[0]!, gio.slice(1), { encoding: 'utf8', cwd: s.home, timeout: 60_000 });
      t.equal(g.status, 0, `gio launch: ${g.stderr}`);
      t.ok(await until(() => ps(s).some((b) => b.profile === 'testapp')), 'gio launch went through tsjail');
      stopAll(s);
    } else t.skip('gio is not installed (libglib2.0-bin)', async () => {});

    // 2. D-Bus activation on a session bus of its own, which reads XDG_DATA_HOME's services first.
    if (haveBus) {
      const bus = background(s, [
        'dbus-daemon',
        '--session',
        '--nofork',
        '--nopidfile',
        `--address=unix:path=${s.runtime}/bus`,
      ]);
      t.teardown(() => bus.kill('SIGKILL'));
      await until(() => fs.existsSync(`${s.runtime}/bus`));
      const env = { ...s.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${s.runtime}/bus` };
      const a = asUser(
        [
          'gdbus',
          'call',
          '--session',
          '--timeout',
          '60',
          '--dest',
          'org.tsjail.TestApp',
          '--object-path',
          '/',
          '--method',
          'org.freedesktop.DBus.Peer.Ping',
        ],
        userEnv({ home: s.home, env }),
      );
      const activation = spawn(a[0]!, a.slice(1), { cwd: s.home, stdio: 'ignore' });
      t.teardown(() => activation.kill('SIGKILL'));
      t.ok(
        await until(() => ps(s).some((b) => b.profile === 'testapp' && b.argv.includes('--gapplication-service'))),
        'D-Bus activation went through tsjail',
      );
      stopAll(s);
    } else t.skip('dbus-daemon is not installed', async () => {});

    // 3. The PATH wrapper.
    const w = background(s, ['/bin/sh', '-c', 'testapp --from-path']);
    t.teardown(() => w.kill('SIGKILL'));
    t.ok(
      await until(() => ps(s).some((b) => b.argv.includes('--from-path'))),
      'the wrapper on PATH went through tsjail',
    );
    stopAll(s);

    const u = run(s, ['integrate', '--undo']);
    t.equal(u.status, 0, u.stderr);
    t.same(tree(roots), before, '--undo leaves the directories as they were, byte for byte');
  },
);

t.test('a file integrate did not make is never overwritten nor removed', async (t) => {
  const s = scratch(t);
  const mine = path.join(s.data, 'applications', 'org.tsjail.TestApp.desktop');
  const own = `[Desktop Entry]\nType=Application\nName=Mine\nExec=${s.apps}/testapp --mine\n`;
  writeUserFile(mine, own);
  const wrapper = path.join(s.home, '.local', 'bin', 'testapp');
  writeUserFile(wrapper, '#!/bin/sh\necho my own\n', 0o755);
  const before = tree([s.data, path.join(s.home, '.local')]);
  const r = run(s, ['integrate', 'testapp']);
  t.equal(r.status, 1, 'integrate says it could not do everything');
  t.match(r.stderr, `${mine}: exists and is not tsjail's: left alone`);
  t.match(r.stderr, `${wrapper}: exists and is not tsjail's: left alone`);
  t.equal(fs.readFileSync(mine, 'utf8'), own);
  t.equal(fs.readFileSync(wrapper, 'utf8'), '#!/bin/sh\necho my own\n');
  const list = run(s, ['integrate', '--list']);
  t.match(list.stdout, /^testapp: bypassing$/m);
  t.match(list.stdout, `PATH: testapp is ${wrapper}, not tsjail's wrapper`);
  t.match(list.stdout, `${mine}:4: Exec=${s.apps}/testapp --mine`, "the user's own entry, file and line");
  t.equal(run(s, ['integrate', '--undo']).status, 0);
  const after = tree([s.data, path.join(s.home, '.local')]);
  t.same(after, before, 'undo removed only what integrate made');
});

t.test('doctor lists integrated apps and what bypasses tsjail', async (t) => {
  const s = scratch(t);
  t.equal(run(s, ['integrate', 'testapp']).status, 0);
  const d = run(s, ['doctor']);
  t.match(d.stdout, /^integrated\s+testapp$/m);
  t.match(d.stdout, /^bypassing tsjail:\s+no launcher of an integrated app$/m);
  t.equal(run(s, ['integrate', '--undo', 'testapp']).status, 0);
});
