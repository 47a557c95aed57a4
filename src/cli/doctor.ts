/**
 * `tsjail doctor`: what the kernel offers and what tsjail will use of it,
 * layer by layer. Exit 0 when tsjail can run here, 125 when it cannot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Command } from 'clipanion';
import { cgroupReport } from '../cgroup/report.js';
import { findShim } from '../launch/shim-path.js';
import { abiRow, type AbiRow, firstAbiOf, FS, LATEST_ABI, NET, rightNames, SCOPE } from '../landlock/abi.js';
import { describeRights, READ_EXEC, WRITE } from '../landlock/ruleset.js';
import { hostArch } from '../seccomp/compile.js';
import { landlockAbi, type LandlockAvailability } from '../sys/features.js';
import { probeMemfdNoexecSeal } from '../sys/kernel.js';
import { checkUserns } from '../sys/userns.js';
import { BaseCommand } from './base.js';
import { listApps } from '../integrate/integrate.js';
import { integrateContext } from './integrate.js';
import { out } from './output.js';
import { probePrivateNetwork } from '../net/plan.js';
import { findNetProxy } from '../net/proxy.js';

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether Landlock is active: the LSM list when securityfs is mounted, else
 * what the probe's answer implies (EOPNOTSUPP: built in but left out of lsm=
 * at boot; ENOSYS: not built).
 */
export function landlockBoot(
  ll: Pick<LandlockAvailability, 'kernelAbi' | 'kernelReason' | 'errno'>,
  lsm: string | undefined,
): string {
  const listed = lsm?.split(',').includes('landlock');
  const known =
    lsm === undefined ? 'the active LSM list is unreadable (securityfs not mounted)' : `active LSMs: ${lsm}`;
  if (ll.kernelAbi > 0) {
    return listed === false
      ? `enabled (the kernel answers), though absent from the ${known}`
      : `enabled at boot; ${known}`;
  }
  switch (ll.kernelReason) {
    case 'disabled':
      return `built into the kernel but not enabled at boot: add landlock to the lsm= kernel parameter; ${known}`;
    case 'not-built':
      return `not built into this kernel (CONFIG_SECURITY_LANDLOCK); ${known}`;
    default:
      return `the probe failed with errno ${ll.errno ?? '?'}; ${known}`;
  }
}

/** What tsjail enforces at one ABI, and what it cannot, as doctor's lines. */
export function landlockEnforcement(row: AbiRow): [string, string][] {
  const lines: [string, string][] = [];
  lines.push(['  filesystem', `enforced: ${rightNames('fs', row.fs).join(' ')}`]);
  const missingFs = abiRow(LATEST_ABI)!.fs & ~row.fs;
  if (missingFs) lines.push(['', `not enforced here: ${describeRights('fs', missingFs).join(', ')}`]);
  if ((row.fs & FS.REFER) === 0n) lines.push(['', 'moving files between directories fails with EXDEV']);
  lines.push([
    '  tcp ports',
    row.net & NET.CONNECT_TCP
      ? 'enforced where a profile lists them'
      : `not available (ABI ${firstAbiOf('net', NET.CONNECT_TCP)}): profiles listing ports will not start`,
  ]);
  lines.push([
    '  scoping',
    row.scoped & SCOPE.ABSTRACT_UNIX_SOCKET
      ? 'abstract unix sockets and signals stay inside the sandbox'
      : `not available (ABI ${firstAbiOf('scoped', SCOPE.ABSTRACT_UNIX_SOCKET)}): with network "host" the host's abstract sockets (X11, D-Bus) are reachable`,
  ]);
  lines.push([
    '  audit',
    row.restrictFlags ? 'denials logged with --log-denials (kernel audit log)' : `not available (ABI 7)`,
  ]);
  const requiredMissing = [
    ...describeRights('fs', (READ_EXEC | WRITE) & ~row.fs),
    ...describeRights('fs', FS.IOCTL_DEV & ~row.fs).map((r) => `${r} for devices`),
    ...describeRights('scoped', SCOPE.ABSTRACT_UNIX_SOCKET & ~row.scoped).map((r) => `${r} for network "host"`),
  ];
  lines.push([
    '  "required"',
    requiredMissing.length === 0
      ? 'every profile can start'
      : `refused for profiles that need ${requiredMissing.join(', ')}`,
  ]);
  return lines;
}

/**
 * Network "private" (pasta and a tun device this user may open) and allow
 * lists (tsjail-net-proxy beside the shim): what a profile asking for them
 * gets here. Neither is a failure of the machine: without pasta a profile
 * uses its network.fallback or does not start.
 */
