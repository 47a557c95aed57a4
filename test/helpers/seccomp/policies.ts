// Test helpers: random policies and interesting seccomp_data for property
// tests of the seccomp compiler.

import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../../src/seccomp/bpf.js';
import { GROUPS } from '../../../src/seccomp/groups.js';
import type { SeccompData } from './interp.js';
import type { ArgCond, Arch, ResolvedPolicy, SeccompPolicyInput, SyscallEntry } from '../../../src/seccomp/policy.js';
import { syscallTable, type SyscallInfo } from '../../../src/seccomp/tables/index.js';
import { validateSeccompPolicy } from '../../../src/seccomp/compile.js';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const OPS: ArgCond['op'][] = ['==', '!=', '<', '<=', '>', '>=', '&==', 'in'];
const INTERESTING32 = [0, 1, 2, 0x10, 0x5412, 0x7fffffff, 0x80000000, 0x80045430, 0xfffffffe, 0xffffffff];

function randomValue(r: () => number, width: 32 | 64): number | string {
  const v = pick(r, INTERESTING32);
  if (width === 64 && r() < 0.4) {
    const hi = pick(r, [1, 0x80000000, 0xffffffff, 0x12345678]);
    return `0x${hi.toString(16)}${v.toString(16).padStart(8, '0')}`;
  }
  return r() < 0.1 ? -1 : v;
}

function randomCond(r: () => number, sys: SyscallInfo): ArgCond | undefined {
  if (sys.widths.length === 0) return undefined;
  const arg = Math.floor(r() * sys.widths.length);
  const width = sys.widths[arg]!;
  const op = pick(r, OPS);
  if (op === 'in') return { arg, op, value: [randomValue(r, width), randomValue(r, width), randomValue(r, width)] };
  if (op === '&==') {
    const mask = pick(r, [0xff, 0x80000000, 0x7e020000, 0xffffffff, 0xf0f0]);
    const value = pick(r, [0, mask, mask & 0x0f0f, mask & 0x80000000]);
    return { arg, op, mask, value };
  }
  let value = randomValue(r, width);
  if (op === '<' && (value === 0 || value === '0x0')) value = 1;
  if (op === '>' && (value === 0xffffffff || value === -1)) value = 5;
  return { arg, op, value };
}

/** A valid random policy for arch. */
export function randomPolicy(seed: number, arch: Arch): SeccompPolicyInput {
  const r = rng(seed);
  const table = syscallTable(arch);
  const names = table.all.filter((s) => !s.unknownSignature).map((s) => s.name);
  const groups = Object.keys(GROUPS).filter((g) => g !== '@system-service' || r() < 0.5);
  const entries = (n: number, list: 'allow' | 'deny'): SyscallEntry[] => {
    const out: SyscallEntry[] = [];
    for (let i = 0; i < n; i++) {
      const roll = r();
      if (roll < 0.15 && list === 'allow') out.push(pick(r, groups));
      else if (roll < 0.5) {
        const name = pick(r, names);
        if (list === 'deny' && ['execve', 'execveat', 'write', 'exit', 'exit_group'].includes(name)) continue;
        out.push(name);
      } else {
        const sys = table.byName(
          pick(r, [
            'ioctl',
            'socket',
            'clone',
            'personality',
            'mmap',
            'prctl',
            'fcntl',
            'openat',
            'kill',
            'unshare',
            'lseek',
            'mprotect',
            'pread64',
            ...names,
          ]),
        )!;
        const conds: ArgCond[] = [];
        const nconds = 1 + Math.floor(r() * 3);
        for (let j = 0; j < nconds; j++) {
          const c = randomCond(r, sys);
          if (c !== undefined) conds.push(c);
        }
        out.push({ name: sys.name, args: conds });
      }
    }
    return out;
  };
  return {
    allow: r() < 0.3 ? ['@default', ...entries(8, 'allow')] : entries(25, 'allow'),
    deny: entries(6, 'deny'),
    action: pick(r, ['errno', 'kill', 'log'] as const),
    network: pick(r, ['none', 'host'] as const),
    nestedSandbox: r() < 0.5,
    multiarch: arch === 'x86_64' && r() < 0.4,
  };
}

const HIGHS = [0n, 1n, 0x80000000n, 0xffffffffn];

/** Values worth trying for one argument given the conditions on it. */
function argCandidates(values: bigint[]): bigint[] {
  const out = new Set<bigint>([0n, 0xffffffffn, 0xffffffffffffffffn, 0x80000000n]);
  for (const v of values) {
    for (const d of [v, v + 1n, v - 1n, v ^ 0x80000000n]) {
      const lo = BigInt.asUintN(32, d);
      for (const h of HIGHS) out.add((h << 32n) | lo);
      out.add(BigInt.asUintN(64, d));
    }
  }
  return [...out];
}

/** seccomp_data samples for every syscall number of the policy's ABIs, and foreign arches. */
export function* interestingData(resolved: readonly ResolvedPolicy[], r: () => number): Generator<SeccompData> {
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const junk = (): bigint[] =>
    zero.map(() => (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32)));
  const archOf = { x86_64: AUDIT_ARCH_X86_64, i386: AUDIT_ARCH_I386, aarch64: AUDIT_ARCH_AARCH64 } as const;
  for (const p of resolved) {
    if (p.abi === 'x32') continue;
    const a = archOf[p.abi];
    const table = syscallTable(p.abi);
    const extra = [
      table.maxNr + 1,
      table.maxNr + 2,
      999,
      0x3fffffff,
      0x40000000,
      0x40000001,
      0x4000000f,
      0x40000200,
      0x7fffffff,
      0x80000000,
      0xfffffffe,
      0xffffffff,
    ];
    for (let nr = 0; nr <= table.maxNr; nr++) {
      yield { nr, arch: a, args: zero };
      yield { nr, arch: a, args: junk() };
      const rules = p.rules.get(nr);
      if (rules === undefined) continue;
      const perArg = new Map<number, bigint[]>();
      for (const e of [...rules.allow, ...rules.deny, ...rules.hardDeny]) {
        for (const c of e.conds) perArg.set(c.arg, [...(perArg.get(c.arg) ?? []), ...c.values, c.mask]);
      }
      for (const [arg, vals] of perArg) {
        for (const v of argCandidates(vals)) {
          const args = [...zero];
          args[arg] = v;
          yield { nr, arch: a, args };
          const mixed = junk();
          mixed[arg] = v;
          yield { nr, arch: a, args: mixed };
        }
      }
    }
    for (const nr of extra) yield { nr, arch: a, args: zero };
  }
  for (const foreign of [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, 0, 0xffffffff]) {
    if (resolved.some((p) => p.abi !== 'x32' && archOf[p.abi] === foreign)) continue;
    for (const nr of [0, 1, 59, 221, 0xffffffff]) yield { nr, arch: foreign, args: zero };
  }
}

/** Drops the entries the validator rejects (random conditions can be invalid on i386). */
export function sanitize(p: SeccompPolicyInput, arch: Arch): SeccompPolicyInput {
  const errs = validateSeccompPolicy(p, arch);
  const bad = (list: 'allow' | 'deny') => new Set(errs.filter((e) => e.list === list).map((e) => e.index));
  const ba = bad('allow');
  const bd = bad('deny');
  return { ...p, allow: p.allow.filter((_, i) => !ba.has(i)), deny: p.deny.filter((_, i) => !bd.has(i)) };
}
