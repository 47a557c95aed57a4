// Landlock against the real kernel, the filesystem side: the ruleset holds
// where the mount view alone would not, REFER, TRUNCATE on /proc, IOCTL_DEV.
// What needs a newer ABI than this kernel's is skipped, saying so.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodePlan } from '../../src/plan/encode.js';
import { FS } from '../../src/landlock/abi.js';
import { LANDLOCK_ABI, needsLandlock } from '../helpers/machine.js';
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
const work = makeUserDir('llfs');
t.teardown(() => removeDir(work));

t.test(
  'a path mounted writable but read-only in the ruleset stays unwritable',
  { skip: needsLandlock(1) },
  async (t) => {
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
  },
);

t.test(
  'a rename between directories of a granted tree works (REFER); on ABI 1 it cannot',
  { skip: needsLandlock(2, 'REFER') },
  async (t) => {
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
  },
);

t.test('/proc: a shell writes its own files through O_TRUNC under every ABI', { skip: needsLandlock(1) }, async (t) => {
  // The kernel's own ABI and the two below and at TRUNCATE (ABI 3), as far as the kernel goes.
  for (const abi of [...new Set([LANDLOCK_ABI, 3, 2])].filter((a) => a <= LANDLOCK_ABI)) {
    const r = inSandbox('echo renamed > /proc/self/comm && echo 900 > /proc/self/oom_score_adj && echo ok', [], {
      env: { TSJAIL_LANDLOCK_ABI: String(abi) },
    });
    t.equal(r.status, 0, `ABI ${abi}: ${r.stderr}`);
    t.equal(r.stdout, 'ok\n');
  }
});

t.test(
  "device ioctls: refused on /dev/null, allowed on the sandbox's own ptys",
  { skip: needsLandlock(5, 'IOCTL_DEV') },
  async (t) => {
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
  },
);
