// src/learn/derive.ts on records written by hand: the rules that keep a
// learned profile within what the run used (the real runs are
// test/integration/learn.test.ts).
import t from 'tap';
import { collapse, learn, withVariables, type Host, type Observation } from '../../../src/learn/derive.js';
import { GROUPS } from '../../../src/seccomp/groups.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';

const NATIVE = new Set(syscallTable('x86_64').all.map((c) => c.name));

const HOME = '/home/u';
const made = new Set(['/home/u/out']);
const exists = new Set([
  '/home/u',
  '/home/u/notes',
  '/home/u/notes/a.txt',
  '/home/u/out',
  '/home/u/out/r',
  '/home/u/.ssh',
  '/home/u/.ssh/id',
  '/home/u/.config/app/x/y.conf',
  '/etc/app.conf',
  '/usr/lib/libc.so.6',
  '/tmp',
]);
const host = (over: Partial<Host> = {}): Host => ({
  home: HOME,
  xdg: {
    config: `${HOME}/.config`,
    data: `${HOME}/.local/share`,
    cache: `${HOME}/.cache`,
    state: `${HOME}/.local/state`,
  },
  secrets: [{ path: `${HOME}/.ssh`, why: 'SSH keys' }],
  real: (p) => (exists.has(p) ? p : undefined),
  isDir: () => false,
  learnShows: (p) => p.startsWith(HOME) || p.startsWith('/etc') || p.startsWith('/usr'),
  // The home, /etc and /usr from the host, ~/.ssh behind its cover, /tmp the sandbox's own, nothing else.
  learnOwn: (p) =>
    p === '/tmp' || p.startsWith('/tmp/')
      ? '/tmp'
      : ['/home/', '/etc/', '/usr/'].some((d) => p.startsWith(d))
        ? undefined
        : '/',
  madeDuringRun: (p) => made.has(p),
  baseShows: (p, access) => access === 'ro' && p.startsWith('/usr'),
  baseSyscalls: () => [
    'read',
    'openat',
    'uname',
    'close',
    { name: 'socket', args: [{ arg: 0, op: '==', value: 'AF_UNIX' }] },
  ],
  nativeNames: NATIVE,
  ...over,
});

t.test('collapse: the first entry below the deepest broad directory', async (t) => {
  const broad = ['/', '/etc', HOME, `${HOME}/.config`];
  t.equal(collapse('/home/u/notes/a/b.txt', broad), '/home/u/notes');
  t.equal(collapse('/home/u/.config/app/x/y.conf', broad), '/home/u/.config/app');
  t.equal(collapse('/etc/app.conf', broad), '/etc/app.conf');
  t.equal(collapse('/home/u/file', broad), '/home/u/file');
  t.equal(withVariables('/home/u/.config/app', host()), '${XDG_CONFIG_HOME}/app');
  t.equal(withVariables('/home/u/notes', host()), '${HOME}/notes');
  t.equal(withVariables('/etc/app.conf', host()), '/etc/app.conf');
});

const rec: Observation[] = [
  { kind: 'path', syscall: 'openat', path: '/home/u/notes/a.txt', write: false, hidden: false },
  { kind: 'path', syscall: 'openat', path: '/home/u/.config/app/x/y.conf', write: false, hidden: false },
  { kind: 'path', syscall: 'openat', path: '/etc/app.conf', write: false, hidden: false },
  { kind: 'path', syscall: 'openat', path: '/usr/lib/libc.so.6', write: false, hidden: false },
  { kind: 'path', syscall: 'openat', path: '/home/u/.ssh/id', write: false, hidden: true },
  { kind: 'path', syscall: 'openat', path: '/home/u/missing', write: false, hidden: false },
  // mkdir -p: every parent is an EEXIST, the last one is new.
  { kind: 'path', syscall: 'mkdir', path: '/home/u', write: true, entry: true, hidden: false },
  { kind: 'path', syscall: 'mkdir', path: '/home/u/out', write: true, entry: true, hidden: false },
  { kind: 'path', syscall: 'openat', path: '/home/u/out/r', write: true, hidden: false },
  { kind: 'used', syscall: 'uname' },
  { kind: 'used', syscall: 'close' },
  { kind: 'used', syscall: 'write' },
  { kind: 'used', syscall: 'socket' },
  { kind: 'used', syscall: 'connect', family: 'inet', host: '127.0.0.1', port: 8080 },
  { kind: 'used', syscall: 'sendto', family: 'inet', host: '127.0.0.53', port: 53 },
  { kind: 'used', syscall: 'connect', family: 'unix', path: '/tmp/.X11-unix/X0' },
  { kind: 'syscall', syscall: 'ptrace', key: 'syscalls.allow' },
  { kind: 'dbus', name: 'org.example.X', key: 'dbus.session.talk' },
];

