/**
 * main.ts splits `tsjail [OPTIONS] PROGRAM ARGS...` at PROGRAM without
 * building clipanion's parser, from two hand-kept lists: the run options
 * that take a value and the verbs. A list that falls behind the commands
 * would hand an option's value to the program (or run a verb as a
 * program): both are held here to what the registered commands declare.
 */
import { Cli } from 'clipanion';
import t from 'tap';
import { COMMANDS, RUN_VALUE_OPTIONS, splitAtProgram, VERBS } from '../../../src/cli/main.js';

const cli = new Cli({ binaryName: 'tsjail' });
for (const c of COMMANDS) cli.register(c);
const defs = cli.definitions();

t.test('the run options that take a value are exactly those main.ts skips over', async (t) => {
  const run = defs.filter((d) => d.path === 'tsjail run' || d.path === 'tsjail');
  t.ok(run.length > 0, 'the run command is registered');
  const declared = new Set<string>();
  for (const d of run)
    for (const o of d.options) {
      const [names, value] = o.definition.split(' ');
      if (value !== undefined) for (const n of names!.split(',')) declared.add(n);
    }
  t.ok(declared.has('--profile'), 'clipanion reports value options as "NAMES #0"');
  t.same([...RUN_VALUE_OPTIONS].sort(), [...declared].sort());
});

t.test('every registered verb is a verb to main.ts, and nothing else is', async (t) => {
  // Each class's own paths: clipanion's definitions leave hidden verbs (__complete) out.
  const words = new Set(COMMANDS.flatMap((c) => (c.paths ?? []).map((p) => p[0])).filter((w) => w !== undefined));
  t.ok(words.has('__complete') && words.has('--help'), 'hidden verbs and flag-like paths are seen');
  t.same([...VERBS].sort(), [...words].sort());
});

t.test('a value option is skipped with its value, a flag alone', async (t) => {
  t.same(splitAtProgram(['-p', 'firefox', '--ro', '/x', '-v', 'prog', '-p', 'y']), {
    head: ['-p', 'firefox', '--ro', '/x', '-v', 'prog'],
    rest: ['-p', 'y'],
  });
  t.same(splitAtProgram(['run', '--profile=untrusted', '--', '-x', 'a']), {
    head: ['run', '--profile=untrusted', '--', '-x'],
    rest: ['a'],
  });
  t.equal(splitAtProgram(['-p', 'firefox']), undefined, 'no program: clipanion says what is wrong');
});
