/**
 * What the command line says when it is used wrong: value names in the
 * help (clipanion itself writes `#0`), the nearest option to a mistyped one,
 * the nearest verb to a program that is not found, and a parse error turned
 * into one line that says what to type instead (clipanion's own "did you mean
 * one of:" is followed by a list on further lines, which one-line errors cut).
 */
import { closest, editDistance } from '../profile/index.js';

/** The value each option takes, by any of its names, as the help shows it. */
export const VALUE_NAMES: Readonly<Record<string, string>> = {
  '--profile': 'NAME|PATH',
  '--ro': 'PATH',
  '--rw': 'PATH',
  '--tmpfs': 'PATH',
  '--deny': 'PATH',
  '--net': 'none|host',
  '--env': 'NAME=VALUE',
  '--socket': 'NAME',
  '--include': 'SNIPPET',
  '--output': 'FILE',
  '--arch': 'ARCH',
  '--name': 'NAME',
  '--report-fd': 'N',
};

/**
 * The verbs a mistyped PROGRAM may have meant (SPEC's, including those that
 * arrive with later issues): `tsjail doctr` is more likely a typo than a
 * program named doctr.
 */
export const VERB_NAMES = ['doctor', 'profile', 'seccomp', 'ps', 'enter', 'stop', 'integrate', 'learn'];

/** clipanion's `--ro #0` as `--ro PATH`, in any usage text. */
export function nameValues(text: string): string {
  return text.replace(/((?:-[A-Za-z],)?--?[A-Za-z][A-Za-z-]*) #0/g, (_match: string, names: string) => {
    const long = names.split(',').find((n) => n.startsWith('--')) ?? names;
    const value = VALUE_NAMES[long];
    return value === undefined ? `${names} VALUE` : `${names} ${value}`;
  });
}

/** The verb `program` is a typo of (edit distance 1 or 2), if any. */
export function verbTypo(program: string): string | undefined {
  if (program.includes('/') || VERB_NAMES.includes(program)) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const v of VERB_NAMES) {
    const d = editDistance(program, v);
    // A two-letter verb is one letter from too many words: ps only for distance 1.
    if (d < bestDistance && (d === 1 || v.length > 3)) {
      best = v;
      bestDistance = d;
    }
  }
  return best;
}

/** A command's options as clipanion lists them (`-p,--profile #0`), split into names. */
export interface CommandShape {
  /** The verb path (`profile list`), empty for run. */
  path: string;
  usage: string;
  options: string[];
  /** Options that take a value. */
  valued: string[];
}

export function shapeOf(path: string, usage: string, definitions: readonly string[]): CommandShape {
  const options: string[] = [];
  const valued: string[] = [];
  for (const d of definitions) {
    const [names, value] = d.split(' ');
    for (const n of names!.split(',')) {
      options.push(n);
      if (value !== undefined) valued.push(n);
    }
  }
  return { path, usage: nameValues(usage), options, valued };
}

/**
 * One line for a command line clipanion could not parse: what was wrong and
 * what to type, never an empty "did you mean".
 */
export function explainParseError(argv: readonly string[], shapes: readonly CommandShape[], message: string): string {
  const first = message.split('\n')[0]!.trim();
  const unknown = /^Unsupported option name \("(.*)"\)/.exec(first);
  if (unknown) {
    const opt = unknown[1]!.split('=')[0]!;
    const all = [...new Set(shapes.flatMap((s) => s.options))].filter((o) => o.startsWith('--'));
    const near = opt.startsWith('--') ? closest(opt, all) : undefined;
    return near === undefined
      ? `unknown option ${opt}; see \`tsjail --help\``
      : `unknown option ${opt}; did you mean ${near}?`;
  }
  // A verb without its subcommand: `tsjail profile`, `tsjail seccomp`.
  const verbShapes = shapes.filter((s) => s.path !== '' && s.path.split(' ')[0] === argv[0]);
  if (verbShapes.length > 0 && !verbShapes.some((s) => s.path === argv.slice(0, s.path.split(' ').length).join(' '))) {
    const subs = verbShapes.map((s) => s.path.split(' ').slice(1).join(' '));
    const got = argv[1];
    const near = got === undefined ? undefined : closest(got, subs);
    const what = got === undefined ? `tsjail ${argv[0]} needs a subcommand` : `tsjail ${argv[0]} ${got}: unknown`;
    return `${what}; ${near !== undefined ? `did you mean \`tsjail ${argv[0]} ${near}\`?` : `one of: ${subs.join(', ')}`}`;
  }
  // An option that takes a value, given none: `tsjail -p`.
  const valued = new Set(shapes.flatMap((s) => s.valued));
  const last = argv[argv.length - 1];
  if (last !== undefined && valued.has(last.split('=')[0]!) && !last.includes('=')) {
    const long = VALUE_NAMES[last] ?? VALUE_NAMES[longName(shapes, last) ?? ''] ?? 'a value';
    return `${last} needs a value (${long})`;
  }
  if (/^Command not found/.test(first)) {
    const usage = shapes.find((s) => s.path === argv[0])?.usage;
    if (usage !== undefined) return `usage: ${usage}`;
    return argv.some((a) => !a.startsWith('-'))
      ? `cannot make sense of ${JSON.stringify(argv.join(' '))}; see \`tsjail --help\``
      : 'no PROGRAM given: usage: tsjail [OPTIONS] PROGRAM [ARGS...]; see `tsjail --help`';
  }
  return first.replace(/ #0\b/g, '');
}

function longName(shapes: readonly CommandShape[], short: string): string | undefined {
  for (const s of shapes) {
    const i = s.options.indexOf(short);
    const next = s.options[i + 1];
    if (i >= 0 && next?.startsWith('--')) return next;
  }
  return undefined;
}
