// Verification of a finished program against what the kernel accepts, plus
// tsjail's own narrower rules. Pure.
//
// The kernel (net/core/filter.c bpf_check_classic, kernel/seccomp.c
// seccomp_check_filter) requires: 1..BPF_MAXINSNS instructions; known
// opcodes; jumps inside the program; for seccomp, loads only of aligned
// words inside struct seccomp_data; the last instruction a return. tsjail
// emits a subset (bpf.ts OP_*); anything else here is a compiler bug.

import {
  BPF_MAXINSNS,
  OP_AND,
  OP_JA,
  OP_JEQ,
  OP_JGE,
  OP_JGT,
  OP_JSET,
  OP_LD_ABS,
  OP_RET,
  SECCOMP_DATA_SIZE,
  type Insn,
} from './bpf.js';

export class SeccompProgramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeccompProgramError';
  }
}

/** The program is longer than the kernel takes; `instructions` says by how much. */
export class SeccompTooLargeError extends SeccompProgramError {
  constructor(readonly instructions: number) {
    super(
      `seccomp program has ${instructions} instructions; the kernel accepts at most ${BPF_MAXINSNS} ` +
        '(BPF_MAXINSNS). Reduce argument conditions or split the rules.',
    );
    this.name = 'SeccompTooLargeError';
  }
}

const ALLOWED = new Set([OP_LD_ABS, OP_AND, OP_JA, OP_JEQ, OP_JGT, OP_JGE, OP_JSET, OP_RET]);
const COND = new Set([OP_JEQ, OP_JGT, OP_JGE, OP_JSET]);

/** Throws SeccompProgramError describing the first problem found. */
export function verify(insns: readonly Insn[]): void {
  const n = insns.length;
  if (n === 0) throw new SeccompProgramError('empty seccomp program');
  if (n > BPF_MAXINSNS) throw new SeccompTooLargeError(n);
  // bpf_check_classic(): the last instruction must be a return.
  if (insns[n - 1]!.code !== OP_RET) throw new SeccompProgramError('the program does not end with a return');
  insns.forEach((ins, pc) => {
    const where = `instruction ${pc}`;
    if (!ALLOWED.has(ins.code))
      throw new SeccompProgramError(`${where}: opcode 0x${ins.code.toString(16)} not allowed`);
    if (!Number.isInteger(ins.k) || ins.k < 0 || ins.k > 0xffffffff) throw new SeccompProgramError(`${where}: bad k`);
    if (ins.jt < 0 || ins.jt > 255 || ins.jf < 0 || ins.jf > 255) throw new SeccompProgramError(`${where}: bad jt/jf`);
    if (ins.code === OP_LD_ABS && (ins.k >= SECCOMP_DATA_SIZE || ins.k % 4 !== 0)) {
      throw new SeccompProgramError(`${where}: load of offset ${ins.k} outside struct seccomp_data or unaligned`);
    }
    if (COND.has(ins.code)) {
      if (pc + 1 + Math.max(ins.jt, ins.jf) >= n) throw new SeccompProgramError(`${where}: jump past the end`);
    } else if (ins.code === OP_JA) {
      if (pc + 1 + ins.k >= n) throw new SeccompProgramError(`${where}: jump past the end`);
    } else if (ins.jt !== 0 || ins.jf !== 0) {
      throw new SeccompProgramError(`${where}: jt/jf set on a non-conditional instruction`);
    }
  });
}
