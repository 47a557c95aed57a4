/**
 * `tsjail integrate [--user|--system] APP...|--all`, `--list`, `--undo [APP...]`
 * (src/integrate/integrate.ts).
 */
import * as path from 'node:path';
import { Command, Option, UsageError } from 'clipanion';
import { integrate, listApps, undo, type IntegrateContext } from '../integrate/integrate.js';
import { searchPath } from '../profile/locate.js';
import { BaseCommand } from './base.js';
import { currentCaller } from './context.js';
import { out, say } from './output.js';

export function integrateContext(system: boolean): IntegrateContext {
  const c = currentCaller();
  return {
    env: c.env,
    home: c.home,
    system,
    tsjail: path.resolve(process.argv[1] ?? 'tsjail'),
    profileDirs: searchPath(c.env),
  };
}

export class IntegrateCommand extends BaseCommand {
  static override paths = [['integrate']];
  static override usage = Command.Usage({
    description: 'send menu, file-manager, D-Bus and PATH launches of applications through tsjail',
    details: `
      For each APP (a profile with a command list whose program is installed): a PATH wrapper, an override of
      every desktop entry that runs it (absolute Exec= paths too; DBusActivatable=true entries also get a D-Bus
      service file override), with the same desktop ID so MIME defaults use it. What it writes is recorded in
      $XDG_DATA_HOME/tsjail/integrated.json; a file it did not make is never overwritten or removed.
    `,
    examples: [
      ['Integrate Firefox for yourself', '$0 integrate firefox'],
      ['What still bypasses tsjail', '$0 integrate --list'],
      ['Restore exactly what was there before', '$0 integrate --undo'],
    ],
  });
  user = Option.Boolean('--user', false, { description: '~/.local/bin and $XDG_DATA_HOME (the default)' });
  system = Option.Boolean('--system', false, { description: '/usr/local/bin and /usr/local/share (root)' });
  all = Option.Boolean('--all', false, { description: 'every application with a profile that is installed' });
  list = Option.Boolean('--list', false, {
    description: 'each application: sandboxed, bypassing (where), not installed',
  });
  undoing = Option.Boolean('--undo', false, { description: 'remove what integrate made (for APPs, or all)' });
  apps = Option.Rest({ name: 'APP' });

  async execute(): Promise<number> {
    if (this.user && this.system) throw new UsageError('--user and --system exclude each other');
    const ctx = integrateContext(this.system);
    if (this.list) {
      for (const a of listApps(ctx)) {
        if (a.state === 'not installed' && !a.integrated) {
          out(`${a.profile}: not installed`);
          continue;
        }
        out(`${a.profile}: ${a.state}`);
        for (const r of a.reasons) out(`  ${r}`);
      }
      return 0;
    }
    if (this.undoing) {
      const r = undo(ctx, this.apps);
      for (const f of r.removed) out(`removed ${f}`);
      for (const f of r.changed) say(`${f}: changed since tsjail wrote it: left as it is`);
      return 0;
    }
    if (!this.all && this.apps.length === 0) throw new UsageError('name the applications to integrate, or --all');
    const r = integrate(ctx, this.all ? 'all' : this.apps);
    for (const f of r.written) out(`wrote ${f}`);
    for (const f of r.skipped) say(`${f}: exists and is not tsjail's: left alone (it bypasses tsjail)`);
    return r.skipped.length > 0 ? 1 : 0;
  }
}
