import { join } from 'node:path';
import t from 'tap';

import { BUILTIN_SOURCE, checkProfiles, loadProfile } from '../../../src/profile/index.js';
import { FIXTURES, HOME, SHIPPED, vars, writeTree } from './helpers.js';

const SHIP = join(FIXTURES, 'shipped');
const opts = { vars: vars(), searchPath: [SHIP, SHIPPED] };

t.test('the SPEC example merges with its snippets', async (t) => {
  const p = loadProfile('firefox', opts);
  t.equal(p.name, 'firefox');
  t.equal(p.description, 'Mozilla Firefox', "a snippet's description never becomes the profile's");
  t.same(p.command, ['firefox', 'firefox-esr']);
  t.equal(p.hostname, 'sandbox', 'the includer wins over its includes');
  t.same(
    p.devices.map((d) => [d.value, d.layer]),
    [
      ['dri', 2],
      ['snd', 3],
    ],
    'union; first occurrence kept',
  );
  t.same(
    p.sockets.map((s) => s.value),
    ['pulseaudio', 'pipewire', 'wayland', 'x11'],
  );
  t.same(p.env.keep, [
    'HOME',
    'USER',
    'LOGNAME',
    'TERM',
    'COLORTERM',
    'LANG',
    'LANGUAGE',
    'LC_*',
    'TZ',
    'NO_COLOR',
    'XDG_CURRENT_DESKTOP',
  ]);
  t.same(p.env.set, { GTK_THEME: 'Adwaita', MOZ_ENABLE_WAYLAND: '1' }, 'env.set: per key, the later layer wins');
  t.same(p.limits, { core: 0, nofile: 4096, nproc: 1024 });
  t.same(p.network, {
    mode: 'host',
    tcp: { connect: [], bind: [], restrictConnect: false, restrictBind: false },
    udp: true,
    unscopedAbstractSockets: false,
    allow: [],
    source: { file: join(SHIP, 'firefox.json5'), line: 17, col: 12 },
  });
  t.same(
    p.syscalls.allow.map((a) => a.value),
    ['@default', '@network-io'],
  );
  t.same(
    p.syscalls.deny,
    [{ value: 'ptrace', source: { file: join(SHIP, 'firefox.json5'), line: 18, col: 58 }, layer: 4 }],
    "each syscall entry keeps its FILE:LINE for src/seccomp's errors",
  );
  t.same(p.dbus, {
    session: {
      talk: ['org.freedesktop.Notifications'],
      own: ['org.mozilla.firefox.*'],
      see: [],
      call: [],
      broadcast: [],
      source: { file: join(SHIP, 'firefox.json5'), line: 15, col: 20 },
      sources: {
        talk: [{ file: join(SHIP, 'firefox.json5'), line: 15, col: 29 }],
        own: [{ file: join(SHIP, 'firefox.json5'), line: 16, col: 28 }],
        see: [],
        call: [],
        broadcast: [],
      },
      dangerouslyAllow: [],
    },
  });
  t.same(
    p.filesystem.rw.map((e) => e.path),
    [`${HOME}/.mozilla`, `${HOME}/Downloads`],
  );
  t.same(
    p.filesystem.deny.map((e) => e.path),
    [`${HOME}/.ssh`, `${HOME}/.gnupg`],
  );
  t.same(p.filesystem.exec, []);
  t.equal(p.nestedSandbox, false);
});

t.test('filesystem entries are kept with layer and source, unresolved', async (t) => {
  const p = loadProfile('firefox', opts);
  const usr = p.filesystem.ro.filter((e) => e.path === '/usr');
  t.same(
    usr.map((e) => [e.layer, e.source.file]),
    [
      [0, join(SHIPPED, 'include', 'base.json5')],
      [4, join(SHIP, 'firefox.json5')],
    ],
    'the same path from two layers is kept twice: the planner applies "later layer wins"',
  );
  const gtk = p.filesystem.ro.find((e) => e.declared === '${HOME}/.config/gtk-3.0');
  t.same(gtk, {
    path: `${HOME}/.config/gtk-3.0`,
    declared: '${HOME}/.config/gtk-3.0',
    source: { file: join(SHIP, 'firefox.json5'), line: 7, col: 35 },
    layer: 4,
    glob: false,
  });
});

t.test('defaults when nothing is said', async (t) => {
  const dir = writeTree(t.testdir(), { 'p.json5': '{}' });
  const p = loadProfile(join(dir, 'p.json5'), { vars: vars(), searchPath: [SHIPPED] });
  t.equal(p.hostname, 'tsjail');
  t.equal(p.nestedSandbox, false);
  t.equal(p.landlock, 'best-effort');
  t.equal(p.network.mode, 'none', 'no network unless a profile names it');
  t.equal(p.syscalls.action, 'errno');
  t.equal(p.syscalls.multiarch, false);
  t.same(
    p.syscalls.allow,
    [{ value: '@default', source: BUILTIN_SOURCE, layer: -1 }],
    'SPEC: allow defaults to ["@default"]',
  );
  t.notOk('description' in p);
  t.same(p.dbus, {});
});

