// A classic-BPF interpreter for seccomp programs, limited to the instructions
// verify.ts allows, to run a program on a given struct seccomp_data in the
// tests (test-only code). Pure.

import {
  OP_AND,
  OP_JA,
  OP_JEQ,
  OP_JGE,
  OP_JGT,
  OP_JSET,
  OP_LD_ABS,
  OP_RET,
  type Insn,
} from '../../../src/seccomp/bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Six 64-bit arguments. */
  args: readonly bigint[];
}

/** The 32-bit word at a seccomp_data offset (little-endian layout). */
export function dataWord(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return d.arch >>> 0;
  const ip = d.instructionPointer ?? 0n;
  if (off === 8) return Number(ip & 0xffffffffn);
  if (off === 12) return Number((ip >> 32n) & 0xffffffffn);
  const i = (off - 16) >> 3;
  const v = BigInt.asUintN(64, d.args[i] ?? 0n);
  return Number(off % 8 === 0 ? v & 0xffffffffn : v >> 32n);
}

export interface RunResult {
  ret: number;
  /** Instructions executed, return included. */
  steps: number;
  /** Offsets loaded on the executed path. */
  loads: number[];
}

export function run(prog: readonly Insn[], d: SeccompData): RunResult {
  let a = 0;
  let pc = 0;
  let steps = 0;
  const loads: number[] = [];
  for (;;) {
    const ins = prog[pc];
    if (ins === undefined) throw new Error(`pc ${pc} ran off the program`);
    steps++;
    switch (ins.code) {
      case OP_LD_ABS:
        a = dataWord(d, ins.k);
        loads.push(ins.k);
        pc++;
        break;
      case OP_AND:
        a = (a & ins.k) >>> 0;
        pc++;
        break;
      case OP_JA:
        pc += 1 + ins.k;
        break;
      case OP_JEQ:
        pc += 1 + (a === ins.k ? ins.jt : ins.jf);
        break;
      case OP_JGT:
        pc += 1 + (a > ins.k ? ins.jt : ins.jf);
        break;
      case OP_JGE:
        pc += 1 + (a >= ins.k ? ins.jt : ins.jf);
        break;
      case OP_JSET:
        pc += 1 + ((a & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      case OP_RET:
        return { ret: ins.k >>> 0, steps, loads };
      default:
        throw new Error(`opcode 0x${ins.code.toString(16)} at ${pc} is not supported`);
    }
  }
}
