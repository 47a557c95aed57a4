// Kernel tests: the compiled filter, loaded by the real kernel, agrees with
// the policy for every syscall number on x86_64, through int $0x80 (i386)
// and with the x32 bit. test/helpers/seccomp/probe.c observes outcomes
// without executing allowed calls (a stacked USER_NOTIF filter catches them).
// Needs x86_64, gcc and Linux >= 5.9 (pidfd_getfd, USER_NOTIF continue);
// seccomp needs no privilege under no_new_privs, so any user can run this.
// Some kernels refuse int $0x80 itself (SIGSEGV before seccomp runs, also
// outside any filter): there the i386 sweeps say so and are skipped, and the
// i386 filter is proved by the interpreter (compile.test.ts) and the golden
// listings (golden.test.ts) alone.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_LOG,
} from '../../../src/seccomp/bpf.js';
import { compileSeccomp, validateSeccompPolicy } from '../../../src/seccomp/compile.js';
import { evaluate } from '../../helpers/seccomp/evaluate.js';
import type { SeccompPolicyInput } from '../../../src/seccomp/policy.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';
import { randomPolicy } from '../../helpers/seccomp/policies.js';

const SOURCE = new URL('../../helpers/seccomp/probe.c', import.meta.url).pathname;
// x86_64 uretprobe (335) and uprobe (336) never reach seccomp on the native
// arch (kernel/seccomp.c seccomp_uprobe_exception, Linux 6.16+).
const NATIVE_PASSTHROUGH = new Set([335, 336]);

function outcome(ret: number): string {
  if (ret === SECCOMP_RET_ALLOW || ret === SECCOMP_RET_LOG) return 'ALLOW';
  if (ret === SECCOMP_RET_KILL_PROCESS) return 'KILL';
  if ((ret & 0xffff0000) === 0x00050000) return `ERRNO:${ret & 0xffff}`;
  return `?${ret.toString(16)}`;
}

const [major = 0, minor = 0] = release().split('.').map(Number);
const skip =
  process.arch !== 'x64'
    ? 'needs x86_64'
    : major < 5 || (major === 5 && minor < 9)
      ? `needs Linux >= 5.9 (pidfd_getfd, USER_NOTIF continue); this is ${release()}`
      : spawnSync('gcc', ['--version']).status !== 0
        ? 'needs gcc'
        : undefined;

