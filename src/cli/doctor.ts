/**
 * `tsjail doctor`: what the kernel offers and what tsjail will use of it,
 * layer by layer. Exit 0 when tsjail can run here, 125 when it cannot.
 */
import * as fs from 'node:fs';
import { Command } from 'clipanion';
import { findShim } from '../launch/shim-path.js';
import { abiRow, firstAbiOf, LATEST_ABI, NET, rightNames, SCOPE } from '../landlock/abi.js';
import { hostArch } from '../seccomp/compile.js';
import { landlockAbi } from '../sys/features.js';
import { checkUserns } from '../sys/userns.js';
import { BaseCommand } from './base.js';
import { out } from './output.js';

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export class DoctorCommand extends BaseCommand {
  static override paths = [['doctor']];
  static override usage = Command.Usage({ description: 'kernel features found and what tsjail will use' });
  async execute(): Promise<number> {
    let ok = true;
    const line = (label: string, value: string): void => out(`${label.padEnd(20)} ${value}`);
    line('kernel', `${readText('/proc/sys/kernel/osrelease') ?? '?'} (${hostArch()})`);

    const u = checkUserns();
    line('user namespaces', u.ok ? 'available' : `REFUSED: ${u.message}`);
    if (!u.ok) {
      ok = false;
      line('', `fix: ${u.hint}`);
    }

    const ll = landlockAbi(process.env);
    const lsm = readText('/sys/kernel/security/lsm');
    const boot = lsm === undefined ? 'active LSMs unknown (securityfs not mounted)' : `active LSMs: ${lsm}`;
    if (ll.kernelAbi === 0) {
      line('landlock', `NOT AVAILABLE: ${ll.unavailable}; ${boot}`);
      line('', 'tsjail will rely on the mount view alone; profiles with landlock: "required" or TCP port lists will not start');
    } else {
      const lowered = ll.abi < ll.kernelAbi ? `, limited to ABI ${ll.abi} by TSJAIL_LANDLOCK_ABI` : '';
      line('landlock', `ABI ${ll.kernelAbi}${lowered}; ${boot}`);
      const row = abiRow(ll.abi);
      if (!row) {
        line('', 'tsjail will not use it (TSJAIL_LANDLOCK_ABI=0)');
      } else {
        line('  filesystem', `enforced: ${rightNames('fs', row.fs).join(' ')}`);
        const missingFs = rightNames('fs', abiRow(LATEST_ABI)!.fs & ~row.fs);
        if (missingFs.length) line('', `not enforced here: ${missingFs.join(' ')}`);
        line('  tcp ports', row.net & NET.CONNECT_TCP ? 'enforced where a profile lists them' : `not available (ABI ${firstAbiOf('net', NET.CONNECT_TCP)}): profiles listing ports will not start`);
        line(
          '  scoping',
          row.scoped & SCOPE.ABSTRACT_UNIX_SOCKET
            ? 'abstract unix sockets and signals stay inside the sandbox'
            : `not available (ABI ${firstAbiOf('scoped', SCOPE.ABSTRACT_UNIX_SOCKET)}): with network "host" the host's abstract sockets (X11, D-Bus) are reachable`,
        );
        line('  audit', row.restrictFlags ? 'denials logged with --log-denials (kernel audit log)' : `not available (ABI 7)`);
      }
    }

    const status = readText('/proc/self/status') ?? '';
    const seccomp = /^Seccomp:/m.test(status);
    line('seccomp filters', seccomp ? `available; tsjail compiles its own allowlist for ${hostArch()}` : 'NOT AVAILABLE');
    if (!seccomp) ok = false;
    try {
      line('shim', findShim());
    } catch (e) {
      line('shim', `MISSING: ${(e as Error).message}`);
      ok = false;
    }
    return ok ? 0 : 125;
  }
}
