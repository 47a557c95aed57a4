// A profile's syscalls -> the filter, or errors at FILE:LINE of the entry at
// fault; the shared path of run, profile check and the seccomp verbs.
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { checkProfileSeccomp, compileProfileSeccomp } from '../../../src/policy/seccomp.js';
import { ProfileError, loadProfile } from '../../../src/profile/index.js';
import { BPF_MAXINSNS } from '../../../src/seccomp/compile.js';
import { SHIPPED, vars, writeTree } from '../profile/helpers.js';
import { bigPtraceProfile } from '../../helpers/profiles.js';

const opts = { vars: vars(), searchPath: [SHIPPED] };

function profile(t: Test, text: string) {
  const dir = writeTree(t.testdir(), { 'p.json5': text });
  const file = join(dir, 'p.json5');
  return { file, p: loadProfile(file, opts) };
}

t.test('an unknown syscall and an unknown group are errors at their line', async (t) => {
  const { file, p } = profile(
    t,
    '{\n  syscalls: {\n    allow: [\n      "@default",\n      "no_such_call",\n      "@no-such-group",\n    ],\n  },\n}\n',
  );
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const r = checkProfileSeccomp(p, 'none', arch);
    t.equal(r.result, undefined);
    t.same(
      r.errors.map((e) => e.message),
      [
        `${file}:5: syscalls.allow: unknown syscall "no_such_call"`,
        `${file}:6: syscalls.allow: unknown group "@no-such-group"`,
      ],
    );
    t.ok(r.errors.every((e) => e instanceof ProfileError && e.line !== undefined));
    t.throws(() => compileProfileSeccomp(p, 'none', arch), { message: r.errors[0]!.message });
  }
});

t.test('a name of another architecture only is an error on this one', async (t) => {
  const { file, p } = profile(t, '{\n  syscalls: {\n    allow: ["@default", "open"],\n  },\n}\n');
  t.same(checkProfileSeccomp(p, 'none', 'x86_64').errors, []);
  t.same(
    checkProfileSeccomp(p, 'none', 'aarch64').errors.map((e) => e.message),
    [`${file}:3: syscalls.allow: syscall "open" does not exist on aarch64`],
  );
});

t.test('a filter over 4096 instructions names the rules that make it large, at the first one', async (t) => {
  const { file, p } = profile(t, bigPtraceProfile());
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const r = checkProfileSeccomp(p, 'none', arch);
    t.equal(r.result, undefined, arch);
    t.equal(r.errors.length, 1);
    const e = r.errors[0]!;
    t.equal(e.file, file);
    t.equal(e.line, 5, 'the first ptrace rule');
    t.equal(e.keyPath, 'syscalls.allow');
    const m =
      /^the seccomp filter for (\S+) would have (\d+) instructions, more than the kernel's 4096; the 200 argument rules for ptrace \(from here to (.*):204\) take (\d+) of them/.exec(
        e.detail,
      );
    t.ok(m, e.detail);
    t.equal(m![1], arch);
    t.equal(m![3], file);
    const total = Number(m![2]);
    const saved = Number(m![4]);
    t.ok(total > BPF_MAXINSNS);
    // Without those rules the profile is @default alone, which compiles.
    const small = compileProfileSeccomp(
      { ...p, syscalls: { ...p.syscalls, allow: p.syscalls.allow.slice(0, 1) } },
      'none',
      arch,
    );
    t.equal(total - saved, small.instructions, 'the saving is what the rules cost');
  }
});

t.test('multiarch counts the i386 half too', async (t) => {
  // 100 rules fit one ABI and not two.
  const text = bigPtraceProfile('\n    multiarch: true,').replace(
    /^ {6}\{ name: "ptrace", args: \[\{ arg: 0, op: "==", value: (1\d\d) \}.*\n/gm,
    '',
  );
  const { p } = profile(t, text);
  t.ok(
    compileProfileSeccomp({ ...p, syscalls: { ...p.syscalls, multiarch: false } }, 'none', 'x86_64').instructions <=
      BPF_MAXINSNS,
  );
  const r = checkProfileSeccomp(p, 'none', 'x86_64');
  t.match(
    r.errors[0]?.detail,
    /^the seccomp filter for x86_64 and i386 would have \d+ instructions.*the 100 argument rules for ptrace/,
  );
});

t.test('a profile that compiles has no errors and the filter', async (t) => {
  const { p } = profile(
    t,
    '{\n  syscalls: { allow: ["@default", { name: "ptrace", args: [{ arg: 0, op: "==", value: 0 }] }] },\n}\n',
  );
  const r = checkProfileSeccomp(p, 'none', 'x86_64');
  t.same(r.errors, []);
  t.ok(r.result!.instructions > 0);
});
