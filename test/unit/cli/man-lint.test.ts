/**
 * The man pages as installed: `mandoc -T lint` finds nothing in them (style
 * included), `man -l` renders them with every section, and tsjail-profile(5)
 * names every profile key of the contract (docs/SPEC.md v1 and v2, and the
 * keys this repository added), be it accepted or not yet.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import t from 'tap';
import { REPO } from '../../helpers/sandbox.js';

const PAGES = ['man/tsjail.1', 'man/tsjail-profile.5'];
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

t.test(
  'mandoc -T lint is clean',
  { skip: has('mandoc') ? false : 'mandoc is not installed (.ci/run installs it)' },
  async (t) => {
    for (const page of PAGES) {
      const r = spawnSync('mandoc', ['-T', 'lint', '-W', 'style', path.join(REPO, page)], { encoding: 'utf8' });
      t.equal(`${r.stdout}${r.stderr}`, '', page);
      t.equal(r.status, 0, page);
    }
  },
);

t.test(
  'man -l renders both pages',
  { skip: has('man') ? false : 'man-db is not installed (.ci/run installs it)' },
  async (t) => {
    for (const [page, sections] of [
      [
        'man/tsjail.1',
        [
          'NAME',
          'SYNOPSIS',
          'DESCRIPTION',
          'OPTIONS',
          'VERBS',
          'EXIT STATUS',
          'ENVIRONMENT',
          'FILES',
          'APPARMOR',
          'SEE ALSO',
        ],
      ],
      ['man/tsjail-profile.5', ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'KEYS', 'SNIPPETS', 'VARIABLES', 'SEE ALSO']],
    ] as const) {
      const r = spawnSync('man', ['-l', '-P', 'cat', path.join(REPO, page)], {
        encoding: 'utf8',
        env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' },
      });
      t.equal(r.status, 0, `${page}: ${r.stderr}`);
      t.equal(r.stderr, '', 'no warning from groff');
      for (const s of sections) t.match(r.stdout, new RegExp(`^${s}$`, 'm'), `${page}: ${s}`);
    }
  },
);

/** Every key path in a JSON5 example of the contract (env.set's names are examples, not keys). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return p === 'env.set' ? [p] : [p, ...keyPaths(v, p)];
  });
}

t.test('tsjail-profile(5) names every profile key of the contract', async (t) => {
  const spec = fs.readFileSync(path.join(REPO, 'docs', 'SPEC.md'), 'utf8');
  const blocks = [...spec.matchAll(/```json5\n([\s\S]*?)```/g)].map((m) => JSON5.parse(m[1]!) as unknown);
  t.equal(blocks.length, 2, 'the v1 and v2 examples');
  // Keys the contract names in its comments and lists rather than its examples.
  const named = [
    'network.mode',
    'network.tcp.connect',
    'network.tcp.bind',
    'network.allow',
    'limits.required',
    'limits.shm',
    'filesystem.unprotect',
    'network.unscopedAbstractSockets',
    'dbus.session.dangerouslyAllow',
    'dbus.system.dangerouslyAllow',
  ];
  for (const k of named) t.ok(spec.includes(k.split('.').pop()!), `SPEC names ${k}`);
  const keys = [...new Set([...blocks.flatMap((b) => keyPaths(b)), ...named])];
  const man = fs.readFileSync(path.join(REPO, 'man', 'tsjail-profile.5'), 'utf8');
  // A key is documented where it is set in bold: a word of a `.B`/`.BR`/`.RB`/`.BI` line or of `\fB...\fR`.
  const boldText = [...man.matchAll(/^\.(?:BR?|RB|BI|IB) (.*)$|\\fB(.*?)\\f[RP]/gm)].map((m) => m[1] ?? m[2] ?? '');
  const bold = new Set(
    boldText.flatMap((line) => line.match(/[A-Za-z][A-Za-z.]*/g) ?? []).map((w) => w.replace(/\.$/, '')),
  );
  for (const k of keys) {
    const leaf = k.split('.').pop()!;
    t.ok(bold.has(k) || bold.has(leaf), `tsjail-profile(5) documents ${k}`);
  }
});
