// Landlock against the real kernel: it must hold where the mount view alone
// would not, follow the kernel's ABI (simulated lower with
// TSJAIL_LANDLOCK_ABI), and refuse what only it could enforce.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodePlan } from '../../src/plan/encode.js';
import { FS } from '../../src/landlock/abi.js';
import { planFromJson } from '../helpers/plan-json.js';
import {
  asUser,
  inSandbox,
  IS_ROOT,
  makeUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailRoot,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const user = testUser();
const work = makeUserDir('ll');
t.teardown(() => removeDir(work));

/** A process of the test user outside any sandbox, stopped at teardown. */
function outside(t: Tap.Test, argv: string[]): ChildProcess {
  const a = asUser(argv, userEnv({}));
  const child = spawn(a[0]!, a.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return child;
}

async function ready(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server not ready: ${out}`)), 15000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}

t.test('a path mounted writable but read-only in the ruleset stays unwritable', async (t) => {
  const dir = path.join(work, 'rwdir');
  fs.mkdirSync(dir);
  if (IS_ROOT) fs.chownSync(dir, user.uid, user.gid);
  // HOME elsewhere: the empty home is a writable tmpfs, and a rule on it would
  // (Landlock rules apply to everything below) cover a directory mounted inside it.
  const home = makeUserDir('llhome');
  t.teardown(() => removeDir(home));
  const dry = tsjail(['--dry-run', '--rw', dir, '--', '/bin/sh', '-c', `echo x > ${dir}/f && echo wrote`], {
    cwd: home,
    home,
  });
  t.equal(dry.status, 0, dry.stderr);
  const json = JSON.parse(dry.stdout);
  const run = (plan: ReturnType<typeof planFromJson>, name: string) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, encodePlan(plan));
    fs.chmodSync(file, 0o644);
    const shim = path.join(tsjailRoot(), 'shim-c', 'tsjail-shim');
    const argv = asUser(['/bin/sh', '-c', `exec ${shim} --plan-fd 3 3<${file}`], userEnv({}));
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: home });
  };
  // Control: the plan as tsjail made it writes through the writable mount.
  const control = run(planFromJson(json), 'control.plan');
  t.equal(control.status, 0, control.stderr);
  t.match(control.stdout, /wrote/);
  fs.rmSync(path.join(dir, 'f'));
  // The same mounts with the ruleset granting only read on that directory.
  const plan = planFromJson(json);
  const rule = plan.landlock!.paths.find((p) => p.path === dir)!;
  t.ok(rule, 'the writable directory has a rule');
  rule.access = FS.READ_FILE | FS.READ_DIR;
  const r = run(plan, 'ro.plan');
  t.not(r.status, 0);
  t.match(r.stderr, /Permission denied/, 'EACCES from Landlock, not EROFS from the mount');
  t.notOk(fs.existsSync(path.join(dir, 'f')), 'nothing written on the host');
});

t.test('TCP: a listed port connects, an unlisted one is refused', async (t) => {
  const base = 41000 + (process.pid % 2000);
  const server = outside(t, [
    '/usr/bin/python3',
    '-c',
    `import socket, time
ss = []
for p in (${base}, ${base + 1}):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", p)); s.listen(50); ss.append(s)
print("ready", flush=True)
time.sleep(120)`,
  ]);
  await ready(server);
  writeUserFile(path.join(work, 'tcp.json5'), `{ network: { mode: "host", tcp: { connect: [${base}] } } }`);
  const probe = `use IO::Socket::INET; for my $p (${base}, ${base + 1}) { my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $p, Proto => "tcp"); print "$p ", ($s ? "ok" : "fail: $!"), "\\n"; }`;
  const r = tsjail(['-p', path.join(work, 'tcp.json5'), '--', '/usr/bin/perl', '-e', probe]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^${base} ok$`, 'm'));
  t.match(r.stdout, new RegExp(`^${base + 1} fail: Permission denied$`, 'm'));
  const control = tsjail(['--net', 'host', '--', '/usr/bin/perl', '-e', probe]);
  t.match(control.stdout, new RegExp(`^${base + 1} ok$`, 'm'), 'without a port list both connect');
  const low = tsjail(['-p', path.join(work, 'tcp.json5'), 'true'], { env: { TSJAIL_LANDLOCK_ABI: '3' } });
  t.equal(low.status, 125, 'a port list on a kernel below ABI 4 refuses to start');
  t.match(low.stderr, /TCP ports.*ABI 4/);
});

