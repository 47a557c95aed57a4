import { join } from 'node:path';
import t from 'tap';

import { checkProfiles, loadProfile } from '../../../src/profile/index.js';
import { FIXTURES, SHIPPED, vars, writeTree } from './helpers.js';

const opts = { vars: vars(), searchPath: [join(FIXTURES, 'shipped'), SHIPPED] };

/** Checks a profile text; returns its errors as "p.json5:LINE: key: message". */
function errorsOf(t: { testdir(): string }, text: string): string[] {
  const dir = writeTree(t.testdir(), { 'p.json5': text });
  return checkProfiles([join(dir, 'p.json5')], opts).map((e) => e.message.replace(`${dir}/`, ''));
}

t.test('the SPEC example profile is valid', async (t) => {
  t.same(checkProfiles([join(FIXTURES, 'shipped', 'firefox.json5')], opts), []);
});

t.test('schema errors are FILE:LINE: key.path: message, for nested keys and list items', async (t) => {
  t.same(
    errorsOf(
      t,
      [
        '{',
        '  filesystem: {',
        '    ro: [',
        '      "/usr",',
        '      "relative/path",',
        '      "/a/../etc/shadow",',
        '    ],',
        '  },',
        '  syscalls: { allow: [ "read", { name: "ioctl",',
        '      args: [ { arg: 1, op: "==", value: 1 }, { arg: 2, op: "=!", value: 3 } ] } ] },',
        '}',
      ].join('\n'),
    ),
    [
      'p.json5:5: filesystem.ro[1]: "relative/path" must be an absolute path (starting with /, ~ or ${VAR})',
      'p.json5:6: filesystem.ro[2]: "/a/../etc/shadow" must not contain ".." segments',
      'p.json5:10: syscalls.allow[1].args[1].op: unknown comparison "=!"; did you mean "!="?',
    ],
  );
});

t.test('unknown keys are errors, with "did you mean" for misspellings', async (t) => {
  t.same(
    errorsOf(
      t,
      [
        '{',
        '  filesytem: {},',
        '  nestedSanbox: true,',
        '  ro: ["/usr"],',
        '  syscalls: { alow: [] },',
        '  dbus: { sesion: {} },',
        '  network: { mode: "host", tpc: {} },',
        '  frobnicate: 1,',
        '}',
      ].join('\n'),
    ),
    [
      'p.json5:2: filesytem: unknown key; did you mean "filesystem"?',
      'p.json5:3: nestedSanbox: unknown key; did you mean "nestedSandbox"?',
      'p.json5:4: ro: unknown key; did you mean "filesystem.ro"?',
      'p.json5:5: syscalls.alow: unknown key; did you mean "allow"?',
      'p.json5:6: dbus.sesion: unknown key; did you mean "session"?',
      'p.json5:7: network.tpc: unknown key; did you mean "tcp"?',
      'p.json5:8: frobnicate: unknown key (expected one of: description, command, include, filesystem, devices, ' +
        'sockets, dbus, network, syscalls, env, limits, hostname, nestedSandbox, landlock, root, uid, capabilities)',
    ],
  );
});

t.test('path lists: relative, "..", ".", empty, NUL, ~user and non-string entries', async (t) => {
  t.same(
    errorsOf(
      t,
      [
        '{ filesystem: {',
        '  rw: ["", "/a\\u0000b", "~bob/x", "/usr/./lib", 42, null, ["/x"], "/ok/*.conf", "~", "~/x", "${HOME}/y"],',
        '  deny: "/etc",',
        '} }',
      ].join('\n'),
    ),
    [
      'p.json5:2: filesystem.rw[0]: must not be empty',
      'p.json5:2: filesystem.rw[1]: must not contain a NUL character',
      'p.json5:2: filesystem.rw[2]: "~bob/x" only "~" and "~/..." are supported, not "~user"',
      'p.json5:2: filesystem.rw[3]: "/usr/./lib" must not contain "." segments',
      'p.json5:2: filesystem.rw[4]: expected a string, got number 42',
      'p.json5:2: filesystem.rw[5]: expected a string, got null',
      'p.json5:2: filesystem.rw[6]: expected a string, got a list',
      'p.json5:3: filesystem.deny: expected a list [ ... ], got string "/etc"',
    ],
  );
});

