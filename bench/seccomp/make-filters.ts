// Writes the two inputs of bench.c: tsjail's compiled @default filter
// (network host) and the same policy as libseccomp rules (one per line):
//   A NR                                   allow NR unconditionally
//   R ACTION NR COUNT (ARG OP VALUE MASK)*  a rule with argument comparisons
// ACTION is ALLOW, EPERM or EAFNOSUPPORT; OP is a libseccomp SCMP_CMP_* name.
// libseccomp cannot express "ioctl except two commands" without a condition
// on another argument, so its ioctl allow carries an always-true test.
//
//   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs bench/seccomp/make-filters.ts OUTDIR

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSeccomp } from '../../src/seccomp/compile.js';
import { resolvePolicy, type SeccompPolicyInput } from '../../src/seccomp/policy.js';

const out = process.argv[2] ?? '.';
const input: SeccompPolicyInput = {
  allow: ['@default'],
  deny: [],
  action: 'errno',
  network: 'host',
  nestedSandbox: false,
};
const res = compileSeccomp(input, 'x86_64');
writeFileSync(join(out, 'tsjail.bpf'), res.bytes);

const native = resolvePolicy(input, 'x86_64')[0]!;
const lines: string[] = [];
for (const [nr, r] of native.rules) {
  if (r.allow.some((e) => e.conds.length === 0) && r.deny.length === 0 && r.hardDeny.length === 0)
    lines.push(`A ${nr}`);
}
const M = '0xffffffff';
lines.push(
  `R EPERM 16 1 1 MASKED_EQ 0x5412 ${M}`,
  `R EPERM 16 1 1 MASKED_EQ 0x541c ${M}`,
  'R ALLOW 16 1 0 GE 0 0',
  `R ALLOW 41 1 0 MASKED_EQ 1 ${M}`,
  `R ALLOW 41 1 0 MASKED_EQ 2 ${M}`,
  `R ALLOW 41 1 0 MASKED_EQ 10 ${M}`,
  `R ALLOW 41 1 0 MASKED_EQ 16 ${M}`,
  'R ALLOW 56 1 0 MASKED_EQ 0 0x7e020000',
  `R ALLOW 135 1 0 MASKED_EQ 0 ${M}`,
  `R ALLOW 135 1 0 MASKED_EQ ${M} ${M}`,
);
writeFileSync(join(out, 'policy.txt'), `${lines.join('\n')}\n`);
console.error(
  `tsjail.bpf: ${res.instructions} instructions, compiled in ${res.stats.millis.toFixed(2)} ms; policy.txt: ${lines.length} rules`,
);
