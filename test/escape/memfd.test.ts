// Native code from writable memory (issue 10, item 4). A copy of /bin/true
// in a memfd ran through execveat(AT_EMPTY_PATH) or /proc/self/fd/N under
// every profile, while the same file in /tmp was refused. Now memfd_create
// is refused (ENOSYS) unless sealed against exec, and a sealed memfd cannot
// be executed or made executable; files in every writable mount (/tmp,
// /dev/shm, the home) can be neither executed nor mapped as code. Mapping
// memory the program holds itself as code (a sealed memfd, SysV shm with
// SHM_EXEC) stays possible, as for anonymous memory a JIT needs: it runs no
// new program. The outside control runs every technique as the same user.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, makeUserDir, removeDir, tsjail, userEnv } from '../helpers/sandbox.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = makeUserDir('memfd');
t.teardown(() => removeDir(bin));
const probe = path.join(bin, 'memfd');
execFileSync('gcc', ['-O2', '-Wall', '-o', probe, path.join(here, 'memfd.c')]);
fs.chmodSync(probe, 0o755);

const EPERM = 'errno=1';
const EACCES = 'errno=13';
const ENOSYS = 'errno=38';
const [major, minor] = os.release().split('.').map(Number) as [number, number];
// MFD_NOEXEC_SEAL exists from Linux 6.3; before, the kernel refuses it (EINVAL).
const sealing = major > 6 || (major === 6 && minor >= 3);
const EINVAL = 'errno=22';

const WRITABLE = ['/tmp', '/dev/shm'];
// [probe, outside, inside]
const CASES: [string, string, string][] = [
  ['memfd_exec', 'ok', ENOSYS],
  ['memfd_procfd', 'ok', ENOSYS],
  ['sealed_exec', sealing ? EACCES : EINVAL, sealing ? EACCES : EINVAL],
  ['sealed_chmod', sealing ? EPERM : EINVAL, sealing ? EPERM : EINVAL],
  ['sealed_mmap', sealing ? 'ok' : EINVAL, sealing ? 'ok' : EINVAL],
  ...WRITABLE.flatMap((d): [string, string, string][] => [
    [`file_exec=${d}`, 'ok', EACCES],
    [`file_mmap=${d}`, 'ok', EPERM],
  ]),
  ['shm_exec', 'ok', 'ok'],
];
const lines = (out: string): string[] => out.trim().split('\n');
const want = (i: 1 | 2): string[] => CASES.map((c) => `${c[0].split('=')[0]} ${c[i]}`);

t.test('control: outside, a memfd, /tmp and /dev/shm run what the user wrote', async (t) => {
  const argv = asUser([probe, ...CASES.map((c) => c[0])], userEnv({}));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: bin });
  t.same(lines(r.stdout), want(1), r.stderr);
});

for (const profile of ['default', 'untrusted', 'firefox', 'chromium']) {
  t.test(`${profile}: no writable thing can be executed`, async (t) => {
    const home = ['file_exec=$HOME', 'file_mmap=$HOME'];
    const r = tsjail(
      [
        '-p',
        profile,
        '--ro',
        bin,
        '--',
        '/bin/sh',
        '-c',
        `exec "$0" "$@" ${home.join(' ')}`,
        probe,
        ...CASES.map((c) => c[0]),
      ],
      { cwd: bin },
    );
    t.equal(r.status, 0, r.stderr);
    // nestedSandbox profiles have no System V shared memory at all (shmget is
    // ENOSYS, so that a nested IPC namespace cannot escape limits.shm).
    const nested = profile === 'firefox' || profile === 'chromium';
    const inside = want(2).map((l) => (nested && l === 'shm_exec ok' ? `shm_exec ${ENOSYS}` : l));
    t.same(
      lines(r.stdout),
      [...inside, `file_exec ${EACCES}`, `file_mmap ${EPERM}`],
      `${profile}: memfds, /tmp, /dev/shm and the home`,
    );
  });
}