t.test('abstract unix sockets of the host are out of reach, also with network "host"', async (t) => {
  const name = `tsjail-ll-${process.pid}`;
  const server = outside(t, [
    '/usr/bin/python3',
    '-c',
    `import socket, time
s = socket.socket(socket.AF_UNIX); s.bind("\\0${name}"); s.listen(50)
print("ready", flush=True)
time.sleep(120)`,
  ]);
  await ready(server);
  const client = `import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\\0${name}"); print("connected")
except OSError as e:
    print("refused", e.errno)`;
  const ctl = spawnSync(
    asUser(['/usr/bin/python3', '-c', client], userEnv({}))[0]!,
    asUser(['/usr/bin/python3', '-c', client], userEnv({})).slice(1),
    { encoding: 'utf8' },
  );
  t.match(ctl.stdout, /connected/, 'control: the same user outside connects');
  const r = tsjail(['--net', 'host', '--', '/usr/bin/python3', '-c', client]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /refused 1\b/, 'EPERM from Landlock scoping');
  const old = tsjail(['--net', 'host', '--', '/usr/bin/python3', '-c', client], { env: { TSJAIL_LANDLOCK_ABI: '5' } });
  t.match(old.stdout, /connected/, 'below ABI 6 nothing can stop it');
  t.equal(old.stderr.match(/abstract unix sockets.*cannot scope/g)?.length, 1, 'and tsjail says so once');
});

t.test('a path socket the profile grants keeps working while abstract ones are scoped out', async (t) => {
  const sockDir = makeUserDir('llsock');
  t.teardown(() => removeDir(sockDir));
  const sock = path.join(sockDir, 'app.sock');
  const server = outside(t, [
    '/usr/bin/python3',
    '-c',
    `import socket, time
s = socket.socket(socket.AF_UNIX); s.bind("${sock}"); s.listen(50)
print("ready", flush=True)
time.sleep(120)`,
  ]);
  await ready(server);
  const client = `import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("${sock}"); print("connected")
except OSError as e:
    print("refused", e.errno)`;
  const r = tsjail(['--net', 'host', '--ro', sock, '--', '/usr/bin/python3', '-c', client]);
  t.equal(r.status, 0, r.stderr);
  t.match(
    r.stdout,
    /connected/,
    'the granted socket (as X11 and the D-Bus proxy are granted) connects under ABI 6 scoping',
  );
});

t.test("signals to a process outside the sandbox's domain fail", async (t) => {
  // PID 1 inside is tsjail's init, which is outside the program's Landlock domain.
  const r = inSandbox('kill -0 1 2>/dev/null; echo "rc=$?"');
  t.match(r.stdout, /rc=1/);
  const old = inSandbox('kill -0 1 2>/dev/null; echo "rc=$?"', [], { env: { TSJAIL_LANDLOCK_ABI: '5' } });
  t.match(old.stdout, /rc=0/, 'control: without scoping the same signal is delivered');
});

