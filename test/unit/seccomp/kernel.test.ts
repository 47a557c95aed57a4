// Kernel tests: the compiled filter, loaded by the real kernel, agrees with
// the policy for every syscall number on x86_64, through int $0x80 (i386)
// and with the x32 bit. test/helpers/seccomp/probe.c observes outcomes
// without executing allowed calls (a stacked USER_NOTIF filter catches them).
// Needs x86_64, gcc and Linux >= 5.9 (pidfd_getfd, USER_NOTIF continue);
// seccomp needs no privilege under no_new_privs, so any user can run this.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { evaluate } from '../../../src/seccomp/evaluate.js';
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

const skip =
  process.arch !== 'x64' ? 'needs x86_64' : spawnSync('gcc', ['--version']).status !== 0 ? 'needs gcc' : undefined;

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

  const base: SeccompPolicyInput = {
    allow: ['@default'],
    deny: [],
    action: 'errno',
    network: 'none',
    nestedSandbox: false,
  };
  const x64max = syscallTable('x86_64').maxNr;
  const i386max = syscallTable('i386').maxNr;

  t.test('@default: every x86_64 number, i386 and x32 killed', async (t) => {
    sweep(t, base, 'x86_64', 0, x64max + 8);
    sweep(t, base, 'i386', 0, 40);
    sweep(t, base, 'x32', 0, 547);
  });

  t.test('@default with multiarch: every i386 number', async (t) => {
    sweep(t, { ...base, multiarch: true, network: 'host' }, 'i386', 0, i386max + 4);
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
    sweep(t, { ...base, multiarch: true }, 'i386', 54, 54, [0n, (0xdeadn << 32n) | tiocsti, 0n, 0n, 0n, 0n]);
  });

  t.test('random policies, kill and log actions included', async (t) => {
    for (let seed = 1; seed <= 4; seed++) {
      let input = randomPolicy(seed * 104729, 'x86_64');
      const errs = validateSeccompPolicy(input, 'x86_64');
      input = {
        ...input,
        allow: input.allow.filter((_, i) => !errs.some((e) => e.list === 'allow' && e.index === i)),
        deny: input.deny.filter((_, i) => !errs.some((e) => e.list === 'deny' && e.index === i)),
      };
      const junk = [0x1n, 0xffffffff00005412n, 0x80000000n, 0x100000000n, 0n, 0x7e020000n];
      sweep(t, input, 'x86_64', 0, x64max + 2, junk);
      if (input.multiarch === true) sweep(t, input, 'i386', 0, i386max, junk);
    }
  });
});