t.test('kernel agrees with the policy', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsjail-seccomp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const probe = join(dir, 'probe');
  execFileSync('gcc', ['-O2', '-Wall', '-o', probe, SOURCE]);

  const sweep = (
    t: Tap,
    input: SeccompPolicyInput,
    abi: 'x86_64' | 'i386' | 'x32',
    first: number,
    last: number,
    args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n],
  ): void => {
    const filter = join(dir, 'filter.bpf');
    writeFileSync(filter, compileSeccomp(input, 'x86_64').bytes);
    const res = spawnSync(
      probe,
      [filter, abi, String(first), String(last), ...args.map((a) => `0x${a.toString(16)}`)],
      { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 120_000 },
    );
    if (res.status !== 0) {
      t.fail(`probe failed (${res.status}): ${res.stderr}`);
      return;
    }
    const arch = abi === 'i386' ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
    let bad = 0;
    let n = 0;
    for (const line of res.stdout.trim().split('\n')) {
      const [nrText, got] = line.split(' ');
      const nr = Number(nrText) + (abi === 'x32' ? 0x40000000 : 0);
      if (abi === 'x86_64' && NATIVE_PASSTHROUGH.has(nr)) continue;
      n++;
      const want = outcome(evaluate(input, 'x86_64', { nr, arch, args }));
      if (got !== want && bad++ < 5) t.fail(`${abi} nr ${nrText}: kernel ${got}, policy ${want}`);
    }
    t.equal(bad, 0, `${abi} ${first}..${last}: ${n} numbers agree`);
  };
  type Tap = typeof t;

  // Control: does int $0x80 reach seccomp on this kernel at all? getpid (20)
  // through the i386 entry under a filter that allows everything: ALLOW
  // (caught by the probe's notifier) where it does.
  const allowAll = join(dir, 'allow-all.bpf');
  writeFileSync(allowAll, Buffer.from([0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f])); // ret SECCOMP_RET_ALLOW
  const control = spawnSync(probe, [allowAll, 'i386', '20', '20'], { encoding: 'utf8', timeout: 60_000 });
  const entry = control.stdout.trim().split(' ')[1];
  const i386Skip =
    entry === 'ALLOW'
      ? false
      : `int $0x80 never reaches seccomp on this kernel (getpid through it, under an allow-all filter: ${entry ?? `probe failed: ${control.stderr}`}); the i386 filter is proved by the BPF interpreter and the golden listings alone`;
  if (entry === 'ALLOW') t.pass('control: int $0x80 reaches seccomp here, so the i386 sweeps run');

  const base: SeccompPolicyInput = {
    allow: ['@default'],
    deny: [],
    action: 'errno',
    network: 'none',
    nestedSandbox: false,
  };
  const x64max = syscallTable('x86_64').maxNr;
  const i386max = syscallTable('i386').maxNr;
  const randoms = [1, 2, 3, 4].map((seed) => {
    const input = randomPolicy(seed * 104729, 'x86_64');
    const errs = validateSeccompPolicy(input, 'x86_64');
    return {
      ...input,
      allow: input.allow.filter((_, i) => !errs.some((e) => e.list === 'allow' && e.index === i)),
      deny: input.deny.filter((_, i) => !errs.some((e) => e.list === 'deny' && e.index === i)),
    };
  });
  const junk = [0x1n, 0xffffffff00005412n, 0x80000000n, 0x100000000n, 0n, 0x7e020000n];

  t.test('@default: every x86_64 number, x32 killed', async (t) => {
    sweep(t, base, 'x86_64', 0, x64max + 8);
    sweep(t, base, 'x32', 0, 547);
  });

  t.test('argument rules on the real kernel', async (t) => {
    const tiocsti = 0x5412n;
    sweep(t, base, 'x86_64', 16, 16, [0n, tiocsti, 0n, 0n, 0n, 0n]);
    sweep(t, base, 'x86_64', 16, 16, [0n, (1n << 32n) | tiocsti, 0n, 0n, 0n, 0n]); // CVE-2019-10063
    sweep(t, base, 'x86_64', 16, 16, [0n, 0x541bn, 0n, 0n, 0n, 0n]);
    sweep(t, base, 'x86_64', 41, 41, [2n, 1n, 0n, 0n, 0n, 0n]); // AF_INET under network none
    sweep(t, base, 'x86_64', 41, 41, [1n, 1n, 0n, 0n, 0n, 0n]);
    sweep(t, base, 'x86_64', 41, 41, [(1n << 32n) | 1n, 1n, 0n, 0n, 0n, 0n]); // junk high word on an allow
    sweep(t, base, 'x86_64', 56, 56, [0x10000000n, 0n, 0n, 0n, 0n, 0n]); // clone(CLONE_NEWUSER)
    sweep(t, base, 'x86_64', 56, 56, [0x11n, 0n, 0n, 0n, 0n, 0n]);
  });

  t.test('random policies, kill and log actions included', async (t) => {
    for (const input of randoms) sweep(t, input, 'x86_64', 0, x64max + 2, junk);
  });

  // One skip, with its reason, for every sweep through the i386 entry.
  t.test('i386 through int $0x80', { skip: i386Skip }, async (t) => {
    t.test('@default: i386 killed', async (t) => sweep(t, base, 'i386', 0, 40));
    t.test('@default with multiarch: every i386 number', async (t) => {
      sweep(t, { ...base, multiarch: true, network: 'host' }, 'i386', 0, i386max + 4);
    });
    t.test('argument rules: the high word of an i386 argument never reaches the filter', async (t) => {
      sweep(t, { ...base, multiarch: true }, 'i386', 54, 54, [0n, (0xdeadn << 32n) | 0x5412n, 0n, 0n, 0n, 0n]);
    });
    const multi = randoms.filter((p) => p.multiarch === true);
    t.ok(multi.length > 0, `${multi.length} of the random policies are multiarch`);
    t.test('random multiarch policies', async (t) => {
      for (const input of multi) sweep(t, input, 'i386', 0, i386max, junk);
    });
  });
});