t.test('limits.memory, pids, cpu and required: the cgroup limits', async (t) => {
  t.same(errorsOf(t, '{\n  limits: { memory: "1T", pids: 0, cpu: 0, required: "no" },\n}\n'), [
    'p.json5:2: limits.memory: expected a size such as "512M" (a number with K, M or G), an integer of bytes or "unlimited", got "1T"',
    'p.json5:2: limits.pids: 0 is out of range 1..4194304',
    'p.json5:2: limits.cpu: expected a number of CPUs from 0.01 to 1024 (such as 0.5 or 2) or "unlimited", got number 0',
    'p.json5:2: limits.required: expected true or false, got string "no"',
  ]);
  t.same(errorsOf(t, '{\n  limits: { memory: 0, cpu: "1", pids: 2.5 },\n}\n'), [
    'p.json5:2: limits.memory: 0 is out of range 1..9007199254740991',
    'p.json5:2: limits.cpu: expected a number of CPUs from 0.01 to 1024 (such as 0.5 or 2) or "unlimited", got string "1"',
    'p.json5:2: limits.pids: expected an integer, got 2.5',
  ]);
  t.same(errorsOf(t, '{\n  limits: { memory: "512M", pids: 64, cpu: 0.5, required: false, cputime: 60 },\n}\n'), []);
});

t.test('wrong types and out-of-range values in every section', async (t) => {
  t.same(
    errorsOf(
      t,
      [
        '{',
        '  description: 3,',
        '  command: ["/usr/bin/firefox"],',
        '  include: ["../etc/x", "gpu.json5"],',
        '  devices: ["gpu", "/etc/passwd", "/dev/"],',
        '  sockets: ["waylnd", "dbus"],',
        '  dbus: { session: { talk: ["org", "org.a..b", "org.freedesktop.*"], call: ["a b"] }, system: [] },',
        '  network: { mode: "none", tcp: { connect: [443] } },',
        '  hostname: "bad_host",',
        '  nestedSandbox: "yes",',
        '  landlock: "strict",',
        '  limits: { nofile: -1, nproc: 1.5, as: 1e400, core: "0", nice: 41, rtprio: 100, stack: "unlimited", fds: 3, tmpfs: "1T" },',
        '  env: { keep: ["LC_*", "BAD NAME"], set: { "1X": "a", OK: 3, NUL: "a\\u0000" } },',
        '}',
      ].join('\n'),
    ),
    [
      'p.json5:2: description: expected a string, got number 3',
      'p.json5:3: command[0]: "/usr/bin/firefox" must be a program\'s basename, without "/"',
      'p.json5:4: include[0]: "../etc/x": snippets are named without a path (they live in include/)',
      'p.json5:4: include[1]: "gpu.json5": name the snippet without ".json5"',
      'p.json5:5: devices[0]: unknown device class (or give a path under /dev/) "gpu"; expected one of ' +
        '"dri", "snd", "video", "input", "kvm", "fuse", "hidraw"',
      'p.json5:5: devices[1]: "/etc/passwd" is not a path under /dev/',
      'p.json5:5: devices[2]: "/dev/" is not a path under /dev/',
      'p.json5:6: sockets[0]: unknown socket "waylnd"; did you mean "wayland"?',
      'p.json5:6: sockets[1]: unknown socket "dbus"; expected one of "wayland", "x11", "x11-isolated", "pulseaudio", "pipewire"',
      'p.json5:7: dbus.session.talk[0]: "org" is not a D-Bus name (like org.example.App, or org.example.*)',
      'p.json5:7: dbus.session.talk[1]: "org.a..b" is not a D-Bus name (like org.example.App, or org.example.*)',
      'p.json5:7: dbus.session.call[0]: "a b" must not contain whitespace',
      'p.json5:7: dbus.system: expected an object { ... }, got a list',
      'p.json5:8: network.tcp: TCP port lists need mode "host" (with "none" there is no network to filter; with "private" use allow)',
      'p.json5:9: hostname: "bad_host" is not a valid hostname (letters, digits, "-" and ".")',
      'p.json5:10: nestedSandbox: expected true or false, got string "yes"',
      'p.json5:11: landlock: unknown landlock mode "strict"; expected one of "best-effort", "required"',
      'p.json5:12: limits.nofile: -1 is out of range 0..9007199254740991',
      'p.json5:12: limits.nproc: expected an integer, got 1.5',
      'p.json5:12: limits.as: expected an integer, got Infinity',
      'p.json5:12: limits.core: expected a non-negative integer or "unlimited", got "0"',
      'p.json5:12: limits.nice: 41 is out of range 0..40',
      'p.json5:12: limits.rtprio: 100 is out of range 0..99',
      'p.json5:12: limits.fds: unknown key (expected one of: as, core, cputime, data, fsize, memlock, nofile, nproc, ' +
        'stack, msgqueue, nice, rtprio, sigpending, rss, tmpfs, shm, memory, pids, cpu, required)',
      'p.json5:12: limits.tmpfs: expected a size such as "512M" (a number with K, M or G), an integer of bytes or "unlimited", got "1T"',
      'p.json5:13: env.keep[1]: "BAD NAME" is not a variable name or pattern (letters, digits, _, and * ? [..])',
      'p.json5:13: env.set["1X"]: not a valid environment variable name (letters, digits and _, not starting with a digit)',
      'p.json5:13: env.set.OK: expected a string, got number 3',
      'p.json5:13: env.set.NUL: must not contain a NUL character',
    ],
  );
});

