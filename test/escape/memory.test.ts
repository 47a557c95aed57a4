// Memory through tmpfs (issue 10, item 3): every tmpfs tsjail mounts had
// no size, so each could take half of the machine's memory. Under the
// shipped profiles that set limits.tmpfs (default, untrusted) each writable
// tmpfs has that size and a write beyond it fails with ENOSPC; the root
// tmpfs is read-only. The outside control writes the same amount into a
// tmpfs mounted without size= in a user namespace of the user's own.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { KERNEL_LANDLOCK_ABI, needsLandlock } from '../helpers/machine.js';
import { asUser, inSandbox, makeUserDir, userEnv, writeUserFile } from '../helpers/sandbox.js';

const MiB = 1024 * 1024;
const LIMITS: Record<string, number> = { default: 1024 * MiB, untrusted: 512 * MiB };
const MOUNTS = ['/tmp', '/dev/shm', '"$HOME"', '/dev'];
// More than the untrusted profile's cap.
const FILL_MIB = 600;
const fill = (dir: string, label = dir): string =>
  `dd if=/dev/zero of=${dir}/fill bs=1M count=${FILL_MIB} 2>/dev/null; echo "${label} rc=$?"; rm -f ${dir}/fill`;

t.test('control: without size= a tmpfs takes the whole write', async (t) => {
  const argv = asUser(
    ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', `mount -t tmpfs none /mnt && ${fill('/mnt')}`],
    userEnv({}),
  );
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  t.equal(r.stdout.trim(), '/mnt rc=0', `${FILL_MIB} MiB fit into an unsized tmpfs (${r.stderr.trim()})`);
});

for (const [profile, limit] of Object.entries(LIMITS)) {
  t.test(`${profile}: each tmpfs holds at most limits.tmpfs, the root none`, async (t) => {
    const sizes = MOUNTS.map((m) => `echo "${m} $(stat -f -c '%b %S' ${m})"`).join('; ');
    const r = inSandbox(`${sizes}; touch /new 2>/dev/null; echo "root rc=$?"`, ['-p', profile]);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const [i, m] of MOUNTS.entries()) {
      const [, blocks, bsize] = lines[i]!.split(' ');
      t.equal(Number(blocks) * Number(bsize), limit, `${profile}: ${m} is ${limit / MiB} MiB`);
    }
    t.equal(lines[MOUNTS.length], 'root rc=1', `${profile}: nothing can be written at the root`);
    if (limit < FILL_MIB * MiB) {
      const w = inSandbox([fill('/tmp'), fill('/dev/shm'), fill('"$HOME"', 'home')].join('; '), ['-p', profile]);
      t.same(
        w.stdout.trim().split('\n'),
        ['/tmp rc=1', '/dev/shm rc=1', 'home rc=1'],
        `${profile}: writing ${FILL_MIB} MiB fails (ENOSPC) in each`,
      );
    }
  });
}

// System V shared memory (issue 10, item 3): the sandbox's IPC namespace
// had the kernel's defaults (shmmax and shmall ~16 EiB), so shmget took as
// much of the host's memory as it asked for. Now the shim sets
// kernel.shmmax and shmall of that namespace to limits.shm (PLAN.md step
// 15a), and /proc/sys is read-only inside, so the program cannot raise them.
// The outside control asks for the same segment in a fresh IPC namespace
// of a user namespace of the user's own.
const SHM_LIMITS: Record<string, number> = {
  default: 1024 * MiB,
  untrusted: 512 * MiB,
};
const SHM_ASK = 1200 * MiB;
const SHMGET = [
  'import ctypes, sys',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'for n in map(int, sys.argv[1:]):',
  '    r = libc.shmget(0, ctypes.c_size_t(n), 0o1600)',
  '    print(n, "ok" if r >= 0 else "errno=%d" % ctypes.get_errno())',
].join('\n');
const shmget = (...sizes: number[]): string => `python3 -c '${SHMGET}' ${sizes.join(' ')}`;
// Message queues and semaphore sets (issue 10, System V beyond shared
// memory): "msg N" makes up to N queues, "sem K N" up to N sets of K
// semaphores; each prints how many it made and the errno that stopped it.
const SYSV = [
  'import ctypes, sys',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'a = sys.argv[1:]',
  'while a:',
  '    if a[0] == "msg":',
  '        k, n, a = 0, int(a[1]), a[2:]',
  '        mk = lambda: libc.msgget(0, 0o1600)',
  '    else:',
  '        k, n, a = int(a[1]), int(a[2]), a[3:]',
  '        mk = lambda: libc.semget(0, k, 0o1600)',
  '    made, err = 0, 0',
  '    while made < n:',
  '        if mk() < 0:',
  '            err = ctypes.get_errno()',
  '            break',
  '        made += 1',
  '    print("sem %d" % k if k else "msg", made, "errno=%d" % err if err else "ok")',
].join('\n');
const sysv = (...args: (string | number)[]): string => `python3 -c '${SYSV}' ${args.join(' ')}`;
const browsers = ['firefox', 'chromium'];
// Below Landlock ABI 6 the browser profiles as shipped refuse to start (see
// test/escape/escape.test.ts); a local file says so, as there.
const shmConfig = makeUserDir('shm-config');
for (const b of browsers) {
  writeUserFile(
    path.join(shmConfig, 'tsjail', 'profiles', `${b}.local.json5`),
    '{ network: { mode: "host", unscopedAbstractSockets: true } }\n',
  );
}
const shmEnv = (profile: string): Record<string, string> =>
  browsers.includes(profile) && KERNEL_LANDLOCK_ABI < 6 ? { XDG_CONFIG_HOME: shmConfig } : {};