t.test('a declared allow list replaces the default; later network replaces it whole', async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/net.json5': '{ network: { mode: "host", tcp: { connect: [443, 443, 80] } } }',
    'p.json5': '{ include: ["net"], syscalls: { allow: ["read"], multiarch: true } }',
    'q.json5': '{ include: ["net"], network: "host" }',
    'r.json5': '{ include: ["net"], network: { mode: "host", tcp: { bind: [] } } }',
  });
  const o = { vars: vars(), searchPath: [dir, SHIPPED] };
  const p = loadProfile('p', o);
  t.same(
    p.syscalls.allow.map((a) => a.value),
    ['read'],
  );
  t.equal(p.syscalls.multiarch, true);
  t.same(p.network.tcp, { connect: [443, 80], bind: [], restrictConnect: true, restrictBind: false });
  t.same(loadProfile('q', o).network.tcp, { connect: [], bind: [], restrictConnect: false, restrictBind: false });
  t.same(
    loadProfile('r', o).network.tcp,
    { connect: [], bind: [], restrictConnect: false, restrictBind: true },
    'an empty list still restricts: no port may be bound',
  );
});

t.test('network.udp: true unless a tcp list is given; said explicitly, it wins', async (t) => {
  const dir = writeTree(t.testdir(), {
    'a.json5': '{ network: "host" }',
    'b.json5': '{ network: { mode: "host", tcp: { connect: [443] } } }',
    'c.json5': '{ network: { mode: "host", tcp: { bind: [8080] }, udp: true } }',
    'd.json5': '{ network: { mode: "host", udp: false } }',
  });
  const o = { vars: vars(), searchPath: [dir, SHIPPED] };
  t.equal(loadProfile('a', o).network.udp, true, 'the host network as it is');
  t.equal(loadProfile('b', o).network.udp, false, 'a tcp list refuses UDP');
  t.equal(loadProfile('c', o).network.udp, true, 'unless udp: true');
  t.equal(loadProfile('d', o).network.udp, false, 'udp: false without a list');
});

t.test('syscall entries with arguments are deduplicated by content', async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/s.json5': '{ syscalls: { allow: [{ name: "ioctl", args: [{ arg: 1, op: "==", value: 21505 }] }] } }',
    'p.json5':
      '{ include: ["s"], syscalls: { allow: [{ args: [{ value: 21505, op: "==", arg: 1 }], name: "ioctl" }, "ioctl"] } }',
  });
  const p = loadProfile('p', { vars: vars(), searchPath: [dir, SHIPPED] });
  t.same(
    p.syscalls.allow.map((a) => [a.layer, typeof a.value]),
    [
      [1, 'object'],
      [2, 'string'],
    ],
  );
});

t.test("a layer whose env.set value cannot expand removes the lower layer's value", async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/e.json5': '{ env: { set: { BUS: "fixed", KEEP: "yes" } } }',
    'p.json5': '{ include: ["e"], env: { set: { BUS: "${XDG_RUNTIME_DIR}/bus" } } }',
  });
  const p = loadProfile('p', { vars: vars({ env: {} }), searchPath: [dir, SHIPPED] });
  t.same(p.env.set, { KEEP: 'yes' });
  t.equal(p.skipped.length, 1);
});

t.test('hostile keys stay data', async (t) => {
  const dir = writeTree(t.testdir(), { 'p.json5': '{ env: { set: { "__proto__": "x", constructor: "y" } } }' });
  const p = loadProfile(join(dir, 'p.json5'), { vars: vars(), searchPath: [SHIPPED] });
  t.same(Object.entries(p.env.set), [
    ['__proto__', 'x'],
    ['constructor', 'y'],
  ]);
  const bad = writeTree(t.testdir(), { 'p.json5': '{ "__proto__": {}, filesystem: { constructor: [] } }' });
  t.same(
    checkProfiles([join(bad, 'p.json5')], { vars: vars(), searchPath: [SHIPPED] }).map((e) => e.keyPath),
    ['__proto__', 'filesystem.constructor'],
  );
});

t.test('landlock: a string sets the mode; the object form sets mode and logDenials each on its own', async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/audit.json5': '{ landlock: { logDenials: true } }',
    'p.json5': '{ include: ["audit"], landlock: "required" }',
    'q.json5': '{ include: ["audit"], landlock: { mode: "required", logDenials: false } }',
  });
  const o = { vars: vars(), searchPath: [dir, SHIPPED] };
  const p = loadProfile(join(dir, 'p.json5'), o);
  t.equal(p.landlock, 'required');
  t.equal(p.landlockLogDenials, true, 'a string keeps what a lower layer said about logging');
  const q = loadProfile(join(dir, 'q.json5'), o);
  t.equal(q.landlockLogDenials, false, 'the later layer wins');
  t.equal(
    loadProfile(join(dir, 'include', 'audit.json5'), o).landlock,
    'best-effort',
    'the object form without mode keeps the default',
  );
});
