// The escape suite: techniques that beat real sandboxes, tried from inside
// tsjail under the default, untrusted, firefox and chromium profiles, each with
// the exact errno or signal this kernel gives (measured where machines differ:
// int $0x80, x32, the Landlock ABI), and a control run outside
// (as the same user, or in a plain user namespace where the technique needs
// privilege) proving the probe itself can succeed.
import t, { type Test } from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePlan } from '../../src/plan/encode.js';
import { planFromJson } from '../helpers/plan-json.js';
import { KERNEL_LANDLOCK_ABI, needsLandlock } from '../helpers/machine.js';
import { privateNetworkSkip } from '../helpers/internet.js';
import {
  asUser,
  IS_ROOT,
  tsjailArgv,
  makeUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailRoot,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const user = testUser();
const bin = makeUserDir('escape');
t.teardown(() => removeDir(bin));
const probe = path.join(bin, 'probe');
execFileSync('gcc', ['-O2', '-Wall', '-o', probe, path.join(here, 'probe.c')]);
fs.chmodSync(probe, 0o755);
const profiles: Record<string, string[]> = {
  default: [],
  untrusted: ['-p', 'untrusted'],
  // The shipped browser profiles: a network namespace of their own
  // ("private"; the host's where pasta cannot run), nested user namespaces
  // for the browser's own sandbox, a writable profile directory.
  firefox: ['-p', 'firefox'],
  chromium: ['-p', 'chromium'],
};
fs.copyFileSync(path.join(here, 'profiles/limits.json5'), path.join(bin, 'limits.json5'));
fs.chmodSync(path.join(bin, 'limits.json5'), 0o644);

// Privileged copies of the probe, made by root (CI runs the suite as root):
// set-user-ID root, and with file capabilities. Outside they gain root or
// capabilities; inside they must not (nosuid mounts, no_new_privs, and a
// root that is not mapped in the sandbox's user namespace).
const suid = path.join(bin, 'suid-probe');
const fcap = path.join(bin, 'cap-probe');
const privileged = IS_ROOT && spawnSync('setcap', ['-v', 'cap_setuid+ep', '/bin/true']).error === undefined;
if (privileged) {
  fs.copyFileSync(probe, suid);
  fs.chownSync(suid, 0, 0);
  fs.chmodSync(suid, 0o4755);
  fs.copyFileSync(probe, fcap);
  fs.chmodSync(fcap, 0o755);
  execFileSync('setcap', ['cap_setuid,cap_sys_admin,cap_dac_override+ep', fcap]);
}

// The host's own sockets, as an X server offers them: a path under
// /tmp/.X11-unix and an abstract name. Listening is enough: connect()
// completes from the backlog while the test waits in spawnSync.
const x11dir = '/tmp/.X11-unix';
fs.mkdirSync(x11dir, { mode: 0o1777, recursive: true });
fs.chmodSync(x11dir, 0o1777);
const servers: net.Server[] = [];
async function listen(where: string): Promise<void> {
  const s = net.createServer((c) => c.destroy());
  servers.push(s);
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen({ path: where }, resolve));
}
// A display number no X server of the desktop tests uses (they let Xvfb
// pick from 0 up), and the first one free: a run beside this one may take
// the same number at the same moment, so a taken one means try the next.
let dn = 4000 + (process.pid % 1000);
for (; ; dn++) {
  if (fs.existsSync(path.join(x11dir, `X${dn}`))) continue;
  try {
    await listen(path.join(x11dir, `X${dn}`));
    break;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  }
}
const display = `X${dn}`;
const x11path = path.join(x11dir, display);
fs.chmodSync(x11path, 0o777);
// Node cannot bind abstract names; the probe listens, as the test user.
const abstract = spawn(...splitArgv(asUser([probe, '--listen-abstract', x11path], userEnv({}))), {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve) => abstract.stdout!.once('data', () => resolve()));
t.teardown(() => {
  abstract.kill('SIGKILL');
  for (const s of servers) s.close();
  fs.rmSync(x11path, { force: true });
  // /tmp/.X11-unix itself stays: it is the system's directory for X sockets,
  // and a desktop test running beside this one may be starting its server in it.
});

