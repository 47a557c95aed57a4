// Issue 5, D-Bus: a profile's `dbus` rules reach the session bus only through
// xdg-dbus-proxy. A test session bus (dbus-daemon) with a test notification
// daemon that also owns org.freedesktop.systemd1 runs as the test user on a
// private socket: a notification from the sandbox reaches the daemon, a call
// to systemd1 is refused by the proxy (while the same call from outside
// works), a profile without `dbus` sees no bus, the proxy dies with the
// sandbox, and a launch that fails leaves no proxy behind.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asUser,
  inSandbox,
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
const haveTools = ['dbus-daemon', 'xdg-dbus-proxy', 'gdbus'].every(
  (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0,
);
const havePyDbus =
  spawnSync('/usr/bin/python3', ['-c', 'import dbus, dbus.mainloop.glib; from gi.repository import GLib']).status === 0;

const DAEMON = `
import sys, dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
log = open(sys.argv[1], 'a', buffering=1)
class Notifications(dbus.service.Object):
    @dbus.service.method('org.freedesktop.Notifications', in_signature='susssasa{sv}i', out_signature='u')
    def Notify(self, app, rid, icon, summary, body, actions, hints, timeout):
        log.write('notify %s %s\\n' % (summary, body))
        return 7
class Systemd(dbus.service.Object):
    @dbus.service.method('org.freedesktop.systemd1.Manager', in_signature='ss', out_signature='o')
    def StartUnit(self, name, mode):
        log.write('systemd StartUnit %s\\n' % name)
        return '/org/freedesktop/systemd1/job/1'
names = [dbus.service.BusName(n, bus) for n in ('org.freedesktop.Notifications', 'org.freedesktop.systemd1')]
Notifications(bus, '/org/freedesktop/Notifications')
Systemd(bus, '/org/freedesktop/systemd1')
print('ready', flush=True)
GLib.MainLoop().run()
`;

function waitFor(child: ChildProcess, word: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${word}" within ${ms} ms: ${out}`)), ms);
    const on = (d: Buffer) => {
      out += d.toString();
      if (out.includes(word)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before "${word}": ${out}`));
    });
  });
}

/**
 * The test user's xdg-dbus-proxy processes for the bus at `busSocket`: only
 * this run's, as other runs on the machine have proxies of their own.
 */
function proxiesOf(busSocket: string): string[] {
  const r = spawnSync('pgrep', ['-u', String(user.uid), '-f', `xdg-dbus-proxy.*${busSocket}`], { encoding: 'utf8' });
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}

if (!haveTools || !havePyDbus) {
  t.skip(
    'dbus-daemon, xdg-dbus-proxy, gdbus or python3-dbus/python3-gi is not installed here (.ci/run installs them)',
    async () => {},
  );
} else {
  const home = makeUserDir('dbus');
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  const busSocket = path.join(runtime, 'test-bus');
  const address = `unix:path=${busSocket}`;
  const log = path.join(home, 'daemon.log');
  writeUserFile(log, '');
  writeUserFile(path.join(home, 'daemon.py'), DAEMON);
  const env = { XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: address };
  const opts = { home, env };

  const busArgv = asUser(
    ['dbus-daemon', '--session', `--address=${address}`, '--nofork', '--print-address'],
    userEnv(opts),
  );
  const bus = spawn(busArgv[0]!, busArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let daemon: ChildProcess | undefined;
  t.teardown(() => {
    daemon?.kill('SIGKILL');
    bus.kill('SIGKILL');
    removeDir(home);
  });

  const profile = path.join(home, 'notify.json5');
  writeUserFile(
    profile,
    '{ filesystem: { tmpfs: ["${HOME}"] }, dbus: { session: { talk: ["org.freedesktop.Notifications"] } } }\n',
  );
  const notify = (summary: string) =>
    `gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications ` +
    `--method org.freedesktop.Notifications.Notify tsjail 0 '' ${summary} body '[]' '{}' 5000`;
  const startUnit =
    'gdbus call --session --dest org.freedesktop.systemd1 --object-path /org/freedesktop/systemd1 ' +
    '--method org.freedesktop.systemd1.Manager.StartUnit evil.service replace';

  t.before(async () => {
    await waitFor(bus, 'unix:', 10_000);
    const dArgv = asUser(['/usr/bin/python3', path.join(home, 'daemon.py'), log], userEnv(opts));
    daemon = spawn(dArgv[0]!, dArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(daemon, 'ready', 15_000);
  });

  t.test('outside the sandbox both names answer (the controls)', async (t) => {
    const argv = asUser(['sh', '-c', `${notify('from-outside')} && ${startUnit}`], userEnv(opts));
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 0, `the calls succeed: ${r.stderr}`);
    t.match(fs.readFileSync(log, 'utf8'), /notify from-outside body/);
    t.match(fs.readFileSync(log, 'utf8'), /systemd StartUnit evil\.service/);
    fs.writeFileSync(log, '');
  });

  t.test('a notification from the sandbox reaches the daemon; systemd1 is refused by the proxy', async (t) => {
    const r = inSandbox(
      `echo "addr=$DBUS_SESSION_BUS_ADDRESS"; ls -A "$XDG_RUNTIME_DIR"; ${notify('from-sandbox')}; echo "notify=$?"; ${startUnit}; echo "systemd=$?"`,
      ['-p', profile],
      { ...opts, timeout: 30_000 },
    );
    t.equal(r.status, 0, 'the shell exited 0');
    t.match(r.stdout, `addr=unix:path=${runtime}/bus`, 'the bus is at $XDG_RUNTIME_DIR/bus');
    t.notMatch(r.stdout, /test-bus/, "the host bus's own socket is not visible");
    t.match(r.stdout, /\(uint32 7,\)\s*notify=0/, "Notify returned the daemon's id");
    t.match(r.stdout, /systemd=[1-9]/, 'the systemd1 call failed');
    t.match(r.stderr, /ServiceUnknown|AccessDenied/, 'refused by the proxy: the name is invisible');
    const logged = fs.readFileSync(log, 'utf8');
    t.match(logged, /notify from-sandbox body/, 'the daemon got the notification');
    t.notMatch(logged, /StartUnit/, 'systemd1 never got the call');
    t.same(proxiesOf(busSocket), [], 'no proxy is left once the sandbox is gone');
    t.same(
      fs.readdirSync(runtime).filter((n) => n.startsWith('tsjail-dbus-')),
      [],
      "the proxy's directory is gone",
    );
  });

  t.test('without a dbus key there is no bus at all', async (t) => {
    const r = inSandbox(
      `echo "addr=[$DBUS_SESSION_BUS_ADDRESS]"; ls -A ${runtime} 2>&1; ${notify('no-dbus')}; echo "notify=$?"`,
      ['-p', 'default', '--env', `DBUS_SESSION_BUS_ADDRESS=${address}`],
      { ...opts, timeout: 30_000 },
    );
    t.match(r.stdout, /addr=\[unix:path=/, 'even an address given with --env...');
    t.match(r.stdout, /notify=[1-9]/, '...leads nowhere');
    t.match(r.stdout, /No such file or directory/, 'the runtime directory is not there');
    t.notMatch(fs.readFileSync(log, 'utf8'), /no-dbus/);
    const plain = inSandbox('echo "addr=[$DBUS_SESSION_BUS_ADDRESS]"', ['-p', 'default'], opts);
    t.match(plain.stdout, 'addr=[]', "the caller's bus address is not passed in");
  });

  t.test('the proxy lives exactly as long as the sandbox, even when tsjail is killed', async (t) => {
    const argv = asUser(tsjailArgv(['-p', profile, '--', '/bin/sh', '-c', 'echo started; sleep 60']), userEnv(opts));
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(child, 'started', 20_000);
    t.equal(proxiesOf(busSocket).length > 0, true, 'the proxy runs while the sandbox does');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // setpriv, env and node each exec the next, so the child is the
    // process tsjail became: the shim's monitor.
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    const end = Date.now() + 5000;
    while (proxiesOf(busSocket).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    t.same(proxiesOf(busSocket), [], 'the proxy is gone once the monitor is killed');
    t.same(
      fs.readdirSync(runtime).filter((n) => n.startsWith('tsjail-dbus-')),
      [],
      "the proxy's directory is gone",
    );
  });

  t.test('refused before anything starts: a rule reaching systemd1, a proxy that fails or hangs', async (t) => {
    const bad = path.join(home, 'bad.json5');
    writeUserFile(bad, '{ dbus: { session: { talk: ["org.freedesktop.*"] } } }\n');
    const r = tsjail(['-p', bad, '/bin/true'], opts);
    t.equal(r.status, 125);
    t.match(r.stderr, /would reach org\.freedesktop\.systemd1/);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');

    // Stand-ins for xdg-dbus-proxy, found first on PATH: one exits at once,
    // one never says it is ready.
    writeUserFile(path.join(home, 'fakefail', 'xdg-dbus-proxy'), '#!/bin/sh\nexit 3\n', 0o755);
    writeUserFile(path.join(home, 'fakehang', 'xdg-dbus-proxy'), '#!/bin/sh\nwhile :; do sleep 1; done\n', 0o755);
    // A hang would show as a killed run: tsjail() gives up after 60 s with no exit status.
    for (const [dir, why] of [
      ['fakefail', /exited before it was ready/],
      ['fakehang', /not ready within 5000 ms/],
    ] as const) {
      const f = tsjail(['-p', profile, '/bin/echo', 'SHOULD-NOT-RUN'], {
        ...opts,
        env: { ...env, PATH: `${path.join(home, dir)}:/usr/bin:/bin` },
      });
      t.equal(f.status, 125, `${dir}: exit 125`);
      t.match(f.stderr, why, `${dir}: ${f.stderr.trim()}`);
      t.equal(f.stderr.trim().split('\n').length, 1, `${dir}: one line, no stack trace`);
      t.notMatch(f.stdout, /SHOULD-NOT-RUN/, `${dir}: nothing was started`);
      const left = spawnSync('pgrep', ['-u', String(user.uid), '-f', path.join(home, dir)], {
        encoding: 'utf8',
      }).stdout.trim();
      t.equal(left, '', `${dir}: no proxy left behind`);
      t.same(
        fs.readdirSync(runtime).filter((n) => n.startsWith('tsjail-dbus-')),
        [],
        `${dir}: no directory left behind`,
      );
    }
  });
}
