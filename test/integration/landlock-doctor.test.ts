// tsjail doctor and the audit of Landlock denials against the real kernel:
// doctor's report follows the kernel's ABI and what securityfs shows (or
// that it is not mounted); --log-denials and landlock.logDenials (ABI 7)
// put the refused access in the kernel's audit log.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { LATEST_ABI } from '../../src/landlock/abi.js';
import {
  activeLsms,
  KERNEL_LANDLOCK_ABI,
  KERNEL_LANDLOCK_ERRNO,
  LANDLOCK_ABI,
  needsLandlock,
} from '../helpers/machine.js';
import { inSandbox, IS_ROOT, makeUserDir, removeDir, tsjail, tsjailAsync, writeUserFile } from '../helpers/sandbox.js';

const work = makeUserDir('lldoc');
t.teardown(() => removeDir(work));

t.test('tsjail doctor tells the ABI, the LSM state it can read, and what will be enforced', async (t) => {
  const r = tsjail(['doctor']);
  t.equal(r.status, 0, r.stderr);
  const line = (label: string, out = r.stdout) =>
    out
      .split('\n')
      .find((l) => l.startsWith(`${label} `))
      ?.slice(label.length)
      .trim();
  // What the kernel says, and the LSM list where securityfs lets us read it.
  const lsm = activeLsms();
  const known =
    lsm === undefined ? 'the active LSM list is unreadable (securityfs not mounted)' : `active LSMs: ${lsm}`;
  t.comment(`kernel Landlock ABI ${KERNEL_LANDLOCK_ABI}; ${known}`);
  if (KERNEL_LANDLOCK_ABI === 0) {
    const why =
      KERNEL_LANDLOCK_ERRNO === 95 ? /not enabled at boot/ : KERNEL_LANDLOCK_ERRNO === 38 ? /not built/ : /errno/;
    t.match(line('landlock'), /^NOT AVAILABLE: /);
    t.match(line('landlock'), why, `the kernel's errno ${KERNEL_LANDLOCK_ERRNO}, explained`);
    t.ok(line('landlock')?.endsWith(known), known);
    return;
  }
  const listed = lsm === undefined || lsm.split(',').includes('landlock');
  const newer = KERNEL_LANDLOCK_ABI > LATEST_ABI ? ` (tsjail knows up to ABI ${LATEST_ABI} and uses that)` : '';
  const boot = listed ? `enabled at boot; ${known}` : `enabled (the kernel answers), though absent from the ${known}`;
  t.equal(line('landlock'), `ABI ${KERNEL_LANDLOCK_ABI}${newer}; ${boot}`);
  t.equal(
    line('  scoping'),
    LANDLOCK_ABI >= 6
      ? 'abstract unix sockets and signals stay inside the sandbox'
      : 'not available (ABI 6): with network "host" the host\'s abstract sockets (X11, D-Bus) are reachable',
  );
  t.match(line('  audit'), LANDLOCK_ABI >= 7 ? /^denials logged with --log-denials/ : /^not available \(ABI 7\)$/);
  t.match(line('  "required"'), LANDLOCK_ABI >= 6 ? /^every profile can start$/ : /^refused for profiles that need /);
  const abis = Array.from({ length: LATEST_ABI + 1 }, (_, abi) => abi);
  const doctors = await Promise.all(
    abis.map((abi) => tsjailAsync(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: String(abi) } })),
  );
  doctors.forEach((d, abi) => t.equal(d.status, 0, `ABI ${abi}: tsjail can run, so doctor exits 0`));
  const none = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '0' } });
  t.match(none.stdout, /tsjail will not use it \(TSJAIL_LANDLOCK_ABI=0\)/);
  const one = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '1' } });
  t.match(one.stdout, /moving files between directories fails with EXDEV/);
  t.test("lowered below the kernel's ABI", { skip: needsLandlock(4, 'to lower it to 3') }, async (t) => {
    const low = tsjail(['doctor'], { env: { TSJAIL_LANDLOCK_ABI: '3' } });
    t.match(low.stdout, /limited to ABI 3/);
    t.match(low.stdout, /not enforced here: ioctl_dev/);
    t.match(low.stdout, /^ {2}tcp ports\s+not available \(ABI 4\)/m);
  });
});

t.test(
  '--log-denials: the kernel logs what Landlock refused the program',
  { skip: !IS_ROOT ? 'reading the kernel audit log needs root' : needsLandlock(7, 'audit of denials') },
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

t.test(
  'landlock.logDenials in a profile sets the restrict flag as --log-denials does',
  { skip: needsLandlock(7, 'audit of denials') },
  async (t) => {
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
  },
);
