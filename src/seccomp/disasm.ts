// Disassembly: program bytes -> a readable listing with labels, syscall
// names, argument names and resolved constants. Pure.
//
// Syscall names come from following the program: after `arch == X` the
// numbers are X's, and the `nr >= k` tests narrow the number down until a
// single syscall is known, whose argument loads and constants are then named.

import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_NAMES,
  AUDIT_ARCH_X86_64,
  AUDIT_ARCH_AARCH64,
  OFF_ARCH,
  OFF_NR,
  OP_AND,
  OP_JA,
  OP_JEQ,
  OP_JGE,
  OP_JGT,
  OP_JSET,
  OP_LD_ABS,
  OP_RET,
  hex,
  retName,
  type Insn,
} from './bpf.js';
import { constantName } from './constants.js';
import { decode } from './encode.js';
import type { Arch } from './policy.js';
import { syscallTable, type Abi } from './tables/index.js';

interface State {
  abi: Abi | null;
  a: number | null;
  lo: number;
  hi: number;
}

const ABI_OF: Record<number, Abi> = {
  [AUDIT_ARCH_X86_64]: 'x86_64',
  [AUDIT_ARCH_I386]: 'i386',
  [AUDIT_ARCH_AARCH64]: 'aarch64',
};
const MNEMONIC: Record<number, string> = {
  [OP_LD_ABS]: 'ld',
  [OP_AND]: 'and',
  [OP_JA]: 'ja',
  [OP_JEQ]: 'jeq',
  [OP_JGT]: 'jgt',
  [OP_JGE]: 'jge',
  [OP_JSET]: 'jset',
  [OP_RET]: 'ret',
};

function merge(a: State | undefined, b: State): State {
  if (a === undefined) return { ...b };
  return {
    abi: a.abi === b.abi ? a.abi : null,
    a: a.a === b.a ? a.a : null,
    lo: Math.min(a.lo, b.lo),
    hi: Math.max(a.hi, b.hi),
  };
}

function wordName(off: number): string {
  if (off === OFF_NR) return 'nr';
  if (off === OFF_ARCH) return 'arch';
  if (off === 8) return 'instruction_pointer (lo)';
  if (off === 12) return 'instruction_pointer (hi)';
  const i = (off - 16) >> 3;
  return `args[${i}] ${off % 8 === 0 ? 'lo' : 'hi'}`;
}

export function disassembleInsns(insns: readonly Insn[], arch: Arch): string {
  const n = insns.length;
  const states: (State | undefined)[] = new Array(n);
  states[0] = { abi: null, a: null, lo: 0, hi: 0xffffffff };
  const targets = new Set<number>();
  const comments: string[] = new Array(n).fill('');

  const known = (s: State): { abi: Abi; name: string } | undefined => {
    if (s.abi === null || s.lo !== s.hi) return undefined;
    const sys = syscallTable(s.abi).byNr(s.lo);
    return sys === undefined ? undefined : { abi: s.abi, name: sys.name };
  };

  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    const s = states[pc] ?? { abi: null, a: null, lo: 0, hi: 0xffffffff };
    const flow = (to: number, st: State): void => {
      if (to < n) states[to] = merge(states[to], st);
    };
    const sys = known(s);
    switch (ins.code) {
      case OP_LD_ABS: {
        let c = wordName(ins.k);
        if (ins.k >= 16 && sys !== undefined) c = `${sys.name} ${c}`;
        comments[pc] = c;
        flow(pc + 1, { ...s, a: ins.k });
        break;
      }
      case OP_AND:
        flow(pc + 1, { ...s, a: null });
        break;
      case OP_JA:
        targets.add(pc + 1 + ins.k);
        flow(pc + 1 + ins.k, s);
        break;
      case OP_RET:
        comments[pc] = retName(ins.k);
        break;
      default: {
        const yes = pc + 1 + ins.jt;
        const no = pc + 1 + ins.jf;
        targets.add(yes);
        targets.add(no);
        let ys: State = { ...s };
        const ns: State = { ...s };
        if (s.a === OFF_ARCH && ins.code === OP_JEQ) {
          comments[pc] = AUDIT_ARCH_NAMES[ins.k] ?? '';
          ys = { ...s, abi: ABI_OF[ins.k] ?? null };
        } else if (s.a === OFF_NR && s.abi !== null) {
          const name = syscallTable(s.abi).byNr(ins.k)?.name;
          if (ins.code === OP_JGE) {
            ys.lo = Math.max(s.lo, ins.k);
            ns.hi = Math.min(s.hi, ins.k - 1);
          }
          if (ins.code === OP_JGT) {
            ys.lo = Math.max(s.lo, ins.k + 1);
            ns.hi = Math.min(s.hi, ins.k);
          }
          if (ins.code === OP_JEQ) {
            ys.lo = ins.k;
            ys.hi = ins.k;
          }
          comments[pc] = name ?? (ins.k >= 0x40000000 && s.abi === 'x86_64' ? 'x32 syscall bit' : '');
        } else if (s.a !== null && s.a >= 16 && sys !== undefined && s.a % 8 === 0) {
          comments[pc] = constantName(sys.name, (s.a - 16) >> 3, ins.k) ?? '';
        }
        flow(yes, ys);
        flow(no, ns);
      }
    }
  }

  const lines = [`; tsjail seccomp filter for ${arch}: ${n} instructions`];
  const label = (pc: number): string => `L${pc}`;
  insns.forEach((ins, pc) => {
    if (targets.has(pc)) lines.push(`${label(pc)}:`);
    const m = MNEMONIC[ins.code] ?? `op_${hex(ins.code)}`;
    let operands: string;
    if (ins.code === OP_LD_ABS) operands = `[${ins.k}]`;
    else if (ins.code === OP_RET || ins.code === OP_AND) operands = `#${hex(ins.k)}`;
    else if (ins.code === OP_JA) operands = label(pc + 1 + ins.k);
    else if (MNEMONIC[ins.code] !== undefined)
      operands = `#${hex(ins.k)}, ${label(pc + 1 + ins.jt)}, ${label(pc + 1 + ins.jf)}`;
    else operands = `jt ${ins.jt} jf ${ins.jf} k ${hex(ins.k)}`;
    const text = `  ${String(pc).padStart(4)}: ${m.padEnd(5)}${operands}`;
    lines.push(comments[pc] ? `${text.padEnd(44)}; ${comments[pc]}` : text);
  });
  return `${lines.join('\n')}\n`;
}

export function disassemble(bytes: Uint8Array, arch: Arch): string {
  return disassembleInsns(decode(bytes), arch);
}
