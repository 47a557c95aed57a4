/**
 * `tsjail completion bash|zsh|fish`: a completion script for that shell.
 * The scripts are thin: on every TAB they ask `tsjail __complete
 * WORDS...` (the words after `tsjail`, the last one being completed) and
 * print what it answers, so verbs, options, profile names and sandbox IDs
 * come from the running tsjail itself, the same for all three shells. The
 * verbs and options are read from the registered commands (clipanion's
 * definitions); a positional's name says what it takes (NAME: a profile,
 * PATH or FILE: a file, SHELL: a shell, ID|NAME: a running sandbox), and
 * what follows the positionals of a verb with more (`enter ID CMD...`) is
 * a command.
 *
 * The answer is one candidate a line; `@files` asks the shell to complete
 * file names as well, `@commands` command names (PROGRAM).
 */
import { Command, Option, UsageError } from 'clipanion';
import { profileNames } from '../profile/index.js';
import { listSandboxes, recordDir } from '../session/records.js';
import { BaseCommand } from './base.js';
import { currentCaller, loadOptions } from './context.js';
import { out } from './output.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** What completion needs of one verb: its words, options (with whether they take a value), positionals. */
export interface VerbSpec {
  path: string[];
  options: { names: string[]; value: boolean }[];
  positionals: string[];
  /** Whether more arguments follow the positionals (`...`). */
  rest: boolean;
}

/** The verbs as clipanion describes them (`tsjail profile show <NAME>`). */
export function verbSpecs(defs: { path: string; usage: string; options: { definition: string }[] }[]): VerbSpec[] {
  return defs.map((d) => {
    const path = d.path.split(' ').slice(1);
    const usage = d.usage.split(' ').slice(1 + path.length);
    return {
      path,
      options: d.options.map((o) => {
        const [names, value] = o.definition.split(' ');
        return { names: names!.split(','), value: value !== undefined };
      }),
      rest: usage.includes('...'),
      positionals: usage
        .filter((w) => /^[<[]/.test(w) && !w.startsWith('[-'))
        .map((w) => w.replace(/^[<[]|[>\]]$|\.\.\.$/g, '').replace(/[>\]]$/, '')),
    };
  });
}

/** The sources of dynamic candidates. */
export interface Candidates {
  profiles(): string[];
  /** The caller's running sandboxes: their IDs and names. */
  sandboxes(): string[];
}

/** What a positional named NAME takes, from its words (NAME|PATH: profiles and files; ID|NAME: sandboxes). */
function forPositional(name: string, c: Candidates): string[] {
  if (name === 'ID|NAME') return c.sandboxes();
  const kinds = name.split('|');
  const outp: string[] = [];
  for (const k of kinds) {
    if (k === 'NAME') outp.push(...c.profiles());
    else if (k === 'PATH' || k === 'FILE') outp.push('@files');
    else if (k === 'SHELL') outp.push(...SHELLS);
  }
  return outp;
}

/** Values of the run options that take one. */
function forRunValue(opt: string, c: Candidates): string[] {
  if (opt === '-p' || opt === '--profile') return [...c.profiles(), '@files'];
  if (opt === '--net') return ['none', 'host'];
  if (opt === '--env') return [];
  return ['@files'];
}

const GLOBAL = ['--help', '--version'];

/**
 * Candidates for the last of WORDS (the words after `tsjail`), filtered by
 * its prefix; markers (@files, @commands) are kept for the shell.
 */
export function complete(words: readonly string[], specs: readonly VerbSpec[], c: Candidates): string[] {
  const cur = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const keep = (list: string[]): string[] => [...new Set(list.filter((w) => w.startsWith('@') || w.startsWith(cur)))];
  const run = specs.find((s) => s.path.length === 1 && s.path[0] === 'run');
  const optsOf = (s: VerbSpec | undefined) => (s ? s.options.flatMap((o) => o.names) : []);
  const takesValue = (s: VerbSpec | undefined, w: string) => s?.options.some((o) => o.value && o.names.includes(w));

  // The verb: the longest path the words start with (not `run`, which is also the default).
  const verb = [...specs]
    .filter((s) => s.path[0] !== 'run' && s.path.every((p, i) => before[i] === p))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (verb) {
    const rest = before.slice(verb.path.length);
    const prev = rest[rest.length - 1];
    if (prev !== undefined && takesValue(verb, prev)) return keep(['@files']);
    if (cur.startsWith('-')) return keep([...optsOf(verb), '--help']);
    let n = 0;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i]!.startsWith('-')) i += takesValue(verb, rest[i]!) ? 1 : 0;
      else n++;
    }
    const last = verb.positionals[verb.positionals.length - 1];
    const pos = verb.positionals[n] ?? (last === 'NAME|PATH' ? last : undefined);
    if (pos === undefined) return keep(verb.rest ? ['@commands'] : []);
    return keep(forPositional(pos, c));
  }
  // A verb's first words, not yet complete: offer the verbs beside programs.
  const partial = specs.filter(
    (s) => s.path.length > before.length && s.path.slice(0, before.length).every((p, i) => before[i] === p),
  );
  if (before.length > 0 && before[0] !== 'run' && partial.length > 0) {
    return keep(partial.map((s) => s.path[before.length]!));
  }
  // run: options up to PROGRAM, then the program's own arguments (files).
  const start = before[0] === 'run' ? 1 : 0;
  for (let i = start; i < before.length; i++) {
    const w = before[i]!;
    if (w === '--') return i === before.length - 1 ? keep(['@commands']) : keep(['@files']);
    if (!w.startsWith('-')) return keep(['@files']);
    if (takesValue(run, w)) {
      if (i === before.length - 1) return keep(forRunValue(w, c));
      i++;
    }
  }
  if (cur.startsWith('-')) return keep([...optsOf(run), ...(before.length === 0 ? GLOBAL : [])]);
  const verbs = before.length === 0 ? [...new Set(specs.map((s) => s.path[0]!).filter((w) => !/^[-_]/.test(w)))] : [];
  return keep([...verbs, '@commands']);
}

