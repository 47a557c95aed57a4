// --report-fd and -v's summary (SPEC v2, issue 18): every call the seccomp
// filter refuses is said, one JSON object per line, naming the profile key
// that would allow it, while the program sees exactly the errno it sees
// without the report. Raw calls are made with perl's syscall(), so libc
// cannot hide or retry anything.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { asUser, makeUserDir, removeDir, testUser, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';

const NR: Record<string, Record<string, number>> = {
  x64: { socket: 41, ptrace: 101, keyctl: 250, getppid: 110, clone3: 435 },
  arm64: { socket: 198, ptrace: 117, keyctl: 219, getppid: 173, clone3: 435 },
};
const nr = NR[process.arch]!;
const PTRACE_ATTACH = 16;
const AF_INET = 2;
const SOCK_STREAM = 1;

const PROBE =
  'sub probe { my ($n, @a) = @_; $! = 0; my $r = syscall($a[0], @a[1..$#a]); print "$n $r ", $!+0, "\\n"; }';

/** The JSON objects written one per line on a descriptor. */
function jsonLines(out: unknown): Record<string, unknown>[] {
  return String(out ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Probed {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The JSON lines written on descriptor 3. */
  lines: Record<string, unknown>[];
  /** "name ret errno" of each probe. */
  probes: Map<string, string>;
}

/** perl's probes inside, with descriptor 3 a pipe of ours; `opts` before the program. */
function run(lines: string[], opts: string[]): Probed {
  const r = tsjail([...opts, '--', '/usr/bin/perl', '-e', [PROBE, ...lines].join('\n')], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const fd3 = String(r.output[3] ?? '');
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    lines: jsonLines(fd3),
    probes: new Map(
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]),
    ),
  };
}

const PROBES = [
  `probe("ptrace", ${nr.ptrace}, ${PTRACE_ATTACH}, 1, 0, 0);`,
  `probe("socket", ${nr.socket}, ${AF_INET}, ${SOCK_STREAM}, 0);`,
  `probe("getppid", ${nr.getppid});`,
  `probe("clone3", ${nr.clone3}, 0, 0);`,
];

t.test('refused calls are reported with their key; the program sees the same errno as without', async (t) => {
  const plain = run(PROBES, []);
  t.equal(plain.status, 0, `exit 0 ${plain.status === 0 ? '' : plain.stderr}`);
  const rep = run(PROBES, ['--report-fd', '3']);
  t.equal(rep.status, 0, `exit 0 ${rep.status === 0 ? '' : rep.stderr}`);
  t.same(rep.probes, plain.probes, 'every probe returned what it returns without --report-fd');
  t.equal(plain.probes.get('ptrace'), '-1 1', 'ptrace: EPERM (control)');
  t.equal(plain.probes.get('socket'), '-1 97', 'socket(AF_INET) without a network: EAFNOSUPPORT (control)');
  t.equal(plain.probes.get('clone3'), '-1 38', 'clone3: ENOSYS (control)');
  t.equal(rep.lines.length, 2, `two refusals reported: ${JSON.stringify(rep.lines)}`);
  const ptrace = rep.lines.find((l) => l.syscall === 'ptrace');
  t.match(ptrace, {
    kind: 'syscall',
    syscall: 'ptrace',
    nr: nr.ptrace,
    errno: 'EPERM',
    key: 'syscalls.allow',
    add: 'ptrace',
  });
  t.same((ptrace?.args as string[]).slice(0, 2), [`0x${PTRACE_ATTACH.toString(16)}`, '0x1'], 'with its arguments');
  t.match(
    rep.lines.find((l) => l.syscall === 'socket'),
    {
      errno: 'EAFNOSUPPORT',
      key: 'network',
      add: 'host',
      args: [`0x${AF_INET}`, `0x${SOCK_STREAM}`],
    },
  );
  t.notOk(
    rep.lines.some((l) => l.syscall === 'getppid' || l.syscall === 'clone3'),
    'allowed calls and ENOSYS fallbacks are not refusals',
  );
  t.notMatch(rep.stderr, /system calls? refused/, 'no summary without -v');
});

