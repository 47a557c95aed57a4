// Code generation: decision tree -> a DAG of symbolic instructions. Pure.
//
// Built back to front like Chromium's CodeGen (sandbox/linux/bpf_dsl/
// codegen.cc): an instruction is made only after its successors exist, and
// MakeInstruction-style hash-consing on (code, k, successors) shares every
// identical tail, so the equal-result ranges of the dispatch cost nothing
// twice. Jumps stay symbolic here; resolve.ts lays the DAG out and fixes
// offsets.
//
// A test on word W compiles to `ld [W]; (and #mask;) jcc #imm`. Conditional
// jumps do not change the accumulator, so a successor that tests the same
// word without a mask is entered after its load.

import { OP_AND, OP_JEQ, OP_JGE, OP_JGT, OP_JSET, OP_LD_ABS, OP_RET } from './bpf.js';
import type { WordTest } from './lower.js';
import type { TreeNode } from './tree.js';

/** A symbolic instruction: conditional jumps have yes/no, LD/ALU have next, RET has neither. */
export interface SymInsn {
  readonly id: number;
  readonly code: number;
  readonly k: number;
  readonly yes?: SymInsn;
  readonly no?: SymInsn;
  readonly next?: SymInsn;
}

const JOP: Record<WordTest['op'], number> = { eq: OP_JEQ, gt: OP_JGT, ge: OP_JGE, set: OP_JSET };

export interface CodegenResult {
  readonly entry: SymInsn;
  /** Distinct instructions created (before layout). */
  readonly nodes: number;
}

export function codegen(root: TreeNode): CodegenResult {
  const pool = new Map<string, SymInsn>();
  let ids = 0;
  const make = (code: number, k: number, yes?: SymInsn, no?: SymInsn, next?: SymInsn): SymInsn => {
    const key = `${code}:${k}:${yes?.id ?? ''}:${no?.id ?? ''}:${next?.id ?? ''}`;
    let n = pool.get(key);
    if (n === undefined) {
      n = { id: ids++, code, k: k >>> 0, yes, no, next };
      pool.set(key, n);
    }
    return n;
  };

  /** entry: with the load; body: valid only when A already holds the tested word, unmasked. */
  interface Gen {
    entry: SymInsn;
    body: SymInsn | undefined;
    off: number | undefined;
  }
  const memo = new Map<TreeNode, Gen>();

  const build = (n: TreeNode): Gen => {
    if (n.k === 'ret') return { entry: make(OP_RET, n.ret), body: undefined, off: undefined };
    const t = n.t;
    const masked = t.mask !== 0xffffffff;
    // After an unmasked jump A still holds word t.off.
    const target = (c: TreeNode): SymInsn => {
      const cg = memo.get(c)!;
      return !masked && cg.off === t.off && cg.body !== undefined ? cg.body : cg.entry;
    };
    const yes = target(n.yes);
    const no = target(n.no);
    let body: SymInsn = yes === no ? yes : make(JOP[t.op], t.imm, yes, no);
    if (masked) body = make(OP_AND, t.mask, undefined, undefined, body);
    if (yes === no && yes.code === OP_RET) return { entry: yes, body: undefined, off: undefined };
    return { entry: make(OP_LD_ABS, t.off, undefined, undefined, body), body, off: t.off };
  };

  // Post-order walk with an explicit stack: argument lists can make chains
  // thousands of tests deep.
  const stack: TreeNode[] = [root];
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    if (memo.has(n)) {
      stack.pop();
      continue;
    }
    if (n.k === 'test' && !memo.has(n.yes)) {
      stack.push(n.yes);
      continue;
    }
    if (n.k === 'test' && !memo.has(n.no)) {
      stack.push(n.no);
      continue;
    }
    stack.pop();
    memo.set(n, build(n));
  }

  const entry = memo.get(root)!.entry;
  return { entry, nodes: ids };
}
