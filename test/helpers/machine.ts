/**
 * What this machine offers, measured independently of tsjail's own probes,
 * so tests derive their expectations from the kernel they run on instead of
 * assuming the one they were written on. Each `needs*` answer is false when
 * the feature is there, else the reason a test gives for skipping.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { LATEST_ABI } from '../../src/landlock/abi.js';

/**
 * The kernel's Landlock ABI: landlock_create_ruleset(NULL, 0,
 * LANDLOCK_CREATE_RULESET_VERSION), asked through python3's ctypes (x86_64
 * and aarch64 both number it 444). 0 when the kernel has none (ENOSYS: not
 * built; EOPNOTSUPP: built but not enabled at boot).
 */
function probeLandlock(): { abi: number; errno: number } {
  const r = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
r = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
print(r, ctypes.get_errno())`,
    ],
    { encoding: 'utf8' },
  );
  const [abi, errno] = r.stdout.trim().split(' ').map(Number);
  if (r.status !== 0 || abi === undefined || errno === undefined || Number.isNaN(abi)) {
    throw new Error(`cannot ask the kernel for its Landlock ABI (python3): ${r.stderr}`);
  }
  return abi > 0 ? { abi, errno: 0 } : { abi: 0, errno };
}

const landlock = probeLandlock();

/** The kernel's own Landlock ABI (0: none). */
export const KERNEL_LANDLOCK_ABI = landlock.abi;
/** The errno of the probe when the kernel has no Landlock (38 ENOSYS, 95 EOPNOTSUPP). */
export const KERNEL_LANDLOCK_ERRNO = landlock.errno;
/** The ABI tsjail uses here: the kernel's, capped at the newest tsjail knows. */
export const LANDLOCK_ABI = Math.min(KERNEL_LANDLOCK_ABI, LATEST_ABI);

/** false when the kernel has Landlock ABI `abi` or newer, else why a test cannot run. */
export function needsLandlock(abi: number, what = ''): string | false {
  if (KERNEL_LANDLOCK_ABI >= abi) return false;
  const have =
    KERNEL_LANDLOCK_ABI === 0
      ? `this kernel has no Landlock (errno ${KERNEL_LANDLOCK_ERRNO})`
      : `this kernel has Landlock ABI ${KERNEL_LANDLOCK_ABI}`;
  return `needs Landlock ABI ${abi}${what === '' ? '' : ` (${what})`}; ${have}`;
}

/** The active LSMs when securityfs is mounted and readable, else undefined. */
export function activeLsms(): string | undefined {
  try {
    return fs.readFileSync('/sys/kernel/security/lsm', 'utf8').trim();
  } catch {
    return undefined;
  }
}