export function completionScript(shell: (typeof SHELLS)[number]): string {
  switch (shell) {
    case 'bash':
      return `# bash completion for tsjail (tsjail completion bash)
_tsjail() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line files=0 commands=0
  local -a out
  mapfile -t out < <(tsjail __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=()
  for line in "\${out[@]}"; do
    case $line in
      @files) files=1 ;;
      @commands) commands=1 ;;
      *) COMPREPLY+=("$line") ;;
    esac
  done
  if [ "$files" = 1 ]; then
    compopt -o filenames 2>/dev/null
    mapfile -t -O "\${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
  fi
  if [ "$commands" = 1 ]; then
    mapfile -t -O "\${#COMPREPLY[@]}" COMPREPLY < <(compgen -c -- "$cur")
  fi
}
complete -F _tsjail tsjail
`;
    case 'zsh':
      return `#compdef tsjail
# zsh completion for tsjail (tsjail completion zsh)
_tsjail() {
  local -a out cands
  out=("\${(@f)$(tsjail __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  cands=(\${out:#@*})
  (( \${#cands} )) && compadd -- "\${cands[@]}"
  (( \${out[(Ie)@files]} )) && _files
  (( \${out[(Ie)@commands]} )) && _command_names -e
  return 0
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _tsjail "$@"
else
  compdef _tsjail tsjail
fi
`;
    case 'fish':
      return `# fish completion for tsjail (tsjail completion fish)
function __tsjail_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    for line in (tsjail __complete $words $cur 2>/dev/null)
        switch $line
            case @files
                __fish_complete_path $cur
            case @commands
                __fish_complete_command $cur
            case '*'
                echo $line
        end
    end
end
complete -c tsjail -f -a '(__tsjail_complete)'
`;
  }
}

export class CompletionCommand extends BaseCommand {
  static override paths = [['completion']];
  static override usage = Command.Usage({
    description: 'print the completion script for bash, zsh or fish',
    details: `
      Load it from the shell's start-up file: \`source <(tsjail completion bash)\` (bash, zsh), \`tsjail completion fish | source\` (fish); the packages install the scripts where each shell finds them.
      The scripts complete verbs, options, profile names from the search path and the IDs and names of running sandboxes (enter, stop) by asking tsjail itself (\`tsjail __complete WORDS...\`, one candidate a line).
    `,
    examples: [['Complete tsjail in bash from now on', 'echo "source <(tsjail completion bash)" >> ~/.bashrc']],
  });
  shell = Option.String({ name: 'SHELL' });

  async execute(): Promise<number> {
    if (!(SHELLS as readonly string[]).includes(this.shell)) {
      throw new UsageError(`completion: SHELL must be one of ${SHELLS.join(', ')}, got ${JSON.stringify(this.shell)}`);
    }
    this.context.stdout.write(completionScript(this.shell as (typeof SHELLS)[number]));
    return 0;
  }
}

/** `tsjail __complete WORDS...`: what the scripts call on TAB (not listed in --help: it has no usage). */
export class CompleteCommand extends BaseCommand {
  static override paths = [['__complete']];
  words = Option.Proxy();

  async execute(): Promise<number> {
    const caller = currentCaller();
    const candidates: Candidates = {
      profiles: () => profileNames(loadOptions(caller)),
      sandboxes: () =>
        listSandboxes(recordDir(caller.env, caller.uid), caller.uid).flatMap((s) =>
          s.meta.name ? [s.id, s.meta.name] : [s.id],
        ),
    };
    for (const w of complete(this.words, verbSpecs(this.cli.definitions()), candidates)) out(w);
    return 0;
  }
}