t.test('a rename between directories of a granted tree works (REFER); on ABI 1 it cannot', async (t) => {
  const tree = path.join(work, 'tree');
  const a = path.join(tree, 'a');
  const b = path.join(tree, 'b');
  for (const d of [tree, a, b]) {
    fs.mkdirSync(d);
    if (IS_ROOT) fs.chownSync(d, user.uid, user.gid);
  }
  const mv = `rename("${a}/f", "${b}/f") or die "rename: $!\\n"; print "renamed\\n";`;
  writeUserFile(path.join(a, 'f'), 'x');
  const r = tsjail(['--rw', tree, '--', '/usr/bin/perl', '-e', mv]);
  t.equal(r.status, 0, r.stderr);
  t.ok(fs.existsSync(path.join(b, 'f')), 'moved on the host');
  fs.rmSync(path.join(b, 'f'));
  writeUserFile(path.join(a, 'f'), 'x');
  const abi1 = tsjail(['-v', '--rw', tree, '--', '/usr/bin/perl', '-e', mv], { env: { TSJAIL_LANDLOCK_ABI: '1' } });
  t.not(abi1.status, 0);
  t.match(abi1.stderr, /rename: Invalid cross-device link/);
  t.match(abi1.stderr, /ABI 1: moving files between directories fails with EXDEV/);
  t.ok(fs.existsSync(path.join(a, 'f')), 'the file stayed');
});

t.test('every ABI from none to 7: the ruleset uses what the kernel has, and programs run', async (t) => {
  const expectFs: Record<number, bigint> = {
    1: 0x1fffn,
    2: 0x3fffn,
    3: 0x7fffn,
    4: 0x7fffn,
    5: 0xffffn,
    6: 0xffffn,
    7: 0xffffn,
  };
  for (let abi = 0; abi <= 7; abi++) {
    const env = { TSJAIL_LANDLOCK_ABI: String(abi) };
    const dry = tsjail(['--dry-run', '-v', '--net', 'host', 'true'], { env });
    t.equal(dry.status, 0, dry.stderr);
    const ll = JSON.parse(dry.stdout).landlock;
    if (abi === 0) {
      t.equal(ll, null, 'ABI 0: no ruleset');
      t.match(dry.stderr, /Landlock turned off by TSJAIL_LANDLOCK_ABI=0/);
    } else {
      t.equal(BigInt(ll.handledFs), expectFs[abi], `ABI ${abi}: handled filesystem rights`);
      t.equal(BigInt(ll.scoped), abi >= 6 ? 3n : 0n, `ABI ${abi}: scoping`);
      if (abi < 6) t.match(dry.stderr, /Landlock ABI \d cannot enforce/, `ABI ${abi}: -v names what was dropped`);
      else t.notMatch(dry.stderr, /cannot enforce/, `ABI ${abi}: nothing dropped`);
    }
    const run = inSandbox('cat /etc/hostname >/dev/null 2>&1; echo hi > /tmp/x && cat /tmp/x', [], { env });
    t.equal(run.status, 0, `ABI ${abi}: ${run.stderr}`);
    t.equal(run.stdout, 'hi\n');
  }
});

t.test('landlock: "required" refuses to start without Landlock', async (t) => {
  writeUserFile(path.join(work, 'req.json5'), '{ landlock: "required" }');
  const ok = tsjail(['-p', path.join(work, 'req.json5'), 'true']);
  t.equal(ok.status, 0, ok.stderr);
  const none = tsjail(['-p', path.join(work, 'req.json5'), 'true'], { env: { TSJAIL_LANDLOCK_ABI: '0' } });
  t.equal(none.status, 125);
  t.match(none.stderr, /requires Landlock/);
});

t.test('tsjail doctor tells the ABI and what will be enforced', async (t) => {
  const r = tsjail(['doctor']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^landlock\s+ABI \d/m);
  const lsm = fs.readFileSync('/sys/kernel/security/lsm', 'utf8').trim();
  t.ok(lsm.split(',').includes('landlock'), 'this machine boots with Landlock');
  t.match(r.stdout, new RegExp(`^landlock\\s+ABI 7; enabled at boot; active LSMs: ${lsm}$`, 'm'));
  t.match(r.stdout, /^ {2}scoping\s+abstract unix sockets and signals stay inside/m);
  t.match(r.stdout, /^ {2}audit\s+denials logged with --log-denials/m);
  t.match(r.stdout, /^ {2}"required"\s+every profile can start$/m);
  for (let abi = 0; abi <= 7; abi++) {
    const d = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: String(abi) } });
    t.equal(d.status, 0, `ABI ${abi}: tsjail can run, so doctor exits 0`);
  }
  const none = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '0' } });
  t.match(none.stdout, /tsjail will not use it \(TSJAIL_LANDLOCK_ABI=0\)/);
  const one = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '1' } });
  t.match(one.stdout, /moving files between directories fails with EXDEV/);
  const low = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '3' } });
  t.match(low.stdout, /limited to ABI 3/);
  t.match(low.stdout, /not enforced here: ioctl_dev/);
  t.match(low.stdout, /^ {2}tcp ports\s+not available \(ABI 4\)/m);
});

