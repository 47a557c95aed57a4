// Memory through tmpfs (issue 10, item 3): every tmpfs tsjail mounts had
// no size, so each could take half of the machine's memory. Under the
// shipped profiles that set limits.tmpfs (default, untrusted) each writable
// tmpfs has that size and a write beyond it fails with ENOSPC; the root
// tmpfs is read-only. The outside control writes the same amount into a
// tmpfs mounted without size= in a user namespace of the user's own.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { asUser, inSandbox, userEnv } from '../helpers/sandbox.js';

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