function splitArgv(a: string[]): [string, string[]] {
  return [a[0]!, a.slice(1)];
}

function parse(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const i = line.indexOf(' ');
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function outside(probes: string[], wrap: string[] = []): Map<string, string> {
  const argv = asUser([...wrap, probe, ...probes], userEnv({}));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: bin });
  return parse(r.stdout);
}

const browsers = ['firefox', 'chromium'];
const EPERM = 'errno=1';
const ENOENT = 'errno=2';
const EACCES = 'errno=13';
const EXDEV = 'errno=18';
const EINVAL = 'errno=22';
const ENOTTY = 'errno=25';
const ECONNREFUSED = 'errno=111';
const ENOSYS = 'errno=38';
const EAFNOSUPPORT = 'errno=97';
const SIGSYS = 'signal=31';
const SIGSEGV = 'signal=11';
const x86 = process.arch === 'x64';

// Some kernels refuse int $0x80 outright (SIGSEGV before seccomp runs, also
// outside any sandbox). Where the i386 entry works outside, the sandbox's
// filter must kill it (SIGSYS); where it does not, the sandbox must still
// refuse it in one of the ways a refusal looks, and the i386 filter is
// proved by the seccomp unit tests alone.
const int80Outside = x86 ? outside(['int80']).get('int80') : undefined;
const int80Skip =
  int80Outside === 'ok'
    ? false
    : `int $0x80 does not work outside any sandbox on this kernel (${int80Outside}), so there is nothing for the filter to stop`;
const INT80: string | string[] = int80Outside === 'ok' ? SIGSYS : [SIGSYS, SIGSEGV, ENOSYS];

// What Landlock adds, by the ABI this kernel has: signals out of the
// sandbox's domain and (with the host's network) the host's abstract sockets
// need scoping (ABI 6); mknod's EACCES is the filesystem ruleset's (ABI 1).
function landlockChanges(abi: number, profile: string): Record<string, string> {
  return {
    ...(abi < 6
      ? { kill: 'ok', pidfd_signal: 'ok', ...(browsers.includes(profile) ? { connect_abstract: 'ok' } : {}) }
      : {}),
    ...(abi < 1 ? { mknod: EPERM } : {}),
  };
}

/** The browser profiles get a network namespace of their own here (else their fallback, the host's). */
const browsersPrivate = privateNetworkSkip() === undefined;