const shmSkip: Record<string, string | false> = { untrusted: needsLandlock(3, 'the untrusted profile requires it') };
const ownIpc = (script: string, extra: string[] = []) => {
  const argv = asUser(['unshare', '--user', '--map-root-user', '--ipc', ...extra, 'sh', '-c', script], userEnv({}));
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
};

t.test('control: a fresh IPC namespace gives a large System V segment, queues and semaphores', async (t) => {
  const r = ownIpc(`${shmget(SHM_ASK)}; ${sysv('msg', 300, 'sem', 251, 1, 'sem', 250, 129)}`);
  t.same(
    r.stdout.trim().split('\n'),
    [`${SHM_ASK} ok`, 'msg 300 ok', 'sem 251 1 ok', 'sem 250 129 ok'],
    `outside: shmget of ${SHM_ASK / MiB} MiB, 300 message queues, a set of 251 semaphores and 129 sets of 250 (${r.stderr.trim()})`,
  );
});

for (const [profile, limit] of Object.entries(SHM_LIMITS)) {
  t.test(`${profile}: System V shared memory stops at limits.shm`, { skip: shmSkip[profile] ?? false }, async (t) => {
    const part = Math.floor((limit * 0.6) / 4096) * 4096;
    const script = [
      'cat /proc/sys/kernel/shmmax',
      // The segments stay (no IPC_RMID): the last two together exceed shmall.
      shmget(limit + 1, SHM_ASK, 1024 * 1024, part, part),
      `echo ${SHM_ASK * 4} 2>/dev/null >/proc/sys/kernel/shmmax; echo "write rc=$?"`,
      `echo ${SHM_ASK * 4} 2>/dev/null >/proc/sys/kernel/shmall; echo "write rc=$?"`,
      'cat /proc/sys/kernel/shmmax',
    ].join('; ');
    const r = inSandbox(script, ['-p', profile], { env: shmEnv(profile) });
    t.equal(r.status, 0, r.stderr);
    t.same(
      r.stdout.trim().split('\n'),
      [
        String(limit),
        `${limit + 1} errno=22`,
        `${SHM_ASK} errno=22`,
        `${1024 * 1024} ok`,
        `${part} ok`,
        `${part} errno=28`,
        'write rc=2',
        'write rc=2',
        String(limit),
      ],
      `${profile}: shmmax is ${limit / MiB} MiB, a larger segment fails with EINVAL, more in all with ENOSPC, a small one works, the limit cannot be raised`,
    );
  });

  t.test(
    `${profile}: System V message queues and semaphores stop at tsjail's bounds`,
    { skip: shmSkip[profile] ?? false },
    async (t) => {
      const script = [
        'cat /proc/sys/kernel/msgmni /proc/sys/kernel/msgmnb /proc/sys/kernel/msgmax /proc/sys/kernel/sem',
        sysv('msg', 300, 'sem', 251, 1, 'sem', 250, 129),
        'echo 32000 2>/dev/null >/proc/sys/kernel/msgmni; echo "write rc=$?"',
        'echo "32000 1024000000 500 32000" 2>/dev/null >/proc/sys/kernel/sem; echo "write rc=$?"',
      ].join('; ');
      const r = inSandbox(script, ['-p', profile]);
      t.equal(r.status, 0, r.stderr);
      t.same(
        r.stdout.trim().split('\n'),
        [
          '256',
          '16384',
          '8192',
          '250\t32000\t32\t128',
          'msg 256 errno=28',
          'sem 251 0 errno=22',
          'sem 250 128 errno=28',
          'write rc=2',
          'write rc=2',
        ],
        `${profile}: 256 queues of 16 KiB, then ENOSPC; no set above 250 semaphores (EINVAL); 128 sets, then ENOSPC; the bounds cannot be raised`,
      );
    },
  );
}

// Under nestedSandbox (firefox, chromium) the program may make user and IPC
// namespaces for the browser's own sandbox (Firefox asks for an IPC
// namespace with each of its content processes), and a new IPC namespace
// starts with the kernel's defaults. So there System V objects cannot be
// made at all: shmget, msgget and semget are ENOSYS, in the sandbox's
// namespace and in a nested one alike. The control above makes the same
// objects in a nested IPC namespace of the user's own.
for (const profile of browsers) {
  t.test(`${profile}: no System V object, in the sandbox's IPC namespace or a nested one`, async (t) => {
    const probe = `${shmget(1024 * 1024)}; ${sysv('msg', 1, 'sem', 1, 1)}`;
    const r = inSandbox(
      `${probe}; unshare --user --map-root-user --ipc sh -c '${probe.replace(/'/g, `'\\''`)}'; echo "unshare rc=$?"`,
      ['-p', profile],
      {
        env: shmEnv(profile),
      },
    );
    t.equal(r.status, 0, r.stderr);
    const refused = [`${1024 * 1024} errno=38`, 'msg 0 errno=38', 'sem 1 0 errno=38'];
    t.same(
      r.stdout.trim().split('\n'),
      [...refused, ...refused, 'unshare rc=0'],
      `${profile}: shmget, msgget and semget are ENOSYS, also in the nested IPC namespace the browser's sandbox may make`,
    );
  });
}
