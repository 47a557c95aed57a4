// How long tsjail's seccomp compiler takes for @default (network host, nested
// sandbox), the policy a browser profile compiles at every launch: 10 warm-up
// compilations, then ROUNDS timed ones; prints the median and the spread.
// A measurement, not a test: the figure depends on the machine and its load.
//
//   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs bench/seccomp/compile-time.ts [ROUNDS]

import { compileSeccomp } from '../../src/seccomp/compile.js';
import type { SeccompPolicyInput } from '../../src/seccomp/policy.js';

const rounds = Number(process.argv[2] ?? 30);
const input: SeccompPolicyInput = {
  allow: ['@default'],
  deny: [],
  action: 'errno',
  network: 'host',
  nestedSandbox: true,
};
for (let i = 0; i < 10; i++) compileSeccomp(input, 'x86_64');
const times: number[] = [];
let instructions = 0;
for (let i = 0; i < rounds; i++) {
  const res = compileSeccomp(input, 'x86_64');
  times.push(res.stats.millis);
  instructions = res.instructions;
}
times.sort((a, b) => a - b);
const at = (q: number): string => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
console.log(
  `@default (network host, nested): ${instructions} instructions; compile time over ${rounds} rounds: median ${at(0.5)} ms, min ${at(0)} ms, 90th percentile ${at(0.9)} ms`,
);
