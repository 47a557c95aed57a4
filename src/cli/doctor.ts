/**
 * `tsjail doctor`: what the kernel offers and what tsjail will use of it.
 */
import * as fs from 'node:fs';
import { Command } from 'clipanion';
import { findShim } from '../launch/shim-path.js';
import { probeLandlockAbi } from '../sys/kernel.js';
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
    const line = (label: string, value: string): void => out(`${label.padEnd(22)} ${value}`);
    line('kernel', `${readText('/proc/sys/kernel/osrelease') ?? '?'} (${process.arch})`);
    const u = checkUserns();
    line('user namespaces', u.ok ? 'available' : `REFUSED: ${u.message}`);
    if (!u.ok) ok = false;
    const ll = probeLandlockAbi();
    if (ll.abi > 0) line('landlock', `ABI ${ll.abi}`);
    else {
      const why = 'reason' in ll ? ll.reason : 'error';
      line(
        'landlock',
        why === 'disabled'
          ? 'built into the kernel but not enabled at boot (add "landlock" to the lsm= boot parameter)'
          : why === 'not-built'
            ? 'not built into this kernel'
            : `unusable (errno ${'errno' in ll ? ll.errno : '?'})`,
      );
    }
    const status = readText('/proc/self/status') ?? '';
    line('seccomp filters', /^Seccomp:/m.test(status) ? 'available' : 'not available');
    try {
      line('shim', findShim());
    } catch (e) {
      line('shim', `MISSING: ${(e as Error).message}`);
      ok = false;
    }
    return ok ? 0 : 125;
  }
}
