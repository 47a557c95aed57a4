// Decision tree: lowered ABIs -> one tree of word tests ending in return
// values. Pure.
//
// Layout (seccomp-landlock reference §1.2, §1.5, §2.3):
//   arch == native ?  <dispatch on nr>  :  arch == i386 (multiarch only) ? <i386 dispatch> : KILL
// Dispatch merges equal neighbouring results into ranges of syscall numbers
// and searches them with a balanced tree of `nr >= start` tests (Chromium's
// FindRanges/AssembleJumpTable, kafel's range tree). Argument-free results
// are plain return leaves reached by loading only arch and nr, which is what
// the kernel's action cache needs (kernel/seccomp.c seccomp_is_const_allow);
// argument tests live in the leaf of their own syscall number.

import { OFF_ARCH, OFF_NR } from './bpf.js';
import type { BExpr, Decision, LoweredAbi, WordTest } from './lower.js';
import { RET_KILL } from './lower.js';

export type TreeNode =
  | { readonly k: 'ret'; readonly ret: number }
  | { readonly k: 'test'; readonly t: WordTest; readonly yes: TreeNode; readonly no: TreeNode };

export interface NrRange {
  from: number;
  to: number;
  leaf: Decision;
}

const rets = new Map<number, TreeNode>();
/** Shared return leaves (identity matters to later stages only as a hint; codegen hash-conses anyway). */
export function ret(value: number): TreeNode {
  let n = rets.get(value >>> 0);
  if (n === undefined) {
    n = { k: 'ret', ret: value >>> 0 };
    rets.set(value >>> 0, n);
  }
  return n;
}

function testNode(t: WordTest, yes: TreeNode, no: TreeNode): TreeNode {
  return yes === no ? yes : { k: 'test', t, yes, no };
}

/** Continuation-passing translation of a boolean expression into tests. */
export function exprTree(e: BExpr, yes: TreeNode, no: TreeNode): TreeNode {
  switch (e.k) {
    case 'const':
      return e.v ? yes : no;
    case 'test':
      return testNode(e, yes, no);
    case 'not':
      return exprTree(e.x, no, yes);
    case 'and':
      return e.xs.reduceRight<TreeNode>((acc, x) => exprTree(x, acc, no), yes);
    case 'or':
      return e.xs.reduceRight<TreeNode>((acc, x) => exprTree(x, yes, acc), no);
  }
}

export function decisionTree(d: Decision): TreeNode {
  if (d.kind === 'ret') return ret(d.ret);
  return d.cases.reduceRight<TreeNode>((acc, c) => exprTree(c.when, ret(c.ret), acc), ret(d.otherwise));
}

function sameLeaf(a: Decision, b: Decision): boolean {
  return a.kind === 'ret' && b.kind === 'ret' && a.ret === b.ret;
}

/**
 * Consecutive syscall numbers with the same constant result, covering
 * 0..0xffffffff. Numbers in `elsewhere` are dispatched before the tree, so
 * the tree may give them any result: they join the range before them.
 */
export function nrRanges(l: LoweredAbi, elsewhere: ReadonlySet<number> = new Set()): NrRange[] {
  const out: NrRange[] = [];
  const add = (from: number, to: number, leaf: Decision): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.to + 1 === from && sameLeaf(last.leaf, leaf)) last.to = to;
    else out.push({ from, to, leaf });
  };
  l.decisions.forEach((d, nr) => {
    const last = out[out.length - 1];
    if (elsewhere.has(nr) && last !== undefined) last.to = nr;
    else add(nr, nr, d);
  });
  for (const t of l.tail) add(t.from, t.to, { kind: 'ret', ret: t.ret });
  return out;
}

const nrTest = (imm: number): WordTest => ({ k: 'test', off: OFF_NR, op: 'ge', imm, mask: 0xffffffff });

/** Balanced binary search over ranges with `nr >= start` tests. */
export function dispatchTree(ranges: readonly NrRange[]): TreeNode {
  const build = (lo: number, hi: number): TreeNode => {
    if (hi - lo === 1) return decisionTree(ranges[lo]!.leaf);
    const mid = (lo + hi) >>> 1;
    return testNode(nrTest(ranges[mid]!.from), build(mid, hi), build(lo, mid));
  };
  return build(0, ranges.length);
}

const archTest = (arch: number): WordTest => ({
  k: 'test',
  off: OFF_ARCH,
  op: 'eq',
  imm: arch >>> 0,
  mask: 0xffffffff,
});

/**
 * Argument-checked syscalls that run often enough to be worth testing by
 * equality before the tree. Only calls the action cache cannot serve ever run
 * the filter, so a short prefix costs cached calls nothing and saves the hot
 * uncached ones the walk down the tree (the reference's advice, §1.5; bionic's
 * priority list does the same).
 */
const HOT_ARG_CHECKED = ['ioctl', 'futex', 'fcntl', 'mmap', 'mprotect', 'socket', 'clone', 'prctl'];
const MAX_PREFIX = 3;

/** Numbers tested before the tree, hottest first. */
export function hotPrefix(l: LoweredAbi): number[] {
  const out: number[] = [];
  for (const name of HOT_ARG_CHECKED) {
    const nr = l.decisions.findIndex((d) => d.kind === 'args' && d.name === name);
    if (nr >= 0 && out.length < MAX_PREFIX) out.push(nr);
  }
  return out;
}

const nrEq = (imm: number): WordTest => ({ k: 'test', off: OFF_NR, op: 'eq', imm, mask: 0xffffffff });

/** Dispatch for one ABI: the hot prefix, then the balanced range tree. */
export function abiTree(l: LoweredAbi): TreeNode {
  const hot = hotPrefix(l);
  return hot.reduceRight<TreeNode>(
    (acc, nr) => testNode(nrEq(nr), decisionTree(l.decisions[nr]!), acc),
    dispatchTree(nrRanges(l, new Set(hot))),
  );
}

/** The whole program: arch checks, then one dispatch per compiled ABI. Foreign arches are killed. */
export function programTree(abis: readonly LoweredAbi[]): TreeNode {
  return abis.reduceRight<TreeNode>((acc, l) => testNode(archTest(l.auditArch), abiTree(l), acc), ret(RET_KILL));
}