// [probe, expected under default/untrusted, expected under the browsers (if
// different)]; a list is the ways a refusal may look.
const CASES: [string, string | string[], string?][] = [
  ['ptrace=1', EPERM],
  ['vmread=1', EPERM],
  ['pidfd_signal=1', EPERM],
  ['kill=1', EPERM],
  ['open_read=/proc/1/root/etc/hostname', EACCES],
  ['open_read=/proc/1/environ', EACCES],
  ['open_read=/proc/1/mem', EACCES],
  ['open_write=/proc/1/exe', EACCES],
  ['open_read=/proc/1/cwd', EACCES],
  ['open_by_handle', EPERM],
  ['mount_tmpfs=/tmp', EPERM],
  ['umount=/usr', EPERM],
  ['umount=/', EPERM],
  ['remount_rw=/usr', EPERM],
  ['fsopen', ENOSYS],
  ['open_tree', ENOSYS],
  ['pivot_root', EPERM],
  ['chroot', EPERM],
  ['userns', EPERM, 'ok'],
  ['clone_newuser', EPERM, 'ok'],
  ['clone3', ENOSYS],
  ['move_mount', ENOSYS],
  ['pidfd_getfd', EPERM],
  ['personality_hi', EPERM],
  ['socket_hi', EAFNOSUPPORT],
  ['userns_remount=/usr', EPERM],
  ['keyctl', EPERM],
  ['bpf', EPERM],
  ['perf', EPERM],
  ['userfaultfd', EPERM],
  ['io_uring', EPERM],
  ['kexec', EPERM],
  ['init_module', EPERM],
  ['personality', EPERM],
  ...(x86
    ? ([
        ['int80', INT80],
        ['x32', SIGSYS],
      ] as [string, string | string[]][])
    : []),
  ['socket=16,3', EAFNOSUPPORT, 'ok'],
  ['socket=17,3', EAFNOSUPPORT],
  // Netlink beyond routing and device events: sock_diag, netfilter, generic.
  ['netlink=4', EAFNOSUPPORT],
  ['netlink=12', EAFNOSUPPORT],
  ['netlink=16', EAFNOSUPPORT],
  // nf_tables from a nested user and network namespace, where a browser's
  // own sandbox would hold CAP_NET_ADMIN.
  ['nested_netfilter', EPERM, EAFNOSUPPORT],
  // And x_tables (iptables' setsockopt) from there.
  ['nested_xtables', EPERM],
  ['socket=2,3,1', EAFNOSUPPORT, EPERM],
  ['connect_unix=/run/systemd/private', ENOENT],
  [`connect_unix=/run/user/${user.uid}/bus`, ENOENT],
  [`connect_unix=${x11path}`, ENOENT],
  // A network namespace of its own has its own abstract names (the browsers'
  // where pasta can run: profiles/include/private-network.json5); with the
  // host's network, Landlock's scope (ABI 6) refuses them.
  [`connect_abstract=${x11path}`, ECONNREFUSED, browsersPrivate ? ECONNREFUSED : EPERM],
  ['mknod=/tmp/node', EACCES],
  ['link=/etc/passwd,/tmp/pw', EXDEV],
  // uid 0 is not mapped (EINVAL); the browsers' profiles refuse @setuid
  // outright, as their programs were never seen using it (EPERM).
  ['setuid_root', EINVAL, EPERM],
  ['open_read=/dev/mem', ENOENT],
  ['open_read=/dev/kmsg', ENOENT],
  ['open_write=/proc/sys/kernel/hostname', EACCES],
  ['open_write=/sys/kernel/uevent_helper', ENOENT],
  ['open_write=/proc/sysrq-trigger', fs.existsSync('/proc/sysrq-trigger') ? 'errno=30' : ENOENT],
];

/** One probe's line against what is expected: one outcome, or any of a list. */
function expectLine(t: Test, line: string | undefined, name: string, want: string | string[], msg: string): void {
  if (typeof want === 'string') t.equal(line, `${name} ${want}`, msg);
  else
    t.ok(
      want.some((w) => line === `${name} ${w}`),
      `${msg}: ${line} is one of ${want.join(', ')}`,
    );
}

// The untrusted profile requires Landlock, with what a profile without
// devices or network needs (ABI 3).
const profileSkip: Record<string, string | false> = {
  untrusted: needsLandlock(3, 'the untrusted profile requires it'),
};

// Below Landlock ABI 6 the browser profiles as shipped refuse to start (their
// desktop sockets and D-Bus would be bypassed through the host's abstract
// sockets: test/escape/abstract.test.ts); there, and with Landlock off, a
// local file says network.unscopedAbstractSockets, and tsjail warns.
const unscopedConfig = path.join(bin, 'config');
for (const b of ['firefox', 'chromium']) {
  writeUserFile(
    path.join(unscopedConfig, 'tsjail', 'profiles', `${b}.local.json5`),
    '{ network: { mode: "host", unscopedAbstractSockets: true } }\n',
  );
}
const unscopedEnv = (profile: string, abi: number): Record<string, string> =>
  browsers.includes(profile) && abi < 6 ? { XDG_CONFIG_HOME: unscopedConfig } : {};
for (const profile of Object.keys(profiles)) {
  t.test(
    `every technique is blocked under the ${profile} profile`,
    { skip: profileSkip[profile] ?? false },
    async (t) => {
      const r = tsjail([...profiles[profile]!, '--ro', bin, '--', probe, ...CASES.map((c) => c[0])], {
        cwd: bin,
        env: unscopedEnv(profile, KERNEL_LANDLOCK_ABI),
      });
      t.equal(r.status, 0, r.stderr);
      // One line per probe, in order (several probes share a name).
      const lines = r.stdout.trim().split('\n');
      t.equal(lines.length, CASES.length, r.stdout);
      const changed = landlockChanges(KERNEL_LANDLOCK_ABI, profile);
      CASES.forEach(([p, expect, browser], i) => {
        const name = p.split('=')[0]!;
        const want = changed[name] ?? (browsers.includes(profile) && browser !== undefined ? browser : expect);
        expectLine(t, lines[i], name, want, `${profile}: ${p}`);
      });
    },
  );
}