t.test(
  '--log-denials: the kernel logs what Landlock refused the program',
  { skip: IS_ROOT ? false : 'reading the kernel audit log needs root' },
  async (t) => {
    // Audit records reach the kernel log only while auditing is on.
    const on = spawnSync('auditctl', ['-e', '1'], { encoding: 'utf8' });
    t.equal(on.status, 0, `auditctl -e 1: ${on.stderr}`);
    // The kernel log is shared and its ring buffer rolls over (other suites log
    // seccomp records too), so look for this launch's own record: the
    // PROCTITLE of its denied command carries a unique token, and the
    // Landlock ACCESS record of the same event has the same audit serial.
    const logged = async (token: string): Promise<string | undefined> => {
      const hex = Buffer.from(token).toString('hex').toUpperCase();
      for (let i = 0; i < 20; i++) {
        const lines = spawnSync('dmesg', [], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n');
        const title = lines.find((l) => l.includes('type=1327') && l.includes(hex));
        const serial = title?.match(/audit\((\d+\.\d+:\d+)\)/)?.[1];
        if (serial) return lines.find((l) => l.includes(`audit(${serial})`) && l.includes('type=1423'));
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    };
    const dry = tsjail(['--dry-run', '--log-denials', 'true']);
    t.equal(JSON.parse(dry.stdout).landlock.flags, 2, 'LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON');
    const on1 = `tsjail-ll-audit-${process.pid}-on`;
    inSandbox(`kill -0 1 2>/dev/null; : ${on1}`, ['--log-denials']);
    t.match(
      await logged(on1),
      /type=1423 .*blockers=scope\.signal opid=\d+ ocomm="tsjail-init"/,
      'the refused signal is logged, naming its target',
    );
    const off = `tsjail-ll-audit-${process.pid}-off`;
    inSandbox(`kill -0 1 2>/dev/null; : ${off}`);
    t.equal(await logged(off), undefined, 'without the option, denials after exec are not logged');
  },
);

t.test('/proc: a shell writes its own files through O_TRUNC under every ABI', async (t) => {
  for (const abi of [7, 3, 2]) {
    const r = inSandbox('echo renamed > /proc/self/comm && echo 900 > /proc/self/oom_score_adj && echo ok', [], {
      env: { TSJAIL_LANDLOCK_ABI: String(abi) },
    });
    t.equal(r.status, 0, `ABI ${abi}: ${r.stderr}`);
    t.equal(r.stdout, 'ok\n');
  }
});

t.test("device ioctls: refused on /dev/null, allowed on the sandbox's own ptys", async (t) => {
  const probe = `import fcntl, os, termios, errno
fd = os.open("/dev/null", os.O_RDWR)
try:
    fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\\0" * 8); print("null ok")
except OSError as e:
    print("null", errno.errorcode[e.errno])
m, s = os.openpty()
fcntl.ioctl(s, termios.TIOCGWINSZ, b"\\0" * 8)
os.write(m, b"hi\\n"); print("pty", os.read(s, 3))`;
  const r = tsjail(['--', '/usr/bin/python3', '-c', probe]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^null EACCES$/m, 'Landlock refuses the ioctl before the driver could say ENOTTY');
  t.match(r.stdout, /^pty b'hi\\n'$/m, 'openpty and terminal ioctls work on the private devpts');
  const old = tsjail(['--', '/usr/bin/python3', '-c', probe], { env: { TSJAIL_LANDLOCK_ABI: '4' } });
  t.equal(old.status, 0, old.stderr);
  t.match(old.stdout, /^null ENOTTY$/m, 'control: below ABI 5 the driver answers');
});

t.test('required: refused on an ABI that lacks what the profile needs, started where it has it', async (t) => {
  writeUserFile(path.join(work, 'req-host.json5'), '{ landlock: "required", network: "host" }');
  writeUserFile(path.join(work, 'req-none.json5'), '{ landlock: { mode: "required" } }');
  const run = (profile: string, abi: number) =>
    tsjail(['-p', path.join(work, profile), 'true'], { env: { TSJAIL_LANDLOCK_ABI: String(abi) } });
  for (const abi of [1, 2]) {
    const r = run('req-none.json5', abi);
    t.equal(r.status, 125, `ABI ${abi}`);
    t.match(
      r.stderr,
      new RegExp(`the profile requires Landlock, and this kernel's ABI ${abi} lacks .*truncate \\(ABI 3\\)`),
    );
    t.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('hint')).length,
      1,
      'one line (and a hint)',
    );
  }
  t.equal(run('req-none.json5', 3).status, 0, 'ABI 3 has every right a profile without devices and network needs');
  writeUserFile(path.join(work, 'req-dev.json5'), '{ landlock: "required", devices: ["/dev/zero"] }');
  const four = run('req-dev.json5', 4);
  t.equal(four.status, 125);
  t.match(four.stderr, /ABI 4 lacks ioctl_dev \(ABI 5\)/, 'a declared device needs IOCTL_DEV');
  t.equal(run('req-dev.json5', 5).status, 0);
  const five = run('req-host.json5', 5);
  t.equal(five.status, 125);
  t.match(five.stderr, /lacks abstract_unix_socket \(ABI 6\)/, 'network "host" needs scoping');
  t.equal(run('req-host.json5', 6).status, 0);
  t.equal(run('req-host.json5', 7).status, 0);
});

