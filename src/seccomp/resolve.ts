// Jump resolution: symbolic instruction DAG -> linear program with concrete
// jump offsets. Pure.
//
// Classic BPF jumps only forward; jt/jf are u8. Instructions are placed back
// to front (every successor is placed before its predecessors), so every
// jump is forward by construction. A target more than 255 instructions away
// is reached through a trampoline: a copy of the RET when the target is a
// return (libseccomp's _gen_bpf_build_jmp_ret), else a JA with a 32-bit
// offset, reused while in range (Chromium's CodeGen::WithinRange). jt is
// checked against 254 first so that a trampoline added for jf afterwards
// cannot push jt out of range.

import { MAX_COND_JUMP, OP_JA, OP_RET, type Insn } from './bpf.js';
import type { SymInsn } from './codegen.js';

export interface Resolved {
  readonly insns: Insn[];
  /** Trampolines inserted (JA and duplicated RET). */
  readonly trampolines: number;
}

export function resolve(entry: SymInsn): Resolved {
  // rev[0] is the last instruction of the program.
  const rev: { code: number; jt: number; jf: number; k: number }[] = [];
  const pos = new Map<SymInsn, number>();
  const jaTo = new Map<number, number>(); // target position -> latest JA trampoline position
  let trampolines = 0;

  const offsetTo = (p: number): number => rev.length - 1 - p;

  const push = (code: number, jt: number, jf: number, k: number): number => {
    rev.push({ code, jt, jf, k: k >>> 0 });
    return rev.length - 1;
  };

  /** A position reachable from the next appended instruction within `limit`. */
  const within = (p: number, limit: number): number => {
    if (offsetTo(p) <= limit) return p;
    const target = rev[p]!;
    if (target.code === OP_RET) {
      trampolines++;
      return push(OP_RET, 0, 0, target.k);
    }
    const ja = jaTo.get(p);
    if (ja !== undefined && offsetTo(ja) <= limit) return ja;
    trampolines++;
    const q = push(OP_JA, 0, 0, offsetTo(p));
    jaTo.set(p, q);
    return q;
  };

  const emit = (n: SymInsn): void => {
    let p: number;
    if (n.yes !== undefined && n.no !== undefined) {
      const y2 = within(pos.get(n.yes)!, MAX_COND_JUMP - 1);
      const f2 = within(pos.get(n.no)!, MAX_COND_JUMP);
      p = push(n.code, offsetTo(y2), offsetTo(f2), n.k);
    } else if (n.next !== undefined) {
      const q = pos.get(n.next)!;
      // A fall-through instruction needs its successor right after it.
      if (q !== rev.length - 1) {
        trampolines++;
        push(OP_JA, 0, 0, offsetTo(q));
      }
      p = push(n.code, 0, 0, n.k);
    } else {
      p = push(n.code, 0, 0, n.k);
    }
    pos.set(n, p);
  };

  // Successors first (yes, then no, so that no tends to sit right after the
  // jump), with an explicit stack: chains can be thousands deep.
  const stack: SymInsn[] = [entry];
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    if (pos.has(n)) {
      stack.pop();
      continue;
    }
    const pending = [n.yes, n.no, n.next].find((s) => s !== undefined && !pos.has(s));
    if (pending !== undefined) {
      stack.push(pending);
      continue;
    }
    stack.pop();
    emit(n);
  }
  return { insns: rev.reverse(), trampolines };
}
