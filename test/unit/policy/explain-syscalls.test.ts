// `tsjail profile explain`: a profile's system calls against @default alone,
// by name, from the compiler's own resolution of both lists (issue 12).
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { explainProfile, syscallsAgainstDefault } from '../../../src/policy/explain.js';
import { loadProfile } from '../../../src/profile/index.js';
import { SHIPPED, vars, writeTree } from '../profile/helpers.js';

const opts = { vars: vars(), searchPath: [SHIPPED] };

function profile(t: Test, syscalls: string) {
  const dir = writeTree(t.testdir(), { 'p.json5': `{\n  syscalls: ${syscalls},\n}\n` });
  return loadProfile(join(dir, 'p.json5'), opts);
}

for (const arch of ['x86_64', 'aarch64'] as const) {
  t.test(`${arch}: added, removed, narrowed and widened calls are named`, async (t) => {
    const p = profile(
      t,
      '{ allow: ["@default", "ptrace", { name: "personality", args: [{ arg: 0, op: "==", value: 0 }] }], deny: ["@chown", "getcwd"] }',
    );
    const d = syscallsAgainstDefault(p, arch);
    t.same(d.added, ['ptrace'], 'ptrace is not in @default');
    t.ok(d.removed.includes('getcwd'), 'getcwd is');
    t.ok(d.removed.includes('fchownat'), '@chown expands to its calls');
    t.notOk(d.removed.includes('read'), 'read stays');
    t.same(d.narrowed, [], 'personality is conditional in @default, so an extra condition is not a narrowing');
  });
}

t.test('@default alone: nothing added, nothing removed', async (t) => {
  const d = syscallsAgainstDefault(profile(t, '{ allow: ["@default"] }'), 'x86_64');
  t.same(d, { added: [], removed: [], narrowed: [], widened: [] });
});

t.test('a profile of calls of its own: every @default call it leaves out is removed', async (t) => {
  const p = profile(t, '{ allow: ["read", "write", "exit_group", "execve", "exit", "execveat", "brk", "mmap"] }');
  const d = syscallsAgainstDefault(p, 'x86_64');
  t.same(d.added, []);
  t.ok(d.removed.includes('openat') && d.removed.includes('getdents64'), 'openat and getdents64 are gone');
  t.notOk(d.removed.includes('read') || d.removed.includes('mmap'), 'what it lists stays');
});

t.test('the explanation says it in words', async (t) => {
  const text = explainProfile(profile(t, '{ allow: ["@default", "ptrace"], deny: ["getcwd"] }'), {
    home: '/home/u',
  });
  t.match(text, /^ {2}adds to @default: ptrace$/m);
  t.match(text, /^ {2}removes from @default: getcwd$/m);
  const plain = explainProfile(loadProfile('default', opts), { home: '/home/u' });
  t.match(plain, /^ {2}adds nothing to @default$/m);
  t.match(plain, /^ {2}removes nothing from @default$/m);
});
