// A port of the kernel's action-cache preparation (kernel/seccomp.c, 5.11+:
// seccomp_is_const_allow and seccomp_cache_prepare_bitmap). When a filter is
// attached, the kernel emulates it for every syscall number of each arch
// with only nr and arch known; numbers for which the program provably returns
// exactly SECCOMP_RET_ALLOW are then allowed without running the filter.
// Used by tests and compile statistics. Pure.

import {
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  OFF_ARCH,
  OFF_NR,
  OP_AND,
  OP_LD_ABS,
  OP_RET,
  SECCOMP_RET_ALLOW,
  type Insn,
} from './bpf.js';

/** seccomp_is_const_allow(): true iff the program returns ALLOW for (nr, arch) whatever the arguments. */
export function isConstAllow(prog: readonly Insn[], nr: number, arch: number): boolean {
  let reg = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k, jt, jf } = prog[pc]!;
    switch (code) {
      case OP_LD_ABS:
        if (k === OFF_NR) reg = nr >>> 0;
        else if (k === OFF_ARCH) reg = arch >>> 0;
        else return false; // a non-constant value load
        break;
      case OP_RET:
        return k === SECCOMP_RET_ALLOW;
      case BPF_JMP | BPF_JA:
        pc += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K: {
        const op = code & 0xf0;
        const res = op === BPF_JEQ ? reg === k : op === BPF_JGE ? reg >= k : op === BPF_JGT ? reg > k : (reg & k) !== 0;
        pc += res ? jt : jf;
        break;
      }
      case OP_AND:
        reg = (reg & k) >>> 0;
        break;
      default:
        return false; // an instruction the emulator does not know
    }
  }
  return false; // ran off the end
}

/**
 * seccomp_cache_prepare_bitmap() for one filter on top of `previous` (all
 * allowed when absent): the numbers in [0, size) served from the cache.
 */
export function cacheBitmap(
  prog: readonly Insn[],
  arch: number,
  size: number,
  previous?: readonly boolean[],
): boolean[] {
  const out: boolean[] = [];
  for (let nr = 0; nr < size; nr++) out.push((previous?.[nr] ?? true) && isConstAllow(prog, nr, arch));
  return out;
}
