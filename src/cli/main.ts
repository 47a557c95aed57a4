/**
 * Entry point: builds the command line and maps every failure to SPEC's exit
 * statuses. A user's mistake (bad option, bad profile, missing kernel
 * feature) is one line on stderr and exit 125; nothing is started.
 */
import { Builtins, Cli } from 'clipanion';
import { BaseCommand } from './base.js';
import { DoctorCommand } from './doctor.js';
import { say } from './output.js';
import { ProfileCheckCommand, ProfileExplainCommand, ProfileListCommand, ProfileShowCommand } from './profile.js';
import { RunCommand } from './run.js';
import { SeccompCompileCommand, SeccompDisasmCommand } from './seccomp.js';
import { VERSION, VersionCommand } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const cli = new Cli({ binaryLabel: 'tsjail', binaryName: 'tsjail', binaryVersion: VERSION, enableCapture: false, enableColors: false });
  // Start-up: clipanion builds its parser from every registered command, so
  // a plain `tsjail PROGRAM ...` registers the run command alone.
  const verbs = new Set(['run', 'profile', 'seccomp', 'doctor', '--help', '-h', '--version']);
  const first = argv.find((a) => !a.startsWith('-') || verbs.has(a));
  const commands =
    first !== undefined && !verbs.has(first) && !argv.includes('--help') && !argv.includes('-h')
      ? [RunCommand]
      : [
          RunCommand,
          ProfileListCommand,
          ProfileShowCommand,
          ProfileCheckCommand,
          ProfileExplainCommand,
          DoctorCommand,
          SeccompCompileCommand,
          SeccompDisasmCommand,
          Builtins.HelpCommand,
          VersionCommand,
        ];
  for (const c of commands) cli.register(c);
  BaseCommand.verboseRequested = argv.some((a) => a === '-v' || a === '--verbose');
  let command;
  try {
    command = cli.process(argv);
  } catch (err) {
    // clipanion's parse errors carry the whole usage text; the first line names the problem.
    say((err as Error).message.split('\n')[0]!.trim());
    say('see `tsjail --help`');
    return 125;
  }
  const code = await cli.run(command, {});
  return command instanceof BaseCommand && command.failure !== undefined ? command.failure : code;
}
