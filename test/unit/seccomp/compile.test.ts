// Property tests: for random policies, every syscall number x arch x
// interesting argument values, the compiled program (run by the interpreter)
// answers exactly what the AST oracle (evaluate.ts) answers, and the program
// passes the verifier and the kernel's action-cache rules.

import t, { type Test } from 'tap';
import { compileSeccomp } from '../../../src/seccomp/compile.js';
import { isConstAllow } from '../../../src/seccomp/const-allow.js';
import { decode } from '../../../src/seccomp/encode.js';
import { evaluateResolved } from '../../helpers/seccomp/evaluate.js';
import { run } from '../../helpers/seccomp/interp.js';
import { resolvePolicy, type Arch, type SeccompPolicyInput } from '../../../src/seccomp/policy.js';
import { retName, SECCOMP_RET_ALLOW, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64 } from '../../../src/seccomp/bpf.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';
import { interestingData, randomPolicy, rng, sanitize } from '../../helpers/seccomp/policies.js';

function check(t: Test, input: SeccompPolicyInput, arch: Arch, seed: number): void {
  const res = compileSeccomp(input, arch);
  const prog = decode(res.bytes);
  t.same(prog, res.insns, 'bytes decode to the instructions');
  const resolved = resolvePolicy(input, arch);
  const r = rng(seed);
  let n = 0;
  let failures = 0;
  for (const d of interestingData(resolved, r)) {
    n++;
    const want = evaluateResolved(resolved, d);
    const got = run(prog, d).ret;
    if (got !== want && failures++ < 5) {
      t.fail(
        `arch 0x${d.arch.toString(16)} nr ${d.nr} args ${d.args.map((a) => `0x${a.toString(16)}`).join(',')}: ` +
          `program ${retName(got)}, policy ${retName(want)}`,
      );
    }
  }
  t.equal(failures, 0, `${n} samples agree (${res.instructions} instructions)`);
  // Every syscall the policy allows without looking at arguments is served by the kernel's cache.
  const nativeArch = arch === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
  const native = resolved[0]!;
  let uncached = 0;
  for (const [nr, rules] of native.rules) {
    const argFree =
      rules.allow.some((e) => e.conds.length === 0) && rules.deny.length === 0 && rules.hardDeny.length === 0;
    if (argFree && !isConstAllow(prog, nr, nativeArch)) uncached++;
  }
  t.equal(uncached, 0, 'argument-free allows are cacheable');
  // And the cache never serves a number the policy does not always allow.
  const table = syscallTable(native.abi);
  for (let nr = 0; nr <= table.maxNr; nr++) {
    if (!isConstAllow(prog, nr, nativeArch)) continue;
    for (let i = 0; i < 4; i++) {
      const args = [0, 1, 2, 3, 4, 5].map(() => BigInt.asUintN(64, BigInt(Math.floor(r() * 2 ** 53)) << BigInt(i * 4)));
      if (evaluateResolved(resolved, { nr, arch: nativeArch, args }) !== SECCOMP_RET_ALLOW) {
        t.fail(`nr ${nr} is cached but not always allowed`);
        break;
      }
    }
  }
}

for (const arch of ['x86_64', 'aarch64'] as const) {
  t.test(`@default variants on ${arch}`, async (t) => {
    for (const network of ['none', 'host'] as const) {
      for (const nestedSandbox of [false, true]) {
        for (const action of ['errno', 'kill', 'log'] as const) {
          for (const multiarch of arch === 'x86_64' ? [false, true] : [false]) {
            t.test(`${network} nested=${nestedSandbox} ${action} multiarch=${multiarch}`, async (t) => {
              check(t, { allow: ['@default'], deny: [], action, network, nestedSandbox, multiarch }, arch, 7);
            });
          }
        }
      }
    }
  });

  t.test(`random policies on ${arch}`, async (t) => {
    const count = Number(process.env.TSJAIL_SECCOMP_RANDOM ?? 40);
    for (let seed = 1; seed <= count; seed++) {
      const input = sanitize(randomPolicy(seed * 7919 + (arch === 'aarch64' ? 1 : 0), arch), arch);
      t.test(`seed ${seed}`, async (t) => check(t, input, arch, seed));
    }
  });
}

t.test('long argument lists force trampolines and stay correct', async (t) => {
  const values = Array.from({ length: 600 }, (_, i) => 0x1000 + i * 3);
  const input: SeccompPolicyInput = {
    allow: [
      '@default',
      { name: 'ioctl', args: [{ arg: 2, op: 'in', value: values }] },
      { name: 'prctl', args: [{ arg: 1, op: 'in', value: values.slice(0, 300) }] },
    ],
    deny: [{ name: 'ioctl', args: [{ arg: 1, op: 'in', value: values.slice(0, 200) }] }],
    action: 'errno',
    network: 'host',
    nestedSandbox: false,
    multiarch: true,
  };
  const res = compileSeccomp(input, 'x86_64');
  t.ok(res.stats.trampolines > 0, `trampolines used (${res.stats.trampolines})`);
  check(t, input, 'x86_64', 3);
});

t.test('a program past 4096 instructions is a clear error', async (t) => {
  const values = Array.from({ length: 5000 }, (_, i) => i * 2);
  t.throws(
    () =>
      compileSeccomp(
        {
          allow: [{ name: 'ioctl', args: [{ arg: 1, op: 'in', value: values }] }],
          deny: [],
          action: 'errno',
          network: 'none',
          nestedSandbox: false,
        },
        'x86_64',
      ),
    /at most 4096 \(BPF_MAXINSNS\)/,
  );
});
