import t from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cookiesForDisplay,
  encodeXauth,
  FAMILY_LOCAL,
  FAMILY_WILD,
  parseXauth,
  XauthFormatError,
  type XauthEntry,
} from '../../../src/desktop/xauth.js';
import { displayNumber } from '../../../src/desktop/x11.js';
import { covers, dangerousGrants, forbiddenRules, planDbus, proxyRules } from '../../../src/desktop/dbus.js';
import { planDesktop } from '../../../src/desktop/index.js';
import { encodePlan, PlanEncodeError, RecordType } from '../../../src/plan/encode.js';
import type { LaunchPlan } from '../../../src/plan/plan.js';
import type { MergedProfile } from '../../../src/profile/index.js';
import { TsjailError } from '../../../src/errors.js';

const entry = (family: number, address: string, number: string, data: string): XauthEntry => ({
  family,
  address: Buffer.from(address),
  number,
  name: 'MIT-MAGIC-COOKIE-1',
  data: Buffer.from(data, 'hex'),
});

t.test('Xauthority: round trip, and only the display asked for, as FamilyWild', async (t) => {
  const entries = [
    entry(FAMILY_LOCAL, 'host', '0', '00112233445566778899aabbccddeeff'),
    entry(FAMILY_LOCAL, 'host', '1', 'ffeeddccbbaa99887766554433221100'),
    entry(FAMILY_LOCAL, 'otherhost', '0', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
    entry(0, '\x7f\x00\x00\x01', '0', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'),
  ];
  const buf = encodeXauth(entries);
  t.same(parseXauth(buf), entries, 'parse(encode(x)) = x');
  const mine = cookiesForDisplay(parseXauth(buf), '0', 'host');
  t.equal(mine.length, 1, 'one cookie');
  t.equal(mine[0]!.family, FAMILY_WILD);
  t.equal(mine[0]!.number, '0');
  t.equal(mine[0]!.address.length, 0);
  t.equal(mine[0]!.data.toString('hex'), '00112233445566778899aabbccddeeff');
  t.same(cookiesForDisplay(parseXauth(buf), '7', 'host'), [], 'no cookie for a display without one');
  t.throws(() => parseXauth(buf.subarray(0, buf.length - 3)), XauthFormatError, 'a truncated file is an error');
});

t.test('DISPLAY values', async (t) => {
  t.equal(displayNumber(':0'), '0');
  t.equal(displayNumber(':12.1'), '12');
  t.equal(displayNumber('unix:3'), '3');
  t.equal(displayNumber('remote:0'), undefined);
  t.equal(displayNumber('localhost:10.0'), undefined);
});

t.test('D-Bus rules: names that lead out of the sandbox are refused, whatever the wildcard', async (t) => {
  t.ok(covers('org.freedesktop.*', 'org.freedesktop.systemd1'));
  t.ok(covers('*', 'org.gnome.Terminal'));
  t.ok(covers('org.freedesktop.systemd1', 'org.freedesktop.systemd1'));
  t.notOk(covers('org.freedesktop.Notifications', 'org.freedesktop.systemd1'));
  t.notOk(covers('org.freedesktop.systemd1x.*', 'org.freedesktop.systemd1'));
  const source = { file: 'p', line: 1 };
  const rules = {
    talk: ['org.freedesktop.Notifications'],
    own: ['org.example.App.*'],
    see: [],
    call: ['org.example.X=org.example.X.Get@/x'],
    broadcast: [],
    source,
  };
  t.same(proxyRules('session', rules), [
    '--talk=org.freedesktop.Notifications',
    '--own=org.example.App.*',
    '--call=org.example.X=org.example.X.Get@/x',
  ]);
  for (const bad of [
    { talk: ['org.freedesktop.*'] },
    { call: ['org.freedesktop.systemd1=*'] },
    { see: ['org.gnome.Terminal'] },
    { own: ['*'] },
  ]) {
    const r = { talk: [], own: [], see: [], call: [], broadcast: [], source, ...bad };
    t.throws(() => proxyRules('session', r), TsjailError, JSON.stringify(bad));
  }
});

t.test('D-Bus: every forbidden rule is an error at the line it was written', async (t) => {
  const line = (n: number) => ({ file: 'p.json5', line: n });
  const session = {
    talk: ['org.freedesktop.Notifications', 'org.freedesktop.systemd1'],
    own: [],
    see: [],
    call: [],
    broadcast: [],
    source: line(2),
    sources: { talk: [line(3), line(4)], own: [], see: [], call: [], broadcast: [] },
  };
  const system = { talk: [], own: [], see: ['org.freedesktop.login1'], call: [], broadcast: [], source: line(9) };
  t.same(
    forbiddenRules({ session, system }).map((e) => e.message),
    [
      'p.json5:4: dbus.session.talk: "org.freedesktop.systemd1" would reach org.freedesktop.systemd1: systemd\'s manager starts and stops units (commands) outside the sandbox (dbus.session.dangerouslyAllow: ["org.freedesktop.systemd1"] lets a profile that truly needs it)',
      'p.json5:9: dbus.system.see: "org.freedesktop.login1" would reach org.freedesktop.login1: logind\'s manager can power off, suspend and switch sessions (dbus.system.dangerouslyAllow: ["org.freedesktop.login1"] lets a profile that truly needs it)',
    ],
    'a rule without its own line is reported at its bus',
  );
  t.throws(() => proxyRules('session', session), { message: /^p\.json5:4: / });
  t.same(forbiddenRules({ session: { ...session, talk: ['org.freedesktop.Notifications'] } }), []);
});

t.test(
  'D-Bus: code execution and secrets are refused by family, unless dangerouslyAllow names them exactly',
  async (t) => {
    const src = { file: 'p.json5', line: 1 };
    const bus = (talk: string[], allow: string[] = []) => ({
      talk,
      own: [],
      see: [],
      call: [],
      broadcast: [],
      source: src,
      dangerouslyAllow: allow.map((value) => ({ value, source: { file: 'p.json5', line: 7 } })),
    });
    for (const name of [
      'org.gnome.Shell',
      'org.gnome.Shell.Screenshot',
      'ca.desrt.dconf',
      'org.freedesktop.secrets',
      'org.kde.klauncher5',
      'org.freedesktop.impl.portal.PermissionStore',
      'org.freedesktop.Flatpak',
      'org.gnome.keyring',
      'org.kde.kwalletd5',
      'org.kde.kwalletd6',
      'org.freedesktop.PackageKit',
      'org.gnome.SessionManager',
      'org.freedesktop.login1',
      'org.kde.konsole-4242',
      'org.gnome.*',
      'org.freedesktop.*',
    ]) {
      t.equal(forbiddenRules({ session: bus([name]) }).length, 1, name);
    }
    for (const name of [
      'org.freedesktop.Notifications',
      'org.freedesktop.portal.Desktop',
      'org.mpris.MediaPlayer2.x',
      'org.gnome.ShellX',
    ]) {
      t.same(forbiddenRules({ session: bus([name]) }), [], name);
    }
    const secrets = bus(['org.freedesktop.secrets'], ['org.freedesktop.secrets']);
    t.same(forbiddenRules({ session: secrets }), [], 'named exactly in dangerouslyAllow');
    t.match(dangerousGrants('session', secrets), [
      /^dbus\.session\.dangerouslyAllow \(p\.json5:7\): the sandbox may reach org\.freedesktop\.secrets: the Secret Service/,
    ]);
    t.equal(
      forbiddenRules({ session: bus(['org.gnome.Shell.Screenshot'], ['org.gnome.Shell']) }).length,
      1,
      'the family is not allowed by its head',
    );
    t.match(
      forbiddenRules({ session: bus([], ['org.example.Fine']) }).map((e) => e.message),
      [/p\.json5:7: dbus\.session\.dangerouslyAllow: "org\.example\.Fine" is not a name tsjail refuses/],
    );
    t.same(dangerousGrants('session', bus([], ['org.freedesktop.secrets'])), [], 'said only when a rule uses it');
  },
);

t.test('D-Bus: only the buses named; the session bus at $XDG_RUNTIME_DIR/bus inside', async (t) => {
  const src = { file: 'p', line: 1 };
  const rules = { talk: ['org.freedesktop.Notifications'], own: [], see: [], call: [], broadcast: [], source: src };
  const d = planDbus(
    { session: rules },
    { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' },
    '/run/user/1000',
    '/run/user/1000',
  );
  t.same(
    d.buses.map((b) => [b.bus, b.address, b.inside]),
    [['session', 'unix:path=/run/user/1000/bus', '/run/user/1000/bus']],
  );
  t.same(d.env, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' });
  const none = planDbus({ session: rules }, {}, undefined, '/run/user/1000');
  t.same(none.buses, [], 'no session bus on the host: none inside');
  t.same(none.env, {});
  const sys = planDbus({ system: rules }, {}, undefined, '/run/user/1000');
  t.same(
    sys.buses.map((b) => b.inside),
    ['/run/dbus/system_bus_socket'],
  );
  t.same(Object.keys(sys.env), ['DBUS_SYSTEM_BUS_ADDRESS']);
});

t.test('sockets: each found socket bound into a private runtime directory, with its variable', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-desktop-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const listen = (p: string) =>
    new Promise<net.Server>((resolve) => {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      const s = net.createServer().listen(p, () => resolve(s));
    });
  const servers = [await listen(path.join(dir, 'wayland-1')), await listen(path.join(dir, 'pulse', 'native'))];
  t.teardown(() => servers.forEach((s) => s.close()));
  fs.mkdirSync(path.join(dir, 'home', '.config', 'pulse'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'home', '.config', 'pulse', 'cookie'), 'COOKIE');
  const tagged = (v: string) => ({ value: v, source: { file: 'p.json5', line: 3 }, layer: 1 });
  const profile = {
    sockets: ['wayland', 'pulseaudio', 'pipewire', 'x11'].map(tagged),
    dbus: {},
  } as unknown as MergedProfile;
  const d = planDesktop(profile, {
    env: { XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: 'wayland-1' },
    uid: 1000,
    home: path.join(dir, 'home'),
  });
  t.equal(d.runtime, dir);
  t.same(
    d.fs.map((r) => [r.path, r.access]),
    [
      [dir, 'tmpfs'],
      [path.join(dir, 'wayland-1'), 'ro'],
    ],
    'the PulseAudio socket is not bound: the filter stands in for it',
  );
  const cookiePath = path.join(dir, 'home', '.config', 'pulse', 'cookie');
  t.same(
    d.pulse,
    {
      server: fs.realpathSync(path.join(dir, 'pulse', 'native')),
      cookie: cookiePath,
      inside: `${dir}/pulse/native`,
      hostRuntime: dir,
    },
    'the filter connects to the server with the real cookie',
  );
  t.same(d.env, {
    XDG_RUNTIME_DIR: dir,
    WAYLAND_DISPLAY: 'wayland-1',
    PULSE_SERVER: `unix:${dir}/pulse/native`,
    PULSE_COOKIE: `${dir}/pulse/cookie`,
    PULSE_CLIENTCONFIG: `${dir}/pulse/client.conf`,
  });
  const conf = d.ops.find((o) => o.op === 'file' && o.dest === `${dir}/pulse/client.conf`);
  t.match(
    conf && conf.op === 'file' ? Buffer.from(conf.content).toString() : '',
    /^enable-shm = no$[\s\S]*^enable-memfd = no$/m,
    'the client is told there is no shared memory, so it asks for no memfd',
  );
  const cookie = d.ops.find((o) => o.op === 'file');
  t.ok(
    cookie && cookie.op === 'file' && Buffer.from(cookie.content).equals(Buffer.alloc(256)) && cookie.mode === 0o600,
    'a placeholder cookie inside',
  );
  t.match(
    d.notes.join('\n'),
    /pipewire .*PipeWire's own socket is not handed over.*pipewire-pulse/,
    'pipewire is sound through the same filter, said once, with no second filter',
  );
  t.match(d.notes.join('\n'), /x11 .*not granted, the Wayland socket is/);
  t.same(d.warnings, [], 'no X11, so no warning');
  const noWayland = planDesktop(profile, { env: { XDG_RUNTIME_DIR: dir }, uid: 1000, home: path.join(dir, 'home') });
  t.match(noWayland.notes.join('\n'), /x11 .*DISPLAY is not set/, 'without Wayland x11 is tried');
  const nothing = planDesktop({ sockets: [], dbus: {} } as unknown as MergedProfile, {
    env: { XDG_RUNTIME_DIR: dir },
    uid: 1000,
    home: dir,
  });
  t.same(nothing.fs, [], 'no sockets, no dbus: no runtime directory at all');
  t.same(nothing.env, {});
});

t.test('LIFELINE records', async (t) => {
  const plan: LaunchPlan = {
    version: 1,
    net: true,
    uid: 1,
    gid: 1,
    hostname: 'h',
    verbose: 0,
    mounts: [],
    cwd: '/',
    rlimits: [],
    env: [],
    argv: ['x'],
    exec: { program: 'x', path: '/bin' },
    lifelines: [7, 9],
  };
  const buf = encodePlan(plan);
  const types: number[] = [];
  const fds: number[] = [];
  for (let off = 16; off < buf.length;) {
    const type = buf.readUInt16LE(off);
    const size = buf.readUInt32LE(off + 4);
    types.push(type);
    if (type === RecordType.LIFELINE) fds.push(buf.readUInt32LE(off + 8));
    off += 8 + size;
  }
  t.same(fds, [7, 9]);
  t.ok(types.indexOf(RecordType.LIFELINE) < types.indexOf(RecordType.CHDIR), 'among the setup records');
  t.throws(() => encodePlan({ ...plan, lifelines: [2] }), PlanEncodeError);
});
