// Property fuzzing of the command line itself: random sequences of tsjail's
// options with good and bad values, run as the unprivileged user with
// --dry-run so nothing is started. The property: exit 0 with one JSON
// document on stdout, or exit 125 with one line on stderr and nothing on
// stdout; never a stack trace. Seeded (TSJAIL_FUZZ_SEED, TSJAIL_FUZZ_CLI_RUNS).
import t from 'tap';
import { rng } from './rng.js';
import * as path from 'node:path';
import { makeUserDir, removeDir, tsjailAsync, writeUserFile, type AsyncRunResult } from '../helpers/sandbox.js';

const SEED = Number(process.env.TSJAIL_FUZZ_SEED ?? 20261122);
const RUNS = Number(process.env.TSJAIL_FUZZ_CLI_RUNS ?? 60);

const dir = makeUserDir('clifuzz');
t.teardown(() => removeDir(dir));
writeUserFile(path.join(dir, 'ok.json5'), '{ filesystem: { tmpfs: ["${HOME}"] } }');
writeUserFile(path.join(dir, 'bad.json5'), '{ filesystem: { ro: [ }');
writeUserFile(path.join(dir, 'a b [c] *.txt'), 'x');

const OPTIONS = [
  '-p',
  '--profile',
  '--ro',
  '--rw',
  '--tmpfs',
  '--deny',
  '--net',
  '--env',
  '-v',
  '--verbose',
  '--dry-run',
  '--',
  'run',
  '--help',
  '--version',
  '-x',
  '--nope',
  '---',
  '-',
];
const VALUES = [
  '',
  ' ',
  '-',
  '--',
  'default',
  'untrusted',
  'firefox',
  'nope',
  'none',
  'host',
  'both',
  'A=B',
  'A',
  '=B',
  'PATH=',
  'A\nB=1',
  dir,
  path.join(dir, 'ok.json5'),
  path.join(dir, 'bad.json5'),
  path.join(dir, 'a b [c] *.txt'),
  path.join(dir, '*'),
  path.join(dir, 'missing'),
  '/',
  '/tmp',
  '/proc',
  '/proc/self',
  '/dev/null',
  '/etc/passwd',
  '/usr/../etc',
  'relative',
  '~',
  '~/x',
  '${HOME}',
  'x'.repeat(5000),
  '\u00ff\u2028',
  '/bin/true',
  'true',
  '--plan-fd',
  '3',
];

t.test(`command line: ${RUNS} random invocations (seed ${SEED})`, async (t) => {
  const r = rng(SEED);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const outcomes = { plan: 0, refused: 0 };
  // Every command line first (the seed alone decides them), then the runs,
  // a few side by side, then the checks in order.
  const invocations: string[][] = [];
  for (let i = 0; i < RUNS; i++) {
    const args = ['--dry-run'];
    for (let n = Math.floor(r() * 6); n > 0; n--) {
      args.push(pick(OPTIONS));
      if (r() < 0.7) args.push(pick(VALUES));
    }
    if (r() < 0.8)
      args.push('--', pick(['/bin/true', 'true', '-p', '--help', 'nope', '']), ...(r() < 0.5 ? [pick(VALUES)] : []));
    invocations.push(args);
  }
  const results: AsyncRunResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < RUNS; i = next++) results[i] = await tsjailAsync(invocations[i]!, { cwd: dir });
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  for (let i = 0; i < RUNS; i++) {
    const args = invocations[i]!;
    const got = results[i]!;
    // Plain ASCII in assertion names: TAP is line-based.
    const what = `run ${i}: ${JSON.stringify(args)
      .slice(0, 300)
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
    t.notMatch(
      got.stderr,
      /\n\s+at |TypeError|RangeError|ReferenceError|SyntaxError: Unexpected/,
      `${what}: no stack trace`,
    );
    if (got.status === 0 && got.stdout.trim().startsWith('{')) {
      t.doesNotThrow(() => JSON.parse(got.stdout), `${what}: one JSON document`);
      outcomes.plan++;
    } else if (got.status === 0) {
      // --help or --version before --dry-run took effect: text, no plan.
      t.equal(got.stderr.trim(), '', `${what}: help or version, nothing on stderr`);
    } else {
      t.equal(got.status, 125, `${what}: exit 125`);
      const lines = got.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('tsjail: see') && !l.startsWith('tsjail: hint'));
      t.equal(lines.length, 1, `${what}: one line`);
      t.equal(got.stdout, '', `${what}: nothing on stdout`);
      outcomes.refused++;
    }
  }
  t.ok(outcomes.plan > 0 && outcomes.refused > 0, `both plans (${outcomes.plan}) and refusals (${outcomes.refused})`);
});