t.test('network forms and ports', async (t) => {
  t.same(errorsOf(t, '{ network: { mode: "host", tcp: { connect: [0, 443, 65536, "80"], bind: [8080] } } }'), [
    'p.json5:1: network.tcp.connect[0]: 0 is out of range 1..65535',
    'p.json5:1: network.tcp.connect[2]: 65536 is out of range 1..65535',
    'p.json5:1: network.tcp.connect[3]: expected an integer, got string "80"',
  ]);
  t.same(errorsOf(t, '{ network: { tcp: {} } }'), [
    'p.json5:1: network: missing key "mode" ("none", "host" or "private")',
  ]);
  t.same(errorsOf(t, '{ network: true }'), [
    'p.json5:1: network: expected "none", "host", "private" or { mode, tcp, allow }, got boolean true',
  ]);
  t.same(errorsOf(t, '{ network: "hsot" }'), ['p.json5:1: network: unknown network mode "hsot"; did you mean "host"?']);
});

t.test('syscall entries: shape only', async (t) => {
  t.same(
    errorsOf(
      t,
      [
        '{ syscalls: {',
        '  allow: ["read", "@network-io", "not a name", 7, { name: "@default", args: [] }, { args: [] },',
        '          { name: "ioctl", args: [ { arg: 6, op: "==", value: 1 },',
        '                                   { arg: 1, op: "in", value: 3 },',
        '                                   { arg: 1, op: "==", value: [1] },',
        '                                   { arg: 1, op: "&==", value: 1 },',
        '                                   { arg: 1, op: "==", value: 1, mask: 1 },',
        '                                   { arg: 1, op: "==", value: 1e300 },',
        '                                   { arg: 1, op: "<" } ] },',
        '          { name: "socket", args: [ { arg: 0, op: "in", value: ["AF_UNIX", 10] },',
        '                                    { arg: 1, op: "&==", mask: "0xffffffffffffffff", value: "SOCK_STREAM" } ] } ],',
        '  deny: "ptrace",',
        '  action: "trap",',
        '  multiarch: 1,',
        '} }',
      ].join('\n'),
    ),
    [
      'p.json5:2: syscalls.allow[2]: "not a name" is not a syscall name or @group',
      'p.json5:2: syscalls.allow[3]: expected a syscall name, "@group" or { name, args }, got number 7',
      'p.json5:2: syscalls.allow[4].name: "@default" is not a syscall name (groups take no arguments)',
      'p.json5:2: syscalls.allow[5]: missing key "name"',
      'p.json5:3: syscalls.allow[6].args[0].arg: 6 is out of range 0..5',
      'p.json5:4: syscalls.allow[6].args[1].value: op "in" needs a non-empty list, got number 3',
      'p.json5:5: syscalls.allow[6].args[2].value: expected a number or a constant name, got a list',
      'p.json5:6: syscalls.allow[6].args[3]: op "&==" needs a "mask"',
      'p.json5:7: syscalls.allow[6].args[4].mask: a mask is only used with op "&=="',
      'p.json5:8: syscalls.allow[6].args[5].value: 1.000e+300 is not an exact integer; write large values as a string ("0xffffffffffffffff")',
      'p.json5:9: syscalls.allow[6].args[6]: missing key "value"',
      'p.json5:12: syscalls.deny: expected a list [ ... ], got string "ptrace"',
      'p.json5:13: syscalls.action: unknown action "trap"; expected one of "errno", "kill", "log"',
      'p.json5:14: syscalls.multiarch: expected true or false, got number 1',
    ],
  );
});

t.test('huge input is an error, not a crash', async (t) => {
  const many = JSON.stringify(Array.from({ length: 5000 }, (_, i) => `/p${i}`));
  t.same(errorsOf(t, `{ filesystem: { ro: ${many} } }`), ['p.json5:1: filesystem.ro: more than 4096 entries']);
  t.same(errorsOf(t, `{ hostname: "${'a'.repeat(65)}" }`), ['p.json5:1: hostname: longer than 64 characters']);
  const deep = '{ description: ' + '['.repeat(2000) + ']'.repeat(2000) + ' }';
  t.same(errorsOf(t, deep), ['p.json5:1:80: nested deeper than 64 levels']);
  t.same(errorsOf(t, '{ description: [[[[]]]] }'), ['p.json5:1: description: expected a string, got a list']);
});