// Each layer backs up the others: on a kernel without Landlock the mount
// view, seccomp and the dropped privileges still refuse every technique.
// Only signals to the sandbox's own init (which forwards them to the program
// and nothing else), and, with the host's network, the host's abstract
// sockets change (firefox starts through its local file, see above).
for (const profile of ['default', 'firefox']) {
  t.test(`without Landlock the other layers still hold under the ${profile} profile`, async (t) => {
    const r = tsjail([...profiles[profile]!, '--ro', bin, '--', probe, ...CASES.map((c) => c[0])], {
      cwd: bin,
      env: { TSJAIL_LANDLOCK_ABI: '0', ...unscopedEnv(profile, 0) },
    });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines.length, CASES.length, r.stdout);
    const changed = landlockChanges(0, profile);
    CASES.forEach(([p, expect, browser], i) => {
      const name = p.split('=')[0]!;
      const withLandlock = browsers.includes(profile) && browser !== undefined ? browser : expect;
      expectLine(t, lines[i], name, changed[name] ?? withLandlock, `${profile} without Landlock: ${p}`);
    });
    if (profile === 'firefox') t.match(r.stderr, /abstract/, 'and tsjail says the abstract sockets are not scoped');
  });
}

t.test('control: outside the sandbox the same probes succeed', async (t) => {
  const sleeper = spawn(asUser(['sleep', '60'], userEnv({}))[0]!, asUser(['sleep', '60'], userEnv({})).slice(1), {
    stdio: 'ignore',
  });
  t.teardown(() => sleeper.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 300));
  const pid = sleeper.pid!;
  const plain = outside([
    `ptrace=${pid}`,
    `vmread=${pid}`,
    `pidfd_signal=${pid}`,
    `kill=${pid}`,
    `open_read=/proc/${pid}/root/etc/hostname`,
    'userns',
    'clone_newuser',
    'clone3',
    'pidfd_getfd',
    'personality_hi',
    'keyctl',
    'perf',
    'userfaultfd',
    'io_uring',
    'personality',
    'socket=16,3',
    'netlink=4',
    'netlink=12',
    'netlink=16',
    'nested_netfilter',
    'nested_xtables',
  ]);
  for (const [k, v] of plain) t.equal(v, 'ok', `outside: ${k}`);
  if (x86) {
    t.test('outside: int $0x80 reaches the kernel', { skip: int80Skip }, async (t) => {
      t.equal(int80Outside, 'ok', 'getpid through the i386 entry works outside');
    });
    // x32 getpid outside: "ok" where the kernel has the x32 ABI, ENOSYS where
    // it has not (CONFIG_X86_X32_ABI unset); either way the call reaches the
    // kernel and is not killed, so SIGSYS inside is the filter's.
    const x32 = outside(['x32']).get('x32');
    t.ok(
      x32 === 'ok' || x32 === ENOSYS,
      `outside: x32 reaches the kernel (${x32}: ${x32 === 'ok' ? 'x32 ABI built' : 'no x32 ABI here'})`,
    );
  }
  // The privileged ones, in a user namespace of the user's own.
  const userns = outside(
    ['mount_tmpfs=/tmp', 'fsopen', 'open_tree', 'move_mount', 'chroot', 'socket=2,3,1', 'socket_hi'],
    ['unshare', '--user', '--map-root-user', '--mount', '--net'],
  );
  for (const [k, v] of userns) t.equal(v, 'ok', `own user namespace: ${k}`);
  const own = path.join(bin, 'own');
  writeUserFile(own, 'x');
  const link = outside([`link=${own},${own}.2`]);
  t.equal(link.get('link'), 'ok', 'a hard link within one mount works');
  const sockets = outside([`connect_unix=${x11path}`, `connect_abstract=${x11path}`]);
  for (const [k, v] of sockets) t.equal(v, 'ok', `outside: ${k} reaches the host's listener`);
});