t.test('calls of child processes are reported too', async (t) => {
  const r = run(
    [`probe("a", ${nr.ptrace}, 0, 0, 0, 0);`, `system("/usr/bin/perl", "-e", "syscall(${nr.ptrace}, 0, 0, 0, 0)");`],
    ['--report-fd', '3'],
  );
  t.equal(r.status, 0, `exit 0 ${r.status === 0 ? '' : r.stderr}`);
  t.equal(r.lines.filter((l) => l.syscall === 'ptrace').length, 2, 'the program and its child');
});

t.test('-v sums the refusals up on stderr at exit', async (t) => {
  const r = run(PROBES.concat([`probe("ptrace2", ${nr.ptrace}, 0, 0, 0, 0);`]), ['-v']);
  t.equal(r.status, 0, `exit 0 ${r.status === 0 ? '' : r.stderr}`);
  t.match(r.stderr, /^tsjail: 3 system calls refused: .*\n/m, 'one line at exit');
  t.match(r.stderr, /refused: .*ptrace: add "ptrace" to syscalls\.allow \(2 times\)/, 'ptrace, twice');
  t.match(r.stderr, /refused: .*socket: internet and netlink sockets need network "host"/, 'socket, with its key');
  t.same(r.lines, [], 'nothing on descriptor 3 without --report-fd');
  const quiet = run([`probe("getppid", ${nr.getppid});`], ['-v']);
  t.notMatch(quiet.stderr, /system calls? refused/, 'nothing said when nothing was refused');
});

t.test("a call the profile's syscalls.deny refuses names that key", async (t) => {
  const dir = makeUserDir('tsjail-report-');
  t.teardown(() => removeDir(dir));
  const profile = path.join(dir, 'p.json5');
  writeUserFile(profile, '{\n  syscalls: {\n    deny: ["keyctl"],\n  },\n}\n');
  const r = run([`probe("keyctl", ${nr.keyctl}, 0, 0, 0, 0, 0);`], ['-p', profile, '--report-fd', '3']);
  t.equal(r.status, 0, `exit 0 ${r.status === 0 ? '' : r.stderr}`);
  t.equal(r.probes.get('keyctl'), '-1 1', 'EPERM');
  t.match(r.lines, [{ syscall: 'keyctl', key: 'syscalls.deny', hint: /p\.json5:3/ }]);
});

t.test('--report-fd: a descriptor that is not open, or one of 0-2, is refused', async (t) => {
  const closed = tsjail(['--report-fd', '200', '--', '/bin/true']);
  t.equal(closed.status, 125);
  t.match(closed.stderr, /--report-fd: descriptor 200 is not open/);
  const stdio = tsjail(['--report-fd', '1', '--', '/bin/true']);
  t.equal(stdio.status, 125);
  t.match(stdio.stderr, /--report-fd: expected a descriptor number from 3 up/);
});

