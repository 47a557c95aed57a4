// filesystem.protect and filesystem.unprotect in profiles: what the schema
// accepts and how layers fold them onto the built-in list.
import { join } from 'node:path';
import t from 'tap';

import { checkProfiles, DEFAULT_PROTECT, loadProfile } from '../../../src/profile/index.js';
import { FIXTURES, HOME, SHIPPED, vars, writeTree } from './helpers.js';

const opts = { vars: vars(), searchPath: [join(FIXTURES, 'shipped'), SHIPPED] };

function errorsOf(t: { testdir(): string }, text: string): string[] {
  const dir = writeTree(t.testdir(), { 'p.json5': text });
  return checkProfiles([join(dir, 'p.json5')], opts).map((e) => e.message.replace(`${dir}/`, ''));
}

t.test(
  'protect: relative entries, absolute ones, one-component globs; no "**", "..", "." or empty segments',
  async (t) => {
    t.same(
      errorsOf(t, '{ filesystem: { protect: [".git/hooks", "vendor/*/.git", "~/.bashrc", "${HOME}/x", "/etc/x"] } }'),
      [],
    );
    t.same(
      errorsOf(
        t,
        [
          '{ filesystem: { protect: [',
          '  "**/.git/hooks",',
          '  "a/../b",',
          '  "./a",',
          '  "a//b",',
          '  "a/",',
          '  "",',
          '  "~/**",',
          '] } }',
        ].join('\n'),
      ),
      [
        'p.json5:2: filesystem.protect[0]: "**/.git/hooks" must not contain "**" (name each nested directory, e.g. "vendor/*/.git")',
        'p.json5:3: filesystem.protect[1]: "a/../b" must not contain ".." segments',
        'p.json5:4: filesystem.protect[2]: "./a" must not contain "." segments',
        'p.json5:5: filesystem.protect[3]: "a//b" must not contain empty segments ("//")',
        'p.json5:6: filesystem.protect[4]: "a/" must not end in "/"',
        'p.json5:7: filesystem.protect[5]: must not be empty',
        'p.json5:8: filesystem.protect[6]: "~/**" must not contain "**" (name each nested directory, e.g. "vendor/*/.git")',
      ],
    );
  },
);

t.test('unprotect names entries of the built-in list only', async (t) => {
  t.same(errorsOf(t, '{ filesystem: { unprotect: [".envrc", ".git"] } }'), []);
  t.same(errorsOf(t, '{ filesystem: { unprotect: [".envcr", "Makefile"] } }'), [
    'p.json5:1: filesystem.unprotect[0]: ".envcr" is not in the built-in protect list; did you mean ".envrc"?',
    'p.json5:1: filesystem.unprotect[1]: "Makefile" is not in the built-in protect list (tsjail-profile(5), "Protected paths")',
  ]);
  t.same(errorsOf(t, '{ protect: [".x"] }'), ['p.json5:1: protect: unknown key; did you mean "filesystem.protect"?']);
});

t.test('the built-in list, then each layer; unprotect removes built-in entries only', async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/nogit.json5': '{ filesystem: { unprotect: [".git"] } }',
    'p.json5':
      '{ include: ["nogit"], filesystem: { protect: [".git/hooks", "~/.config/x", "a/*/b"], unprotect: [".envrc"] } }',
    'q.json5': '{ filesystem: { protect: [".envrc"], unprotect: [".envrc"] } }',
  });
  const o = { ...opts, searchPath: [dir, SHIPPED] };
  const plain = loadProfile('default', o);
  t.same(
    plain.protect.map((e) => e.path),
    DEFAULT_PROTECT.map((d) => d.path),
    'every profile has the built-in list',
  );
  t.ok(plain.protect.every((e) => e.builtin && e.relative));
  const p = loadProfile('p', o);
  const names = p.protect.map((e) => e.path);
  t.notOk(names.includes('.git'), 'switched off by the snippet');
  t.notOk(names.includes('.envrc'));
  t.same(
    p.protect.filter((e) => !e.builtin).map((e) => [e.path, e.relative, e.glob, e.source.line]),
    [
      ['.git/hooks', true, false, 1],
      [`${HOME}/.config/x`, false, false, 1],
      ['a/*/b', true, true, 1],
    ],
  );
  t.same(
    p.unprotected.map((u) => u.value),
    ['.git', '.envrc'],
  );
  t.match(p.unprotected[0]!.source.file, /nogit\.json5$/);
  const q = loadProfile('q', o);
  t.same(
    q.protect.filter((e) => e.path === '.envrc').map((e) => e.builtin),
    [false],
    "a profile's own entry stays even where the built-in one is off",
  );
});