// The caller's terminal: the sandbox is started on a pseudo-terminal (script)
// that is the caller's controlling terminal, as in an interactive shell.
function onTerminal(argv: string[]): Map<string, string> {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync(...splitArgv(asUser(['script', '-qec', cmd, '/dev/null'], userEnv({}))), {
    encoding: 'utf8',
    cwd: bin,
    input: '',
  });
  // The injected character is echoed at the start of a line. script turns
  // its empty stdin into an EOF on the terminal at once; the line
  // discipline keeps it as a NUL byte, which reaches the sandbox's private
  // pty (echoed "^@") when tsjail puts the terminal in raw mode.
  return parse(
    r.stdout
      .replace(/\r|\^@/g, '')
      .split('\n')
      .map((l) => l.trim())
      .join('\n'),
  );
}

t.test("the caller's terminal: TIOCSTI (also with high bits) and TIOCLINUX", async (t) => {
  const tty = ['tiocsti', 'tiocsti_hi', 'tioclinux'];
  const out = onTerminal([probe, ...tty]);
  t.equal(out.get('tiocsti'), 'ok', 'control: outside, TIOCSTI injects input');
  t.equal(out.get('tiocsti_hi'), 'ok', 'control: the kernel ignores the high bits');
  t.equal(out.get('tioclinux'), ENOTTY, 'control: TIOCLINUX reaches the tty driver (not a console: ENOTTY)');
  for (const profile of Object.keys(profiles)) {
    const got = onTerminal(tsjailArgv([...profiles[profile]!, '--ro', bin, '--', probe, ...tty]));
    for (const k of tty) t.equal(got.get(k), EPERM, `${profile}: ${k}`);
  }
});

t.test('descriptors and environment of the caller do not leak in', async (t) => {
  const wrap = (argv: string[]) =>
    asUser(
      ['/bin/sh', '-c', 'exec 7</etc/hostname; exec "$@"', 'sh', ...argv],
      userEnv({ env: { SECRET_FOR_TSJAIL: 'leak' } }),
    );
  const probes = ['fd=7', 'env=SECRET_FOR_TSJAIL', 'env=PATH'];
  const run = (argv: string[]) => parse(spawnSync(...splitArgv(wrap(argv)), { encoding: 'utf8', cwd: bin }).stdout);
  const control = run([probe, ...probes]);
  t.equal(control.get('fd'), 'ok', 'control: descriptor 7 is open outside');
  t.equal(control.get('env'), 'ok', 'control: the variables are set outside');
  for (const profile of Object.keys(profiles)) {
    const r = spawnSync(...splitArgv(wrap(tsjailArgv([...profiles[profile]!, '--ro', bin, '--', probe, ...probes]))), {
      encoding: 'utf8',
      cwd: bin,
    });
    t.equal(r.status, 0, r.stderr);
    t.same(
      r.stdout.trim().split('\n'),
      ['fd errno=9', 'env errno=2', 'env ok'],
      `${profile}: fd 7 closed, the secret gone, PATH set`,
    );
  }
});

t.test(
  'set-user-ID and file-capability binaries gain nothing inside',
  { skip: privileged ? false : 'needs root and setcap to make the privileged binaries' },
  async (t) => {
    const control = outside([`exec_setuid=${suid}`, `exec_setcap=${fcap}`]);
    t.equal(control.get('exec_setuid'), 'ok', 'control: outside the set-user-ID copy runs as root');
    t.equal(control.get('exec_setcap'), 'ok', 'control: outside the file capabilities are granted');
    for (const profile of Object.keys(profiles)) {
      const r = tsjail(
        [...profiles[profile]!, '--ro', bin, '--', probe, `exec_setuid=${suid}`, `exec_setcap=${fcap}`],
        { cwd: bin },
      );
      t.equal(r.status, 0, r.stderr);
      t.same(
        r.stdout.trim().split('\n'),
        ['exec_setuid errno=1', 'exec_setcap errno=1'],
        `${profile}: ran unprivileged`,
      );
    }
  },
);