t.test('opens and execs of paths the sandbox hides are reported; absent and shown paths are not', async (t) => {
  const dir = makeUserDir('tsjail-report-paths-');
  t.teardown(() => removeDir(dir));
  const hidden = path.join(dir, 'hidden.txt');
  writeUserFile(hidden, 'secret of the host\n');
  const script = [
    `cat ${hidden} 2>/dev/null || echo not-shown`,
    `echo more >> ${hidden} 2>/dev/null; echo wrote`,
    `cat ${dir}/absent.txt 2>/dev/null || echo absent`,
    'cat /etc/hostname /etc/passwd >/dev/null 2>&1; echo shown',
    `${dir}/hidden.txt 2>/dev/null; echo exec`,
    'cat /proc/self/stat /proc/self/mountinfo >/dev/null; echo proc',
  ].join('\n');
  const r = tsjail(['--report-fd', '3', '--', '/bin/sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  t.equal(r.status, 0, `exit 0 ${r.status === 0 ? '' : r.stderr}`);
  t.match(r.stdout, /^not-shown\nwrote\nabsent\nshown\nexec\nproc\n$/, 'the program saw nothing of the hidden file');
  const lines = jsonLines(r.output[3]);
  const at = lines.filter((l) => l.path === hidden);
  t.ok(
    at.some((l) => l.kind === 'path' && l.key === 'filesystem.ro' && l.write === false),
    `the read is reported with its key: ${JSON.stringify(lines)}`,
  );
  t.ok(
    at.some((l) => l.write === true && l.keyToWrite === 'filesystem.rw'),
    'the write (into the private home) too',
  );
  t.ok(
    at.some((l) => l.syscall === 'execve'),
    'and the exec',
  );
  t.notOk(
    lines.some((l) => l.path === `${dir}/absent.txt`),
    'a path the host does not have either is not a hidden one',
  );
  t.notOk(
    lines.some((l) => l.path === '/etc/passwd'),
    'nor one the sandbox shows',
  );
  t.notOk(
    lines.some((l) => String(l.path).startsWith('/proc/')),
    "nor the sandbox's own /proc (its self is not the reporter's)",
  );
  t.equal(fs.readFileSync(hidden, 'utf8'), 'secret of the host\n', 'the host file is untouched');
});

t.test('a host the egress proxy refuses is reported with network.allow', async (t) => {
  const r = tsjail(
    [
      '--allow-host',
      '127.0.0.1:9',
      '--report-fd',
      '3',
      '--',
      '/usr/bin/curl',
      '-s',
      '-o',
      '/dev/null',
      'https://refused.example/',
    ],
    { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
  );
  if (r.status === 125) return t.skip(`--allow-host cannot run here: ${r.stderr.trim()}`, async () => {});
  t.not(r.status, 0, 'curl failed: the host is not allowed');
  const lines = jsonLines(r.output[3]);
  t.match(lines, [
    {
      kind: 'network',
      how: 'CONNECT',
      host: 'refused.example',
      port: 443,
      key: 'network.allow',
      add: 'refused.example:443',
    },
  ]);
});

// D-Bus: xdg-dbus-proxy's own log (--log, read by the shim's reporter) says
// what it refused; a test session bus of the test user's, in a fresh
// directory, so that no other run's bus is touched.
const haveDbus = ['dbus-daemon', 'xdg-dbus-proxy', 'gdbus', 'dbus-send'].every(
  (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0,
);
t.test(
  'a D-Bus name the proxy refuses is reported with the dbus key',
  {
    skip: haveDbus ? false : 'dbus-daemon, xdg-dbus-proxy, gdbus or dbus-send is not installed (.ci/run installs them)',
  },
  async (t) => {
    const home = makeUserDir('report-dbus');
    const socket = path.join(home, 'bus');
    const address = `unix:path=${socket}`;
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const argv = asUser(
      ['dbus-daemon', '--session', `--address=${address}`, '--nofork', '--print-address'],
      userEnv({ home, env }),
    );
    const bus = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    t.teardown(() => {
      bus.kill('SIGKILL');
      removeDir(home);
    });
    await new Promise<void>((resolve, reject) => {
      bus.stdout!.on('data', () => resolve());
      bus.on('exit', (c) => reject(new Error(`dbus-daemon exited ${c}`)));
    });
    const profile = path.join(home, 'p.json5');
    writeUserFile(profile, '{ dbus: { session: { talk: ["org.example.Allowed"] } } }\n');
    const call = 'dbus-send --session --print-reply --dest=org.example.Forbidden /x org.example.Forbidden.Hello';
    const own =
      'gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.RequestName org.example.Mine 0';
    const script = `${call}; ${own}`;

    // Control: outside, the same calls reach the bus: it has no such service, and the name is granted.
    const outside = asUser(['sh', '-c', script], userEnv({ home, env }));
    const o = spawnSync(outside[0]!, outside.slice(1), { encoding: 'utf8' });
    t.match(o.stderr, /was not provided by any \.service files/, 'outside, the call reaches the bus itself');
    t.match(o.stdout, /\(uint32 1,\)/, 'outside, the name is owned');

    const r = tsjail(['-v', '-p', profile, '--report-fd', '3', '--', 'sh', '-c', script], {
      home,
      env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    t.notMatch(r.stdout, /uint32 1/, 'inside, the name is not owned');
    t.notMatch(r.stderr, /\.service files/, 'inside, the call never reaches the bus');
    const lines = jsonLines(r.output[3]).filter((l) => l.kind === 'dbus');
    t.match(
      lines,
      [
        {
          name: 'org.example.Forbidden',
          key: 'dbus.session.talk',
          add: 'org.example.Forbidden',
          bus: 'session',
          member: 'org.example.Forbidden.Hello',
        },
        { name: 'org.example.Mine', key: 'dbus.session.own', add: 'org.example.Mine', bus: 'session' },
      ],
      'each refusal with the key that allows it',
    );
    t.equal(lines.length, 2, 'and nothing else');
    t.match(
      r.stderr,
      /tsjail: 2 D-Bus messages refused: org\.example\.Forbidden, org\.example\.Mine/,
      '-v sums them up',
    );
  },
);

// Refusals of the filesystem rules (issue 18): the kernel tells Landlock's
// denials only to audit, so the reporter attributes them from the plan's own
// rules: a write where the view is read-only (a read-only grant, a protected
// path inside a writable one: the mount refuses first, kind "mount"), an exec
// from a writable path and an entry made in the minimal /dev (Landlock's
// rules refuse, kind "landlock"), each with the key that allows it. The
// control: outside tsjail the same script does all of it but /dev.
t.test('writes and execs the filesystem rules refuse are reported with the key that allows them', async (t) => {
  const home = makeUserDir('report-ll');
  t.teardown(() => removeDir(home));
  const docs = path.join(home, 'docs');
  const work = path.join(home, 'work');
  writeUserFile(path.join(docs, 'a.txt'), 'a\n');
  writeUserFile(path.join(work, '.git/HEAD'), 'ref: refs/heads/main\n');
  writeUserFile(path.join(work, 'run.sh'), '#!/bin/sh\necho ran\n', 0o755);
  const script = path.join(docs, 'writes.sh');
  writeUserFile(
    script,
    `#!/bin/sh
touch "${docs}/new" 2>/dev/null; echo "docs $?"
"${work}/run.sh" 2>/dev/null; echo "exec $?"
(echo x > "${work}/.git/config") 2>/dev/null; echo "protect $?"
mkdir "${work}/made"; echo "made $?"
touch /dev/z 2>/dev/null; echo "dev $?"
`,
    0o755,
  );
  const outside = asUser(['/bin/sh', script], userEnv({ home }));
  const o = spawnSync(outside[0]!, outside.slice(1), { encoding: 'utf8' });
  t.match(o.stdout, /^docs 0$/m, 'control: outside, the read-only grant is writable');
  t.match(o.stdout, /^ran\nexec 0$/m, 'control: outside, the script runs');
  t.match(o.stdout, /^protect 0$/m, 'control: outside, .git/config is written');
  t.match(o.stdout, /^made 0$/m);
  for (const p of [path.join(docs, 'new'), path.join(work, '.git/config'), path.join(work, 'made')])
    fs.rmSync(p, { recursive: true, force: true });

  const r = tsjail(['-v', '--ro', docs, '--rw', work, '--report-fd', '3', '--', '/bin/sh', script], {
    home,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  t.equal(r.status, 0, r.stderr.slice(-2000));
  for (const refused of ['docs', 'exec', 'protect', 'dev'])
    t.notMatch(r.stdout, new RegExp(`^${refused} 0$`, 'm'), refused);
  t.match(r.stdout, /^made 0$/m, 'what the rules allow goes on');
  const lines = jsonLines(r.output[3]).filter((l) => l.kind === 'landlock' || l.kind === 'mount');
  t.same(
    lines.map((l) => [l.kind, l.path, l.access, l.key]),
    [
      ['mount', path.join(docs, 'new'), 'make_reg', 'filesystem.rw'],
      ['landlock', path.join(work, 'run.sh'), 'execute', 'filesystem.exec'],
      ['mount', path.join(work, '.git/config'), 'make_reg', 'filesystem.unprotect'],
      ['landlock', '/dev/z', 'make_reg', 'devices'],
    ],
    'each refusal once, with the key that allows it, and nothing for what was allowed',
  );
  t.match(lines[0], { directory: docs, syscall: 'openat', hint: /filesystem\.rw/ });
  t.match(lines[1], { syscall: 'execve' });
  t.match(r.stderr, /tsjail: 4 file accesses refused by the sandbox's filesystem rules: .*docs\/new \(shown read-only/);
  // The /dev line is Landlock's alone: inside, /dev is a writable tmpfs of the caller's.
  const dev = tsjail(['--', '/bin/sh', '-c', 'stat -c %u /dev; grep " /dev " /proc/self/mountinfo'], { home });
  t.match(dev.stdout, new RegExp(`^${testUser().uid}\\n`), "control: the sandbox /dev is the caller's");
  t.match(dev.stdout, / \/dev rw,/, 'control: and mounted read-write');
});

// Yama (issue 18): the reporter reads a call's path with process_vm_readv,
// which Yama's ptrace_scope 1 and 2 refuse to a process that is not the
// target's ancestor unless it holds CAP_SYS_PTRACE over the target's user
// namespace, as the reporter does (it runs outside, as the uid that owns the
// sandbox's user namespace). Where Yama is there: the control (a sibling of
// the test user's cannot open another's /proc/PID/mem), then a hidden path
// is still reported. Scope 3 refuses every attach: nothing can be read.
const YAMA = '/proc/sys/kernel/yama/ptrace_scope';
const yamaScope = fs.existsSync(YAMA) ? Number(fs.readFileSync(YAMA, 'utf8').trim()) : undefined;
t.test(
  'under Yama the reporter still reads the paths of the calls it looks at',
  {
    skip:
      yamaScope === undefined
        ? `${YAMA} is absent: this kernel has no Yama (no LSM restricts ptrace here)`
        : yamaScope === 0
          ? 'Yama ptrace_scope is 0 here: it restricts nothing'
          : yamaScope === 3
            ? 'Yama ptrace_scope is 3 here: no process may attach, the reporter reads no path (tsjail(1) says so)'
            : false,
  },
  async (t) => {
    const dir = makeUserDir('report-yama');
    t.teardown(() => removeDir(dir));
    // Control: a sleeper and a prober, siblings of the same uid: Yama refuses the prober.
    const argv = asUser(['sleep', '30'], userEnv({}));
    const sleeper = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    t.teardown(() => void sleeper.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 200));
    // asUser's setpriv (or env) execs sleep itself: its pid is the sleeper's.
    const target = String(sleeper.pid);
    const probe = asUser(['sh', '-c', `exec 3</proc/${target}/mem && echo opened`], userEnv({}));
    const p = spawnSync(probe[0]!, probe.slice(1), { encoding: 'utf8' });
    t.notMatch(p.stdout, /opened/, `control: Yama scope ${yamaScope} refuses a sibling's attach (${p.stderr.trim()})`);

    const hidden = path.join(dir, 'hidden.txt');
    writeUserFile(hidden, 'of the host\n');
    const r = tsjail(['--report-fd', '3', '--', '/bin/sh', '-c', `cat ${hidden} 2>/dev/null; true`], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    t.equal(r.status, 0, r.stderr);
    t.ok(
      jsonLines(r.output[3]).some((l) => l.kind === 'path' && l.path === hidden),
      'the hidden path is read and reported',
    );
  },
);