export function privateNetworkReport(env: NodeJS.ProcessEnv, shim: string | undefined): [string, string][] {
  const p = probePrivateNetwork(env);
  const lines: [string, string][] = [
    [
      'private network',
      p.unavailable === undefined
        ? `available: pasta ${p.pasta}, /dev/net/tun readable and writable`
        : `NOT AVAILABLE: ${p.unavailable}`,
    ],
  ];
  if (p.unavailable !== undefined)
    lines.push([
      '',
      'profiles with network "private" use their network.fallback (browsers, mail: "host") or do not start',
    ]);
  let proxy: string;
  try {
    proxy = shim === undefined ? 'MISSING: no shim to find it beside' : `available: ${findNetProxy(shim)}`;
  } catch (e) {
    proxy = `MISSING: ${(e as Error).message}`;
  }
  lines.push(['allow lists', `${proxy} (no tun device needed)`]);
  return lines;
}

export class DoctorCommand extends BaseCommand {
  static override paths = [['doctor']];
  static override usage = Command.Usage({ description: 'kernel features found and what tsjail will use' });
  async execute(): Promise<number> {
    let ok = true;
    // First, so a bad TSJAIL_LANDLOCK_ABI is the only thing said.
    const ll = landlockAbi(process.env);
    const line = (label: string, value: string): void => out(`${label.padEnd(20)} ${value}`);
    line('kernel', `${readText('/proc/sys/kernel/osrelease') ?? '?'} (${hostArch()})`);

    let shim: string | undefined;
    let shimMissing: string | undefined;
    try {
      shim = findShim();
    } catch (e) {
      shimMissing = (e as Error).message;
    }
    const u = checkUserns(shim);
    line('user namespaces', u.ok ? 'available' : `REFUSED: ${u.message}`);
    if (!u.ok) {
      ok = false;
      line('', `fix: ${u.hint}`);
    }

    const boot = landlockBoot(ll, readText('/sys/kernel/security/lsm'));
    if (ll.kernelAbi === 0) {
      line('landlock', `NOT AVAILABLE: ${boot}`);
      line(
        '',
        'tsjail will rely on the mount view alone; profiles with landlock: "required" or TCP port lists will not start',
      );
    } else {
      const newer = ll.kernelAbi > LATEST_ABI ? ` (tsjail knows up to ABI ${LATEST_ABI} and uses that)` : '';
      const lowered = ll.abi < ll.kernelAbi ? `, limited to ABI ${ll.abi} by TSJAIL_LANDLOCK_ABI` : '';
      line('landlock', `ABI ${ll.kernelAbi}${newer}${lowered}; ${boot}`);
      const row = abiRow(ll.abi);
      if (!row) {
        line('', 'tsjail will not use it (TSJAIL_LANDLOCK_ABI=0)');
      } else {
        for (const [label, value] of landlockEnforcement(row)) line(label, value);
      }
    }

    const status = readText('/proc/self/status') ?? '';
    const seccomp = /^Seccomp:/m.test(status);
    line(
      'seccomp filters',
      seccomp ? `available; tsjail compiles its own allowlist for ${hostArch()}` : 'NOT AVAILABLE',
    );
    if (!seccomp) ok = false;
    line(
      'memfd',
      probeMemfdNoexecSeal()
        ? 'only sealed against exec (MFD_NOEXEC_SEAL); others get ENOSYS and programs fall back to /dev/shm (noexec)'
        : 'refused (no MFD_NOEXEC_SEAL before Linux 6.3); programs fall back to /dev/shm (noexec)',
    );
    const me = os.userInfo();
    for (const [label, value] of cgroupReport(me.uid, me.username, process.env)) line(label, value);
    if (shim !== undefined) line('shim', shim);
    else {
      line('shim', `MISSING: ${shimMissing}`);
      ok = false;
    }
    for (const [label, value] of privateNetworkReport(process.env, shim)) line(label, value);
    // Desktop integration (tsjail integrate): what goes through tsjail, and what does not.
    try {
      const apps = listApps(integrateContext(false)).filter((a) => a.state !== 'not installed');
      const integrated = apps.filter((a) => a.integrated).map((a) => a.profile);
      line('integrated', integrated.length ? integrated.join(', ') : 'none (tsjail integrate APP...)');
      const bypassing = apps.filter((a) => a.integrated && a.state === 'bypassing');
      line('bypassing tsjail:', bypassing.length ? '' : 'no launcher of an integrated app');
      for (const a of bypassing) for (const r of a.reasons) line('', `${a.profile}: ${r}`);
    } catch (e) {
      line('integrated', `cannot tell: ${(e as Error).message}`);
    }
    return ok ? 0 : 125;
  }
}
