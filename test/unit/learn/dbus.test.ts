// src/learn/dbus.ts: what a learning xdg-dbus-proxy's log (its --log format,
// flatpak-proxy.c print_outgoing_header and validate_arg0_name) says the
// program called and asked to own, and the names proposed from it (the real
// run is test/integration/learn.test.ts).
import t from 'tap';
import { collapseNames, learnBus, learningTalk, parseNameList, parseProxyLog } from '../../../src/learn/dbus.js';
import { learn, renderProfile, type Host } from '../../../src/learn/derive.js';
import JSON5 from 'json5';

const LOG = `C1: -> org.freedesktop.DBus call org.freedesktop.DBus.Hello at /org/freedesktop/DBus
B1: <- org.freedesktop.DBus return from C1
C2: -> org.freedesktop.DBus call org.freedesktop.DBus.RequestName at /org/freedesktop/DBus
Filtering message due to arg0 com.example.Owned, policy: 0 (required 3)
*HIDDEN* (ping)
C3: -> com.example.Called call com.example.Svc.Ping at /svc
B5: <- :1.0 return from C3
C4: -> com.example.Gone call com.example.Svc.Ping at /svc
*HIDDEN* (ping)
C5: -> :1.0 call com.example.Svc.Ping at /svc
C6: -> org.freedesktop.DBus call org.freedesktop.DBus.GetNameOwner at /org/freedesktop/DBus
Filtering message due to arg0 com.example.Probe, policy: 0 (required 1)
C7: -> org.freedesktop.systemd1 call org.freedesktop.systemd1.Manager.StartUnit at /org/freedesktop/systemd1
*HIDDEN* (ping)
C8: -> com.example.Last call com.example.Svc.Ping at /svc`;

t.test('the log: calls passed and refused, owns asked for, probes and unique names left out', async (t) => {
  const u = parseProxyLog(LOG);
  t.ok(u.connected);
  t.same(u.talk, ['com.example.Called', 'com.example.Last'], 'the last line is a call passed, too');
  t.same(u.refusedTalk, ['com.example.Gone', 'org.freedesktop.systemd1']);
  t.same(u.own, ['com.example.Owned']);
  t.same(parseProxyLog(''), { connected: false, talk: [], refusedTalk: [], own: [] }, 'no client: not connected');
});

t.test('the names proposed: without the base, never a refused family, collapsed only below a used name', async (t) => {
  const u = parseProxyLog(LOG);
  const r = learnBus(u, { talk: ['com.example.Last'], own: [] });
  t.same(r.add.talk, ['com.example.Called', 'com.example.Gone']);
  t.same(r.add.own, ['com.example.Owned']);
  t.same(r.forbidden, ['org.freedesktop.systemd1'], 'said, not proposed');
  t.same(collapseNames(['a.b.c', 'a.b.c.x', 'a.b.c.y', 'a.b.d']), ['a.b.c.*', 'a.b.d']);
  t.same(collapseNames(['a.b', 'a.c']), ['a.b', 'a.c'], 'siblings stay as they are: never a rule above them');
  const owned = learnBus(
    { connected: true, talk: ['com.example.Owned'], refusedTalk: [], own: ['com.example.Owned'] },
    undefined,
  );
  t.same(owned.add, { talk: [], own: ['com.example.Owned'] }, 'owning a name lets it talk to it');
});

t.test('the learning proxy talks to the names on the bus, never a refused one', async (t) => {
  const listed =
    parseNameList(`method return time=1 sender=org.freedesktop.DBus -> destination=:1.3 serial=3 reply_serial=2
   array [
      string "org.freedesktop.DBus"
      string ":1.0"
      string "com.example.Called"
      string "org.gnome.Shell"
      string "org.freedesktop.Notifications"
   ]`);
  t.same(listed, [
    'org.freedesktop.DBus',
    ':1.0',
    'com.example.Called',
    'org.gnome.Shell',
    'org.freedesktop.Notifications',
  ]);
  t.same(learningTalk(listed, ['org.freedesktop.Notifications']), ['com.example.Called']);
});

t.test('the profile gets the dbus key: the base rules kept, the learned names added', async (t) => {
  const h: Host = {
    home: '/home/u',
    xdg: {
      config: '/home/u/.config',
      data: '/home/u/.local/share',
      cache: '/home/u/.cache',
      state: '/home/u/.local/state',
    },
    secrets: [],
    real: () => undefined,
    isDir: () => false,
    learnShows: () => false,
    learnOwn: () => '/',
    madeDuringRun: () => false,
    baseShows: () => false,
    baseSyscalls: () => [],
    nativeNames: new Set(),
    baseDbus: (bus) => (bus === 'session' ? { talk: ['org.freedesktop.Notifications'], own: [] } : undefined),
  };
  const l = learn([], h, {
    session: parseProxyLog(LOG),
    system: { connected: true, talk: [], refusedTalk: [], own: [] },
  });
  const w = { base: 'b', baseFiles: ['/p/b.json5'], argv: ['x'], when: '2026-01-01', widened: [], status: 0 };
  const doc = { dbus: { session: { talk: ['org.freedesktop.Notifications'] } } };
  const text = renderProfile(l, h, w, doc, false, 'none');
  const p = JSON5.parse(text) as { dbus: Record<string, { talk?: string[]; own?: string[] }> };
  t.same(p.dbus.session!.talk, [
    'org.freedesktop.Notifications',
    'com.example.Called',
    'com.example.Gone',
    'com.example.Last',
  ]);
  t.same(p.dbus.session!.own, ['com.example.Owned']);
  t.same(p.dbus.system, {}, 'a bus connected to with no name used: the bus, no name');
  t.match(text, /never proposed\): session: org\.freedesktop\.systemd1/);
  const local = JSON5.parse(renderProfile(l, h, w, {}, true, 'none')) as typeof p;
  t.same(
    local.dbus.session,
    { talk: ['com.example.Called', 'com.example.Gone', 'com.example.Last'], own: ['com.example.Owned'] },
    'a local file: only the additions',
  );
});
