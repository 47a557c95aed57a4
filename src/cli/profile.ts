/**
 * `tsjail profile list|show|check|explain`: look at profiles without running
 * anything.
 */
import { Command, Option } from 'clipanion';
import { listProfiles, loadProfile, tryLoadProfile } from '../profile/index.js';
import { checkSandbox } from '../launch/sandbox.js';
import { explainProfile } from '../policy/explain.js';
import { currentCaller, loadOptions } from './context.js';
import { BaseCommand } from './base.js';
import { out, say } from './output.js';

export class ProfileListCommand extends BaseCommand {
  static override paths = [['profile', 'list']];
  static override usage = Command.Usage({
    description: 'list the profiles on the search path, with their source file',
  });
  async execute(): Promise<number> {
    const list = listProfiles(loadOptions(currentCaller()));
    const width = Math.max(4, ...list.map((p) => p.name.length));
    for (const p of list) out(`${p.name.padEnd(width)}  ${p.file}${p.description ? `  (${p.description})` : ''}`);
    return 0;
  }
}

export class ProfileShowCommand extends BaseCommand {
  static override paths = [['profile', 'show']];
  static override usage = Command.Usage({ description: 'print the merged, expanded profile as JSON' });
  name = Option.String({ name: 'NAME' });
  async execute(): Promise<number> {
    const p = loadProfile(this.name, loadOptions(currentCaller()));
    out(JSON.stringify(p, null, 2));
    return 0;
  }
}

export class ProfileCheckCommand extends BaseCommand {
  static override paths = [['profile', 'check']];
  static override usage = Command.Usage({
    description: 'validate profiles as run would: errors as FILE:LINE[:COL]: message',
    details: `
      A profile passes when \`tsjail -p PROFILE\` would plan its sandbox on this machine: besides the file's syntax and keys, the seccomp filter is compiled for this machine's architecture and the mount view, D-Bus rules and launch plan are built as run builds them.
      What depends on the moment of the launch does not count: absent paths and sockets (run skips them), the desktop session, and what the kernel offers (see \`tsjail doctor\`).
    `,
    examples: [['Check a profile you are writing', '$0 profile check ./myapp.json5']],
  });
  names = Option.Rest({ name: 'NAME|PATH', required: 1 });
  async execute(): Promise<number> {
    const caller = currentCaller();
    const opts = loadOptions(caller);
    let failed = false;
    for (const name of this.names) {
      const { profile, errors } = tryLoadProfile(name, opts);
      const all: Error[] = profile ? checkSandbox(profile, caller) : errors;
      for (const e of all) say(e.message);
      failed ||= all.length > 0;
    }
    if (!failed) out(`${this.names.join(', ')}: ok`);
    return failed ? 125 : 0;
  }
}

export class ProfileExplainCommand extends BaseCommand {
  static override paths = [['profile', 'explain']];
  static override usage = Command.Usage({ description: 'what the application may do, in plain words' });
  name = Option.String({ name: 'NAME' });
  async execute(): Promise<number> {
    const caller = currentCaller();
    const p = loadProfile(this.name, loadOptions(caller));
    out(explainProfile(p, caller));
    return 0;
  }
}
