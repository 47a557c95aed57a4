// A filter compiled with `notify` (--report-fd, -v) answers every call as
// the plain filter does, except that the native ABI's EPERM and
// EAFNOSUPPORT refusals go to the listener (SECCOMP_RET_USER_NOTIF), and the
// list of notified calls gives, for each, the errno the reporter must answer
// with: the plain filter's. Checked on random policies and the @default
// variants, every syscall number x interesting arguments, by the interpreter.
import t, { type Test } from 'tap';
import { compileSeccomp } from '../../../src/seccomp/compile.js';
import { decode } from '../../../src/seccomp/encode.js';
import { run } from '../../helpers/seccomp/interp.js';
import { resolvePolicy, type Arch, type SeccompPolicyInput } from '../../../src/seccomp/policy.js';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  EAFNOSUPPORT,
  EPERM,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_USER_NOTIF,
  retErrno,
  retName,
} from '../../../src/seccomp/bpf.js';
import { interestingData, randomPolicy, rng, sanitize } from '../../helpers/seccomp/policies.js';

function check(t: Test, input: SeccompPolicyInput, arch: Arch, seed: number): void {
  const plain = decode(compileSeccomp(input, arch).bytes);
  const res = compileSeccomp({ ...input, notify: true }, arch);
  const prog = decode(res.bytes);
  const errnoOf = new Map(res.notified!.map((n) => [n.nr, n.errno]));
  const nativeArch = arch === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
  const handed = new Set([retErrno(EPERM), retErrno(EAFNOSUPPORT)]);
  let n = 0;
  let failures = 0;
  const fail = (msg: string) => failures++ < 5 && t.fail(msg);
  for (const d of interestingData(resolvePolicy(input, arch), rng(seed))) {
    n++;
    const want = run(plain, d).ret;
    const got = run(prog, d).ret;
    const at = `arch 0x${d.arch.toString(16)} nr ${d.nr}`;
    if (d.arch === nativeArch && handed.has(want)) {
      if (got !== SECCOMP_RET_USER_NOTIF) fail(`${at}: ${retName(got)} where the plain filter refuses`);
      else if (retErrno(errnoOf.get(d.nr) ?? 0) !== want) fail(`${at}: listed with errno ${errnoOf.get(d.nr)}`);
    } else if (got !== want) fail(`${at}: ${retName(got)}, the plain filter ${retName(want)}`);
  }
  t.equal(failures, 0, `${n} samples: the same answers, refusals handed over with their errno`);
}

for (const arch of ['x86_64', 'aarch64'] as const) {
  t.test(`@default variants on ${arch}`, async (t) => {
    for (const network of ['none', 'host'] as const)
      for (const action of ['errno', 'kill', 'log'] as const)
        for (const multiarch of arch === 'x86_64' ? [false, true] : [false])
          check(t, { allow: ['@default'], deny: ['ptrace'], action, network, nestedSandbox: true, multiarch }, arch, 3);
  });
  t.test(`random policies on ${arch}`, async (t) => {
    for (let seed = 1; seed <= 12; seed++) check(t, sanitize(randomPolicy(seed, arch), arch), arch, seed);
  });
}

t.test('what is listed: the refusals, not the ENOSYS fallbacks', async (t) => {
  const res = compileSeccomp(
    { allow: ['@default'], deny: [], action: 'errno', network: 'none', nestedSandbox: false, notify: true },
    'x86_64',
  );
  const by = new Map(res.notified!.map((n) => [n.name, n.errno]));
  t.equal(by.get('ptrace'), EPERM, 'ptrace: EPERM');
  t.equal(by.get('socket'), EAFNOSUPPORT, 'socket: EAFNOSUPPORT (inet without a network)');
  t.equal(by.get('ioctl'), EPERM, 'ioctl: EPERM (TIOCSTI)');
  t.notOk(by.has('clone3'), 'clone3 keeps its ENOSYS');
  t.notOk(by.has('getppid'), 'an allowed call is not listed');
  t.equal(
    compileSeccomp({ allow: ['@default'], deny: [], action: 'errno', network: 'none', nestedSandbox: false }, 'x86_64')
      .notified,
    undefined,
  );
});

t.test('observed calls: the allowed opens and execs are handed over, and only they', async (t) => {
  const input: SeccompPolicyInput = {
    allow: ['@default'],
    deny: [],
    action: 'errno',
    network: 'none',
    nestedSandbox: false,
  };
  const plain = decode(compileSeccomp(input, 'x86_64').bytes);
  const res = compileSeccomp({ ...input, notify: true, observe: ['openat', 'execve', 'ptrace'] }, 'x86_64');
  const prog = decode(res.bytes);
  t.same(
    res.observed!.map((o) => o.name),
    ['execve', 'openat'],
    'ptrace, which the filter refuses, is not observed',
  );
  for (const o of res.observed!) {
    const d = { nr: o.nr, arch: AUDIT_ARCH_X86_64, args: [0n, 0n, 0n, 0n, 0n, 0n] };
    t.equal(run(plain, d).ret, SECCOMP_RET_ALLOW, `${o.name}: the plain filter allows it`);
    t.equal(run(prog, d).ret, SECCOMP_RET_USER_NOTIF, `${o.name}: handed to the listener`);
  }
});
