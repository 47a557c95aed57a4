// Escape suite, issue 10 item 9: D-Bus names that are code execution or
// secrets. A real session bus (dbus-daemon) runs as the test user with a
// stand-in service owning the Secret Service, dconf, GNOME Shell, klauncher
// and the portal permission store. Outside, a call to each reaches it (the
// control). A local profile that adds `talk` to one of them, under every
// shipped profile, is refused before anything starts (125, naming the name),
// and the stand-in hears nothing; dangerouslyAllow lets a profile reach one,
// saying so on stderr.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asUser, makeUserDir, mkUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';

const NAMES = [
  'org.freedesktop.secrets',
  'ca.desrt.dconf',
  'org.gnome.Shell',
  'org.kde.klauncher5',
  'org.freedesktop.impl.portal.PermissionStore',
];
const PROFILES = ['default', 'untrusted', 'firefox', 'chromium'];

const STANDIN = `
import sys, dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
log = open(sys.argv[1], 'a', buffering=1)
class Probe(dbus.service.Object):
    @dbus.service.method('org.example.Probe', in_signature='s', out_signature='s', message_keyword='msg')
    def Steal(self, who, msg):
        log.write('%s reached by %s\\n' % (msg.get_destination(), who))
        return 'stolen'
names = [dbus.service.BusName(n, bus) for n in sys.argv[2:]]
Probe(bus, '/probe')
print('ready', flush=True)
GLib.MainLoop().run()
`;

const haveTools = ['dbus-daemon', 'xdg-dbus-proxy', 'gdbus'].every(
  (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0,
);
const havePyDbus =
  spawnSync('/usr/bin/python3', ['-c', 'import dbus, dbus.mainloop.glib; from gi.repository import GLib']).status === 0;

function waitFor(child: ChildProcess, word: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${word}" within ${ms} ms: ${out}`)), ms);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(word)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before "${word}": ${out}`));
    });
  });
}

if (!haveTools || !havePyDbus) {
  t.skip(
    'dbus-daemon, xdg-dbus-proxy, gdbus or python3-dbus/python3-gi is not installed here (.ci/run installs them)',
    async () => {},
  );
} else {
  const home = makeUserDir('dbus-names');
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  const address = `unix:path=${path.join(runtime, 'test-bus')}`;
  const log = path.join(home, 'standin.log');
  writeUserFile(log, '');
  writeUserFile(path.join(home, 'standin.py'), STANDIN);
  const opts = { home, env: { XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: address } };
  const busArgv = asUser(
    ['dbus-daemon', '--session', `--address=${address}`, '--nofork', '--print-address'],
    userEnv(opts),
  );
  const bus = spawn(busArgv[0]!, busArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let standin: ChildProcess | undefined;
  t.teardown(() => {
    standin?.kill('SIGKILL');
    bus.kill('SIGKILL');
    removeDir(home);
  });
  const call = (name: string, who: string) =>
    `gdbus call --session --dest ${name} --object-path /probe --method org.example.Probe.Steal ${who}`;
  const localOf = (profile: string) => path.join(home, '.config/tsjail/profiles', `${profile}.local.json5`);

  t.before(async () => {
    await waitFor(bus, 'unix:', 10_000);
    const argv = asUser(['/usr/bin/python3', path.join(home, 'standin.py'), log, ...NAMES], userEnv(opts));
    standin = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitFor(standin, 'ready', 15_000);
  });

  t.test('control: outside the sandbox every name answers', async (t) => {
    const argv = asUser(['sh', '-c', NAMES.map((n) => call(n, 'outside')).join(' && ')], userEnv(opts));
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
    t.equal(r.status, 0, r.stderr);
    for (const n of NAMES) t.match(fs.readFileSync(log, 'utf8'), `${n} reached by outside`);
    fs.writeFileSync(log, '');
  });

  for (const profile of PROFILES) {
    t.test(`${profile}: a local profile that adds talk to each name is refused before anything starts`, async (t) => {
      t.teardown(() => fs.rmSync(localOf(profile), { force: true }));
      for (const n of NAMES) {
        writeUserFile(localOf(profile), `{ dbus: { session: { talk: [${JSON.stringify(n)}] } } }\n`);
        const r = tsjail(['-p', profile, '--', 'sh', '-c', call(n, profile)], opts);
        t.equal(r.status, 125, n);
        t.match(r.stderr, `dbus.session.talk: "${n}" would reach`, n);
        t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      }
      t.equal(fs.readFileSync(log, 'utf8'), '', 'the stand-in heard nothing');
    });
  }

  for (const profile of ['firefox', 'chromium']) {
    t.test(`${profile} as shipped: its filtered bus does not reach the names`, async (t) => {
      const r = tsjail(
        ['-p', profile, '--', 'sh', '-c', NAMES.map((n) => `${call(n, profile)}; echo "rc=$?"`).join('; ')],
        opts,
      );
      t.equal(r.status, 0, r.stderr);
      t.notMatch(r.stdout, 'rc=0');
      t.equal(fs.readFileSync(log, 'utf8'), '', 'the stand-in heard nothing');
    });
  }

  t.test('dangerouslyAllow: a profile that names one reaches it, and every run says so once on stderr', async (t) => {
    t.teardown(() => fs.rmSync(localOf('firefox'), { force: true }));
    writeUserFile(
      localOf('firefox'),
      '{ dbus: { session: { talk: ["org.freedesktop.secrets"], dangerouslyAllow: ["org.freedesktop.secrets"] } } }\n',
    );
    const r = tsjail(
      [
        '-p',
        'firefox',
        '--',
        'sh',
        '-c',
        `${call('org.freedesktop.secrets', 'allowed')}; ${call('ca.desrt.dconf', 'allowed')}`,
      ],
      opts,
    );
    t.match(r.stdout, 'stolen');
    const warned = r.stderr.split('\n').filter((l) => l.includes('dangerouslyAllow'));
    t.equal(warned.length, 1, r.stderr);
    t.match(
      warned[0],
      /^tsjail: warning: dbus\.session\.dangerouslyAllow \(.*firefox\.local\.json5:1\): the sandbox may reach org\.freedesktop\.secrets: /,
    );
    const heard = fs.readFileSync(log, 'utf8');
    t.match(heard, 'org.freedesktop.secrets reached by allowed');
    t.notMatch(heard, 'ca.desrt.dconf', 'the other names stay refused');
    fs.writeFileSync(log, '');
  });
}
