/**
 * Kernel features as tsjail will use them, probed once per launch.
 *
 * TSJAIL_LANDLOCK_ABI=N makes tsjail behave as on a kernel with Landlock ABI
 * N (0: none). It can only lower what the kernel offers, never raise it; it
 * exists so the degraded paths can be tested and reproduced on a new kernel.
 */
import { TsjailError } from '../errors.js';
import { probeLandlockAbi } from './kernel.js';

export interface LandlockAvailability {
  abi: number;
  kernelAbi: number;
  unavailable?: string;
  /** Why the kernel itself has none (ENOSYS, EOPNOTSUPP, another errno). */
  kernelReason?: 'not-built' | 'disabled' | 'error';
  errno?: number;
}

export function landlockAbi(env: NodeJS.ProcessEnv = process.env): LandlockAvailability {
  const probe = probeLandlockAbi();
  let abi = probe.abi;
  let unavailable: string | undefined;
  if ('reason' in probe) {
    unavailable =
      probe.reason === 'disabled'
        ? 'built into the kernel but not enabled at boot (lsm=)'
        : probe.reason === 'not-built'
          ? 'not built into the kernel'
          : `unusable (errno ${probe.errno})`;
  }
  const cap = env.TSJAIL_LANDLOCK_ABI;
  if (cap !== undefined && cap !== '' && !/^\d{1,3}$/.test(cap)) {
    throw new TsjailError(
      `TSJAIL_LANDLOCK_ABI: expected a Landlock ABI number (0: none), got ${JSON.stringify(cap.slice(0, 40))}`,
    );
  }
  if (cap !== undefined && cap !== '' && Number(cap) < abi) {
    abi = Number(cap);
    if (abi === 0) unavailable = 'turned off by TSJAIL_LANDLOCK_ABI=0';
  }
  return 'reason' in probe
    ? { abi, kernelAbi: probe.abi, unavailable, kernelReason: probe.reason, errno: probe.errno }
    : { abi, kernelAbi: probe.abi, unavailable };
}
