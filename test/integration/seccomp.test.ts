// SPEC "Syscalls": every launch runs under the profile's compiled allowlist.
// Raw system calls are made with perl's syscall(), so libc cannot hide or
// retry anything: the errno seen is the filter's answer.
import t from 'tap';
import * as path from 'node:path';
import { makeUserDir, removeDir, tsjail, writeUserFile } from '../helpers/sandbox.js';

const NR: Record<string, Record<string, number>> = {
  x64: {
    socket: 41,
    ioctl: 16,
    unshare: 272,
    clone3: 435,
    io_uring_setup: 425,
    getppid: 110,
    keyctl: 250,
    ptrace: 101,
  },
  arm64: {
    socket: 198,
    ioctl: 29,
    unshare: 97,
    clone3: 435,
    io_uring_setup: 425,
    getppid: 173,
    keyctl: 219,
    ptrace: 117,
  },
};
const nr = NR[process.arch]!;
const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;

/** Run perl statements inside; each `probe(name, nr, args...)` prints "name ret errno". */
function probe(lines: string[], tsjailOpts: string[] = []): Map<string, { ret: number; errno: number }> {
  const script = [
    'sub probe { my ($n, @a) = @_; $! = 0; my $r = syscall($a[0], @a[1..$#a]); print "$n $r ", $!+0, "\\n"; }',
    ...lines,
  ].join('\n');
  const r = tsjail([...tsjailOpts, '--', '/usr/bin/perl', '-e', script]);
  if (r.status !== 0) throw new Error(`perl failed (${r.status}): ${r.stderr}`);
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([n, ret, errno]) => [n!, { ret: Number(ret), errno: Number(errno) }]),
  );
}

t.test('the filter is loaded for every launch', async (t) => {
  const r = tsjail(['--', '/bin/grep', '^Seccomp', '/proc/self/status']);
  t.match(r.stdout, /^Seccomp:\s+2$/m);
});

t.test('@default: denied calls fail with EPERM, unknown numbers with ENOSYS, clone3 with ENOSYS', async (t) => {
  const m = probe([
    `probe("unshare", ${nr.unshare}, 0x10000000);`,
    `probe("keyctl", ${nr.keyctl}, 0, 0, 0, 0, 0);`,
    `probe("uring", ${nr.io_uring_setup}, 1, 0);`,
    `probe("clone3", ${nr.clone3}, 0, 0);`,
    'probe("unknown", 1000);',
    `probe("getppid", ${nr.getppid});`,
  ]);
  t.same(m.get('unshare'), { ret: -1, errno: EPERM }, 'unshare(CLONE_NEWUSER)');
  t.same(m.get('keyctl'), { ret: -1, errno: EPERM }, 'keyrings');
  t.same(m.get('uring'), { ret: -1, errno: EPERM }, 'io_uring');
  t.same(m.get('clone3'), { ret: -1, errno: ENOSYS }, 'clone3 so libc falls back to clone');
  t.same(m.get('unknown'), { ret: -1, errno: ENOSYS });
  t.ok(m.get('getppid')!.ret >= 0, 'allowed calls work');
});

t.test('TIOCSTI is refused, also with junk in the high word of the command', async (t) => {
  const m = probe([
    'my $c = "x";',
    `probe("tiocsti", ${nr.ioctl}, 0, 0x5412, $c);`,
    `probe("tiocsti_hi", ${nr.ioctl}, 0, 0x100005412, $c);`,
    `probe("tioclinux", ${nr.ioctl}, 0, 0x541C, $c);`,
  ]);
  for (const k of ['tiocsti', 'tiocsti_hi', 'tioclinux']) t.same(m.get(k), { ret: -1, errno: EPERM }, k);
});

t.test('socket families: AF_UNIX always, AF_INET/AF_INET6/AF_NETLINK only with a network, others never', async (t) => {
  const lines = [
    `probe("unix", ${nr.socket}, 1, 1, 0);`,
    `probe("inet", ${nr.socket}, 2, 1, 0);`,
    `probe("inet6", ${nr.socket}, 10, 1, 0);`,
    `probe("netlink", ${nr.socket}, 16, 3, 0);`,
    `probe("packet", ${nr.socket}, 17, 3, 0);`,
  ];
  const none = probe(lines);
  t.ok(none.get('unix')!.ret >= 0);
  for (const f of ['inet', 'inet6', 'netlink', 'packet'])
    t.same(none.get(f), { ret: -1, errno: EAFNOSUPPORT }, `${f} with network none`);
  const host = probe(lines, ['--net', 'host']);
  for (const f of ['unix', 'inet', 'inet6', 'netlink']) t.ok(host.get(f)!.ret >= 0, `${f} with network host`);
  t.same(host.get('packet'), { ret: -1, errno: EAFNOSUPPORT }, 'AF_PACKET is never in @default');
});

t.test("a profile's deny list and its action", async (t) => {
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(path.join(dir, 'deny.json5'), '{ syscalls: { allow: ["@default"], deny: ["getppid"] } }');
  writeUserFile(
    path.join(dir, 'kill.json5'),
    '{ syscalls: { allow: ["@default"], deny: ["getppid"], action: "kill" } }',
  );
  writeUserFile(path.join(dir, 'bad.json5'), '{\n  syscalls: {\n    allow: ["@default", "no_such_call"],\n  },\n}\n');
  const m = probe([`probe("getppid", ${nr.getppid});`], ['-p', path.join(dir, 'deny.json5')]);
  t.same(m.get('getppid'), { ret: -1, errno: EPERM });
  const k = tsjail([
    '-p',
    path.join(dir, 'kill.json5'),
    '--',
    '/usr/bin/perl',
    '-e',
    `syscall(${nr.getppid}); print "survived\\n"`,
  ]);
  t.equal(k.status, 128 + 31, 'killed by SIGSYS');
  t.notMatch(k.stdout, /survived/);
  const bad = tsjail(['-p', path.join(dir, 'bad.json5'), 'true']);
  t.equal(bad.status, 125);
  t.match(bad.stderr, new RegExp(`bad\\.json5:3: syscalls\\.allow: .*no_such_call`));
});

t.test('seccomp verbs: compile writes loadable BPF, disasm reads it', async (t) => {
  const dir = makeUserDir('bpf');
  t.teardown(() => removeDir(dir));
  const out = path.join(dir, 'default.bpf');
  const c = tsjail(['seccomp', 'compile', 'default', '-o', out]);
  t.equal(c.status, 0, c.stderr);
  const d = tsjail(['seccomp', 'disasm', out]);
  t.equal(d.status, 0, d.stderr);
  t.match(d.stdout, /AUDIT_ARCH_/);
  t.match(d.stdout, /ioctl/);
  const byName = tsjail(['seccomp', 'disasm', 'default']);
  t.equal(byName.stdout, d.stdout, 'the file holds the same program the profile compiles to');
});
