// Whether network "private" can run here for the test user: pasta installed
// and /dev/net/tun readable and writable by that user (stock Debian has it
// 0666; `.ci/run` lends it with an ACL where a machine has it 0600).
import { spawnSync } from 'node:child_process';
import { probePrivateNetwork } from '../../src/net/plan.js';
import { asUser, userEnv } from './sandbox.js';

/** Why network "private" cannot be tested here, or false. */
export function privateNetworkSkip(): string | false {
  const support = probePrivateNetwork({ PATH: '/usr/bin:/bin' });
  if (!support.pasta || support.unavailable) return support.unavailable ?? 'pasta is not installed';
  const tun = asUser(['test', '-r', '/dev/net/tun', '-a', '-w', '/dev/net/tun'], userEnv({}));
  return spawnSync(tun[0]!, tun.slice(1)).status === 0
    ? false
    : '/dev/net/tun is not readable and writable by the test user (.ci/run grants it as stock Debian has it)';
}
