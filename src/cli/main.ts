/**
 * Entry point: builds the command line and maps every failure to SPEC's exit
 * statuses. A user's mistake (bad option, bad profile, missing kernel
 * feature) is one line on stderr and exit 125; nothing is started.
 */
import * as path from 'node:path';
import { Builtins, Cli, type BaseContext } from 'clipanion';
import { BaseCommand } from './base.js';
import { CompleteCommand, CompletionCommand } from './completion.js';
import { DoctorCommand } from './doctor.js';
import { explainParseError, nameValues, shapeOf } from './hints.js';
import { say } from './output.js';
import { ProfileCheckCommand, ProfileExplainCommand, ProfileListCommand, ProfileShowCommand } from './profile.js';
import { IntegrateCommand } from './integrate.js';
import { LearnCommand } from './learn.js';
import { RunCommand } from './run.js';
import { EnterCommand, PsCommand, StopCommand } from './sandboxes.js';
import { SetupLimitsCommand } from './setup-limits.js';
import { SeccompCompileCommand, SeccompDisasmCommand } from './seccomp.js';
import { VERSION, VersionCommand } from './version.js';

/**
 * Options of the run verb that take a value, for splitting only: kept by
 * hand so that a plain launch need not build clipanion's parser;
 * test/unit/cli/options.test.ts holds it equal to RunCommand's own options.
 */
const PATH_OPTIONS = ['--ro', '--rw', '--tmpfs', '--deny'];
export const RUN_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  '-p',
  '--profile',
  ...PATH_OPTIONS,
  '--net',
  '--allow-host',
  '--env',
  '--name',
  '--socket',
  '--include',
  '--memory',
  '--pids',
  '--cpu',
  '--root',
  '--uid',
  '--report-fd',
]);
/** The first words that are not a program (the same test holds it equal to the registered verbs). */
export const VERBS: ReadonlySet<string> = new Set([
  'run',
  'profile',
  'seccomp',
  'doctor',
  'ps',
  'enter',
  'stop',
  'completion',
  '__complete',
  'integrate',
  'learn',
  'setup-limits',
  '--help',
  '-h',
  '--version',
]);
/** clipanion's parser is quadratic in the number of tokens: tsjail's own options are capped. */
export const MAX_OPTION_TOKENS = 1024;

/**
 * Split `[run] [OPTIONS] [--] PROGRAM ARGS...` at PROGRAM: clipanion parses
 * the head, and ARGS are handed to the program untouched without going
 * through its parser (tens of thousands of file names must stay cheap).
 * Returns undefined when there is no PROGRAM (help, errors: clipanion says).
 */
export function splitAtProgram(argv: string[]): { head: string[]; rest: string[] } | undefined {
  let i = argv[0] === 'run' ? 1 : 0;
  while (i < argv.length) {
    const tok = argv[i]!;
    if (tok === '--') return i + 1 < argv.length ? { head: argv.slice(0, i + 2), rest: argv.slice(i + 2) } : undefined;
    if (tok.startsWith('-') && tok !== '-') {
      i += RUN_VALUE_OPTIONS.has(tok) ? 2 : 1;
      continue;
    }
    return { head: argv.slice(0, i + 1), rest: argv.slice(i + 1) };
  }
  return undefined;
}

/** clipanion's help with value names (`--ro PATH`) where it writes `#0`, before it aligns the columns. */
class TsjailCli extends Cli<BaseContext> {
  protected override getUsageByIndex(...args: Parameters<Cli['getUsageByIndex']>): ReturnType<Cli['getUsageByIndex']> {
    const u = super.getUsageByIndex(...args);
    return {
      usage: nameValues(u.usage),
      options: u.options.map((o) => ({ ...o, definition: nameValues(o.definition) })),
    };
  }
}

/** Every command class, one per verb. */
export const COMMANDS = [
  RunCommand,
  ProfileListCommand,
  ProfileShowCommand,
  ProfileCheckCommand,
  ProfileExplainCommand,
  DoctorCommand,
  PsCommand,
  EnterCommand,
  StopCommand,
  IntegrateCommand,
  LearnCommand,
  SetupLimitsCommand,
  SeccompCompileCommand,
  SeccompDisasmCommand,
  CompletionCommand,
  CompleteCommand,
  Builtins.HelpCommand,
  VersionCommand,
];

/** Names under which tsjail runs as itself; any other name is a program to run (argv[0] dispatch). */
const OWN_NAMES = new Set(['tsjail', 'tsjail.js', 'tsjail.cjs', 'main.js']);

/**
 * `invokedAs` is the path tsjail was started through (process.argv[1]): a
 * symlink named after a program (`~/bin/firefox -> tsjail`) runs that
 * program under its profile, every argument its own. Which file that is
 * (never the link itself) is run.ts's to find.
 */
export async function main(argv: string[], invokedAs?: string): Promise<number> {
  const as = invokedAs === undefined ? undefined : path.basename(invokedAs);
  if (as !== undefined && as !== '' && !OWN_NAMES.has(as) && !as.startsWith('tsjail')) {
    RunCommand.dispatchedFrom = invokedAs;
    argv = ['run', '--', as, ...argv];
  }
  const cli = new TsjailCli({
    binaryLabel: 'tsjail',
    binaryName: 'tsjail',
    binaryVersion: VERSION,
    enableCapture: false,
    enableColors: false,
  });
  const verb = argv[0] !== undefined && VERBS.has(argv[0]) && argv[0] !== 'run';
  const split = verb ? undefined : splitAtProgram(argv);
  if (split && split.head.length > MAX_OPTION_TOKENS) {
    say(
      `too many options before the program (${split.head.length - 1}; at most ${MAX_OPTION_TOKENS - 1}): put long path lists in a profile`,
    );
    return 125;
  }
  // Start-up: clipanion builds its parser from every registered command, so
  // a plain `tsjail PROGRAM ...` registers the run command alone.
  const fast = split !== undefined && !split.head.includes('--help') && !split.head.includes('-h');
  for (const c of fast ? [RunCommand] : COMMANDS) cli.register(c);
  const head = fast ? split.head : argv;
  BaseCommand.verboseRequested = head.some((a) => a === '-v' || a === '--verbose');
  let command;
  try {
    command = cli.process(head);
  } catch (err) {
    // clipanion's parse errors carry the whole usage text over several
    // lines; the one line said names the problem and what to type instead.
    say(explainParseError(head, shapes(cli), (err as Error).message));
    return 125;
  }
  if (fast && command instanceof RunCommand) {
    command.args = [...command.args, ...split.rest];
    RunCommand.head = split.head;
  }
  const code = await cli.run(command, {});
  return command instanceof BaseCommand && command.failure !== undefined ? command.failure : code;
}

function shapes(cli: Cli): ReturnType<typeof shapeOf>[] {
  return cli.definitions().map((d) =>
    shapeOf(
      d.path.replace(/^tsjail ?/, ''),
      d.usage,
      d.options.map((o) => o.definition),
    ),
  );
}