t.test('learn: exactly the grants the record shows, nothing broader', async (t) => {
  const l = learn(rec, host());
  t.same(
    l.ro,
    ['/etc/app.conf', '/home/u/.config/app', '/home/u/notes'],
    'read, collapsed; /usr shown by the base already',
  );
  t.same(l.rw, ['/home/u/out'], "the folder made and written; not mkdir -p's home");
  t.same(l.exec, []);
  t.same(l.notes.secrets, ['${HOME}/.ssh (SSH keys)'], 'the secret is said, not granted');
  t.same(l.network, { mode: 'private', allow: ['127.0.0.1:8080'] }, 'the address connected to');
  t.same(l.notes.dns, ['127.0.0.53:53'], 'DNS is said');
  t.same(l.sockets, ['x11']);
  t.same(l.notes.refused, ['ptrace']);
  t.same(l.notes.dbusRefused, ['dbus.session.talk: org.example.X']);
  const names = l.syscalls.map((e) => (typeof e === 'string' ? e : e.name));
  t.same([...names].sort(), ['close', 'openat', 'socket', 'uname'], 'the calls made (write is always allowed)');
  t.notOk(names.includes('read'), 'a call of the base never made is not allowed');
  t.ok(
    l.syscalls.some((e) => typeof e === 'object' && e.name === 'socket'),
    "socket keeps the base's argument condition",
  );
});

t.test('learn: a group is written by its name when every member was used', async (t) => {
  const members = GROUPS['@clock']!.members.filter((m) => !m.startsWith('@') && NATIVE.has(m));
  const native = NATIVE;
  const l = learn(
    members.map((m) => ({ kind: 'used', syscall: m })),
    host({ baseSyscalls: () => members, nativeNames: native }),
  );
  t.same(l.syscalls, ['@clock']);
  const some = learn(
    [{ kind: 'used', syscall: members[0]! }],
    host({ baseSyscalls: () => members, nativeNames: native }),
  );
  t.same(some.syscalls, [members[0]], 'one member: only that one');
});

t.test("learn: the sandbox's own runtime directory is no secret; the host's secrets are", async (t) => {
  const RUN = '/run/user/1000';
  const secrets = [
    { path: `${HOME}/.ssh`, why: 'SSH keys' },
    { path: RUN, why: "the session's sockets" },
    { path: `${RUN}/ssh.sock`, why: "the ssh agent's socket" },
    { path: '/tmp/ssh-X/agent.1', why: "another agent's socket" },
  ];
  const own = (p: string): string | undefined => (p === RUN || p.startsWith(`${RUN}/`) ? RUN : host().learnOwn(p));
  const touches: Observation[] = [
    // In the runtime directory tsjail made (a tmpfs at the secret's path): the sandbox's own,
    // whether the host has a file of that name there (hidden) or not.
    { kind: 'path', syscall: 'openat', path: RUN, write: false, hidden: false },
    { kind: 'path', syscall: 'openat', path: `${RUN}/dconf/user`, write: true, hidden: false },
    { kind: 'path', syscall: 'mkdir', path: `${RUN}/app`, write: true, entry: true, hidden: false },
    { kind: 'path', syscall: 'openat', path: `${RUN}/at-spi/bus`, write: false, hidden: true },
    // /tmp is the sandbox's too, but an agent's socket the host has there and the sandbox hid is the host's.
    { kind: 'path', syscall: 'openat', path: '/tmp/ssh-X/agent.1', write: false, hidden: false },
  ];
  const l = learn(touches, host({ secrets, learnOwn: own }));
  t.same(l.notes.secrets, [], 'nothing of the runtime directory tsjail made, nor a socket the host has not');
  t.same(l.notes.hidden, [], 'nor said as hidden');
  t.same([...l.ro, ...l.rw], [], 'nor granted');

  const hostOnes: Observation[] = [
    { kind: 'path', syscall: 'openat', path: '/tmp/ssh-X/agent.1', write: false, hidden: true },
    { kind: 'path', syscall: 'openat', path: `${RUN}/ssh.sock`, write: false, hidden: true },
    // Behind its cover (a deny of the host's ~/.ssh): the secret, opened or not.
    { kind: 'path', syscall: 'openat', path: `${HOME}/.ssh`, write: false, hidden: false },
  ];
  t.same(
    learn(hostOnes, host({ secrets, learnOwn: own })).notes.secrets,
    [
      "/tmp/ssh-X/agent.1 (another agent's socket)",
      `${RUN}/ssh.sock (the ssh agent's socket)`,
      '${HOME}/.ssh (SSH keys)',
    ],
    "the host's: the agents' sockets it has and the sandbox hid, the innermost secret named; the covered ~/.ssh",
  );
  // Control: the same touches where the sandbox has no runtime directory of its own are the host's.
  const bare = learn(
    [{ kind: 'path', syscall: 'openat', path: `${RUN}/at-spi/bus`, write: false, hidden: true }],
    host({ secrets }),
  );
  t.same(
    bare.notes.secrets,
    [`${RUN} (the session's sockets)`],
    "without tsjail's tmpfs there, the host's runtime directory",
  );
});
