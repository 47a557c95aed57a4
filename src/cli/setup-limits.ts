/**
 * `tsjail setup-limits USER [--parent self|root] [--remove]` (SPEC v2, root
 * only): delegate a cgroup subtree to USER where systemd does not
 * (src/cgroup/setup.ts), or undo it.
 */
import * as fs from 'node:fs';
import { Command, Option, UsageError } from 'clipanion';
import { requireRoot, setupLimits, type SetupUser } from '../cgroup/setup.js';
import { TsjailError } from '../errors.js';
import { BaseCommand } from './base.js';
import { out } from './output.js';

/** USER's uid and gid from /etc/passwd. */
function lookUp(name: string): SetupUser {
  const line = (fs.readFileSync('/etc/passwd', 'utf8').split('\n') ?? []).find((l) => l.split(':')[0] === name);
  const f = line?.split(':');
  if (!f || f.length < 4) throw new TsjailError(`setup-limits: no user ${JSON.stringify(name)} in /etc/passwd`);
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

export class SetupLimitsCommand extends BaseCommand {
  static override paths = [['setup-limits']];
  static override usage = Command.Usage({
    description: 'delegate a cgroup subtree to USER for limits.memory, pids and cpu (root only)',
    details: `
      Where systemd does not delegate cgroups (cgroup v1 controllers: a hybrid or legacy machine), creates tsjail-USER owned by USER in each hierarchy with the memory, pids or cpu controller, below the cgroup this command runs in (--parent self, the default) or below each hierarchy's top (--parent root), and records it in /etc/tsjail/limits.json5. \`--remove\` undoes it.
    `,
    examples: [
      ['Delegate below the cgroup of this shell', '$0 setup-limits alice --parent self'],
      ['Undo it', '$0 setup-limits alice --parent self --remove'],
    ],
  });

  user = Option.String({ name: 'USER' });
  parent = Option.String('--parent', 'self', {
    description: "self (this process's cgroup) or root (each hierarchy's top)",
  });
  remove = Option.Boolean('--remove', false, { description: 'remove what was set up for USER and this parent' });

  async execute(): Promise<number> {
    if (this.parent !== 'self' && this.parent !== 'root')
      throw new UsageError(`--parent: expected "self" or "root", got ${JSON.stringify(this.parent)}`);
    requireRoot();
    const r = setupLimits(lookUp(this.user), this.parent, { remove: this.remove });
    for (const l of r.lines) out(l);
    return r.ok ? 0 : 125;
  }
}