t.test('loadProfile throws the first error; checkProfiles returns them all, across files', async (t) => {
  const file = join(FIXTURES, 'bad', 'many-errors.json5');
  t.throws(() => loadProfile(file, opts), { message: `${file}:2: filesytem: unknown key; did you mean "filesystem"?` });
  const all = checkProfiles([file, join(FIXTURES, 'bad', 'syntax.json5'), 'firefox'], opts).map((e) => e.message);
  t.same(all, [
    `${file}:2: filesytem: unknown key; did you mean "filesystem"?`,
    `${file}:3: network: unknown network mode "hots"; did you mean "host"?`,
    `${file}:4: limits.nofile: -1 is out of range 0..9007199254740991`,
    `${file}:5: include[0]: snippet "nowhere" not found in include/ of: ${opts.searchPath.join(', ')}`,
    `${join(FIXTURES, 'bad', 'syntax.json5')}:4:3: invalid character 'n'`,
  ]);
});

t.test('errors carry their parts as fields', async (t) => {
  const [err] = checkProfiles([join(FIXTURES, 'bad', 'many-errors.json5')], opts);
  t.match(err, {
    file: join(FIXTURES, 'bad', 'many-errors.json5'),
    line: 2,
    keyPath: 'filesytem',
    detail: 'unknown key; did you mean "filesystem"?',
  });
});

t.test('a profile string cannot forge a second diagnostic line', async (t) => {
  const [msg] = errorsOf(t, '{ sockets: ["x\\nfake.json5:1: everything is fine"] }');
  t.notMatch(msg!, /\n/);
});

t.test('landlock: a mode, or { mode, logDenials }', async (t) => {
  t.same(errorsOf(t, '{ landlock: { mode: "required", logDenials: true } }'), []);
  t.same(errorsOf(t, ['{', '  landlock: { mode: "strict", logDenials: "yes", audit: true },', '}'].join('\n')), [
    'p.json5:2: landlock.mode: unknown landlock mode "strict"; expected one of "best-effort", "required"',
    'p.json5:2: landlock.logDenials: expected true or false, got string "yes"',
    'p.json5:2: landlock.audit: unknown key (expected one of: mode, logDenials)',
  ]);
  t.same(errorsOf(t, '{ landlock: 1 }'), [
    'p.json5:1: landlock: expected "best-effort", "required" or { mode, logDenials }, got number 1',
  ]);
});

t.test('network.unscopedAbstractSockets: a boolean, and only with mode "host"', async (t) => {
  t.same(errorsOf(t, '{ network: { mode: "host", unscopedAbstractSockets: true } }'), []);
  t.same(errorsOf(t, '{ network: { mode: "host", unscopedAbstractSockets: "yes" } }'), [
    'p.json5:1: network.unscopedAbstractSockets: expected true or false, got string "yes"',
  ]);
  t.same(errorsOf(t, '{ network: { mode: "none", unscopedAbstractSockets: true } }'), [
    'p.json5:1: network.unscopedAbstractSockets: only means something with mode "host" (a network namespace of its own has no host abstract sockets)',
  ]);
});

t.test('root, uid and capabilities: their shapes, each error at its line', async (t) => {
  t.same(errorsOf(t, '{\n  root: "/srv/tree",\n  uid: 0,\n  capabilities: ["chown", "setuid"],\n}\n'), []);
  t.same(errorsOf(t, '{\n  root: { writable: true },\n  uid: "caller",\n}\n'), []);
  t.same(
    errorsOf(
      t,
      ['{', '  root: "relative",', '  uid: 1000,', '  capabilities: ["sys_admin", "chwon"],', '}'].join('\n'),
    ),
    [
      'p.json5:2: root: "relative" must be an absolute path (starting with /, ~ or ${VAR})',
      'p.json5:3: uid: expected 0 or "caller", got number 1000',
      'p.json5:4: capabilities[0]: unknown capability "sys_admin"; expected one of "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "net_bind_service", "sys_chroot"',
      'p.json5:4: capabilities[1]: unknown capability "chwon"; did you mean "chown"?',
    ],
  );
  t.same(errorsOf(t, '{\n  root: { path: "/x", writeable: true },\n}\n'), [
    'p.json5:2: root.writeable: unknown key; did you mean "writable"?',
  ]);
});