t.test("resource exhaustion stops at the profile's limits, the host unharmed", async (t) => {
  const limits = ['-p', path.join(bin, 'limits.json5')];
  const got = parse(
    tsjail([...limits, '--ro', bin, '--', probe, 'forkbomb', 'bigfile=/tmp/big', 'bigalloc'], { cwd: bin }).stdout,
  );
  t.equal(got.get('forkbomb'), 'errno=11', 'fork refused (EAGAIN) at nproc');
  t.equal(got.get('bigfile'), 'errno=27', 'write refused (EFBIG) at fsize');
  t.equal(got.get('bigalloc'), 'errno=12', 'allocation refused (ENOMEM) at as');
  const after = spawnSync(asUser(['/bin/true'], userEnv({}))[0]!, asUser(['/bin/true'], userEnv({})).slice(1));
  t.equal(after.status, 0, 'the user can still start processes');
});

t.test('a bind source swapped for a symlink, or renamed over, between planning and mounting is refused', async (t) => {
  const home = makeUserDir('swaphome');
  t.teardown(() => removeDir(home));
  writeUserFile(path.join(home, '.ssh/id_probe'), 'PRIVATE KEY', 0o600);
  const docs = path.join(home, 'docs');
  fs.mkdirSync(docs);
  if (IS_ROOT) fs.chownSync(docs, user.uid, user.gid);
  const dry = tsjail(['--dry-run', '--ro', docs, '--', '/bin/cat', `${docs}/id_probe`], { home, cwd: home });
  t.equal(dry.status, 0, dry.stderr);
  // The swap: docs becomes a link to ~/.ssh after the plan was made.
  fs.rmdirSync(docs);
  fs.symlinkSync(path.join(home, '.ssh'), docs);
  const planFile = path.join(home, 'plan');
  fs.writeFileSync(planFile, encodePlan(planFromJson(JSON.parse(dry.stdout))));
  fs.chmodSync(planFile, 0o644);
  const shim = path.join(tsjailRoot(), 'shim-c', 'tsjail-shim');
  const argv = asUser(['/bin/sh', '-c', `exec ${shim} --plan-fd 3 3<${planFile}`], userEnv({ home }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: home });
  t.equal(r.status, 125, r.stderr);
  t.notMatch(r.stdout, /PRIVATE KEY/);
  t.match(r.stderr, /docs/);
  // The same swap by rename: ~/.ssh itself moved into docs' place. No
  // symlink on the way, but not the inode the plan saw.
  fs.unlinkSync(docs);
  fs.renameSync(path.join(home, '.ssh'), docs);
  const renamed = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: home });
  t.equal(renamed.status, 125, renamed.stderr);
  t.notMatch(renamed.stdout, /PRIVATE KEY/);
  t.match(renamed.stderr, /stale plan/);
  // And a fresh plan made after the swap follows the link only as a link: the
  // key is shown only because the user named the path, never by accident.
});

t.test("from outside: the monitor's environment and memory are not readable, no core dumps inside", async (t) => {
  const argv = asUser(
    [
      process.execPath,
      path.join(tsjailRoot(), 'bin', 'tsjail.js'),
      '--',
      '/bin/sh',
      '-c',
      'ulimit -c; echo ready; sleep 30',
    ],
    userEnv({ env: { SECRET_FOR_TSJAIL: 'x' } }),
  );
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (d) => ((out += d), out.includes('ready') && resolve())),
  );
  t.match(out, /^0$/m, 'RLIMIT_CORE is 0 inside');
  const read = spawnSync(
    asUser(['cat', `/proc/${child.pid}/environ`], userEnv({}))[0]!,
    asUser(['cat', `/proc/${child.pid}/environ`], userEnv({})).slice(1),
    { encoding: 'utf8' },
  );
  t.not(read.status, 0, 'the monitor is not dumpable');
  t.match(read.stderr, /Permission denied/);
});