t.test('landlock.logDenials in a profile sets the restrict flag as --log-denials does', async (t) => {
  writeUserFile(path.join(work, 'audit.json5'), '{ landlock: { logDenials: true } }');
  const dry = tsjail(['--dry-run', '-p', path.join(work, 'audit.json5'), 'true']);
  t.equal(dry.status, 0, dry.stderr);
  t.equal(JSON.parse(dry.stdout).landlock.flags, 2, 'LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON');
  const run = tsjail([
    '-p',
    path.join(work, 'audit.json5'),
    '--',
    '/bin/sh',
    '-c',
    'kill -0 1 2>/dev/null; echo rc=$?',
  ]);
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, 'rc=1\n', 'the launch works and the denial still happens');
  const low = tsjail(['-v', '--dry-run', '-p', path.join(work, 'audit.json5'), 'true'], {
    env: { TSJAIL_LANDLOCK_ABI: '6' },
  });
  t.equal(JSON.parse(low.stdout).landlock.flags, 0);
  t.match(low.stderr, /logging denials needs Landlock ABI 7; this kernel has ABI 6/);
});

t.test("TSJAIL_LANDLOCK_ABI: a bad value is one error line and 125; it never raises the kernel's ABI", async (t) => {
  const bad = tsjail(['true'], { env: { TSJAIL_LANDLOCK_ABI: 'seven' } });
  t.equal(bad.status, 125);
  t.equal(bad.stderr, 'tsjail: TSJAIL_LANDLOCK_ABI: expected a Landlock ABI number (0: none), got "seven"\n');
  const doctor = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: 'seven' } });
  t.equal(doctor.status, 125);
  t.equal(doctor.stdout, '', 'doctor says nothing else');
  t.equal(doctor.stderr, bad.stderr);
  const high = tsjail(['--dry-run', 'true'], { env: { TSJAIL_LANDLOCK_ABI: '99' } });
  t.equal(high.status, 0, high.stderr);
  t.equal(JSON.parse(high.stdout).landlock.abi, 7, "the kernel's own ABI");
});
