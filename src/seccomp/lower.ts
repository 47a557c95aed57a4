// Lowering: resolved policy of one ABI -> per-syscall-number decisions whose
// argument tests work on 32-bit words (classic BPF has 32-bit registers).
// Pure.
//
// A 64-bit argument is a (high, low) pair of words at args[i]+4 / args[i]+0
// (little-endian, see bpf.ts); comparisons follow libseccomp's truth tables
// (src/db.c _db_rule_gen_64): high decides unless equal, then low decides.
// A 32-bit argument is tested on its low word; in allow rules the high word
// must also be a zero- or sign-extension of it (see policy.ts).

import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  EAFNOSUPPORT,
  ENOSYS,
  EPERM,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_LOG,
  X32_SYSCALL_BIT,
  argHi,
  argLo,
  retErrno,
} from './bpf.js';
import { SYSV_CREATE, type Cond, type ResolvedPolicy, type RuleEntry, type SyscallRules } from './policy.js';
import { syscallTable, type Abi } from './tables/index.js';

/** A test on one 32-bit word of seccomp_data: ((word & mask) OP imm). */
export interface WordTest {
  readonly k: 'test';
  readonly off: number;
  readonly op: 'eq' | 'gt' | 'ge' | 'set';
  readonly imm: number;
  /** 0xffffffff = no masking. Only used with 'eq'. */
  readonly mask: number;
}

export type BExpr =
  | { readonly k: 'const'; readonly v: boolean }
  | WordTest
  | { readonly k: 'and' | 'or'; readonly xs: readonly BExpr[] }
  | { readonly k: 'not'; readonly x: BExpr };

/** What one syscall number does: a constant, or ordered argument cases. */
export type Decision =
  | { readonly kind: 'ret'; readonly ret: number }
  | {
      readonly kind: 'args';
      readonly name: string;
      readonly cases: readonly { when: BExpr; ret: number }[];
      readonly otherwise: number;
    };

export interface LoweredAbi {
  readonly abi: Abi;
  readonly auditArch: number;
  /** decisions[nr] for 0 <= nr <= table max. */
  readonly decisions: readonly Decision[];
  /** Constant results above the table, as [from, to] inclusive ranges up to 0xffffffff. */
  readonly tail: readonly { from: number; to: number; ret: number }[];
}

export const RET_ALLOW = SECCOMP_RET_ALLOW;
export const RET_KILL = SECCOMP_RET_KILL_PROCESS;
export const RET_ENOSYS = retErrno(ENOSYS);

/**
 * Not allowed -> ENOSYS rather than a denial: libc falls back to an older
 * call. clone3 (flags in user memory; glibc falls back to clone, CVE-2021-41133
 * flatpak fix), the new mount API (same CVE), and i386 socketcall (the address
 * family is behind a pointer; libc then uses socket(2), on i386 since 4.3).
 */
export const ENOSYS_FALLBACK: ReadonlySet<string> = new Set([
  'clone3',
  'open_tree',
  'open_tree_attr',
  'move_mount',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'socketcall',
]);

/** Denied io_uring calls return EPERM even under "kill": libuv probes io_uring_setup at start-up. */
const NEVER_KILL: ReadonlySet<string> = new Set(['io_uring_setup', 'io_uring_enter', 'io_uring_register']);

export function denyRet(name: string, action: ResolvedPolicy['action']): number {
  const errno = name === 'socket' ? EAFNOSUPPORT : EPERM;
  if (action === 'kill') return NEVER_KILL.has(name) ? retErrno(errno) : RET_KILL;
  if (action === 'log') return SECCOMP_RET_LOG;
  return retErrno(errno);
}

/** tsjail's mandatory denials are not a profile choice: "log" does not let them through. */
export function hardDenyRet(name: string, action: ResolvedPolicy['action']): number {
  // An executable memfd is refused as a missing feature, never fatally.
  // So is System V IPC under nestedSandbox, as on a kernel built without it.
  if (name === 'memfd_create' || (SYSV_CREATE as readonly string[]).includes(name)) return RET_ENOSYS;
  return action === 'kill' ? RET_KILL : retErrno(name === 'socket' ? EAFNOSUPPORT : EPERM);
}

export function fallbackRet(name: string, action: ResolvedPolicy['action']): number {
  return ENOSYS_FALLBACK.has(name) ? RET_ENOSYS : denyRet(name, action);
}

// ---- boolean expressions with constant folding ----

const TRUE: BExpr = { k: 'const', v: true };
const FALSE: BExpr = { k: 'const', v: false };

export function and(...xs: BExpr[]): BExpr {
  const out: BExpr[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (!x.v) return FALSE;
      continue;
    }
    if (x.k === 'and') out.push(...x.xs);
    else out.push(x);
  }
  return out.length === 0 ? TRUE : out.length === 1 ? out[0]! : { k: 'and', xs: out };
}

export function or(...xs: BExpr[]): BExpr {
  const out: BExpr[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (x.v) return TRUE;
      continue;
    }
    if (x.k === 'or') out.push(...x.xs);
    else out.push(x);
  }
  return out.length === 0 ? FALSE : out.length === 1 ? out[0]! : { k: 'or', xs: out };
}

export function not(x: BExpr): BExpr {
  if (x.k === 'const') return x.v ? FALSE : TRUE;
  if (x.k === 'not') return x.x;
  return { k: 'not', x };
}

const test = (off: number, op: WordTest['op'], imm: number, mask = 0xffffffff): BExpr => ({
  k: 'test',
  off,
  op,
  imm: imm >>> 0,
  mask: mask >>> 0,
});

const eq = (off: number, v: number): BExpr => test(off, 'eq', v);
/** word > v, folded at the ends of the range. */
const gt = (off: number, v: number): BExpr => (v >>> 0 === 0xffffffff ? FALSE : test(off, 'gt', v));
/** word >= v */
const ge = (off: number, v: number): BExpr => (v >>> 0 === 0 ? TRUE : test(off, 'ge', v));

/** (word & m) == v, with Chromium's MaskedEqualHalf specialisations. */
export function maskedEq(off: number, m: number, v: number): BExpr {
  m >>>= 0;
  v >>>= 0;
  if ((v & ~m) >>> 0 !== 0) return FALSE;
  if (m === 0) return TRUE;
  if (m === 0xffffffff) return eq(off, v);
  if (v === 0) return not(test(off, 'set', m));
  if (v === m && (m & (m - 1)) === 0) return test(off, 'set', m);
  return test(off, 'eq', v, m);
}

const hi32 = (v: bigint): number => Number(v >> 32n);
const lo32 = (v: bigint): number => Number(v & 0xffffffffn);

function cmp32(off: number, op: Cond['op'], v: number, m: number): BExpr {
  switch (op) {
    case '==':
      return eq(off, v);
    case '!=':
      return not(eq(off, v));
    case '<':
      return not(ge(off, v));
    case '<=':
      return not(gt(off, v));
    case '>':
      return gt(off, v);
    case '>=':
      return ge(off, v);
    case '&==':
      return maskedEq(off, m, v);
    case 'in':
      throw new Error('unreachable');
  }
}

function cmp64(arg: number, op: Cond['op'], v: bigint, m: bigint): BExpr {
  const H = argHi(arg);
  const L = argLo(arg);
  const vh = hi32(v);
  const vl = lo32(v);
  switch (op) {
    case '==':
      return and(eq(H, vh), eq(L, vl));
    case '!=':
      return not(and(eq(H, vh), eq(L, vl)));
    case '>':
      return or(gt(H, vh), and(eq(H, vh), gt(L, vl)));
    case '>=':
      return or(gt(H, vh), and(eq(H, vh), ge(L, vl)));
    case '<':
      return not(or(gt(H, vh), and(eq(H, vh), ge(L, vl))));
    case '<=':
      return not(or(gt(H, vh), and(eq(H, vh), gt(L, vl))));
    case '&==':
      return and(maskedEq(H, hi32(m), vh), maskedEq(L, lo32(m), vl));
    case 'in':
      throw new Error('unreachable');
  }
}

/** The high word of a 32-bit argument is 0, or 0xffffffff with bit 31 of the low word set. */
export function canonicalHigh(arg: number): BExpr {
  return or(eq(argHi(arg), 0), and(eq(argHi(arg), 0xffffffff), test(argLo(arg), 'set', 0x80000000)));
}

/**
 * One condition as a word-level expression. `abiIs32` means the ABI passes
 * 32-bit registers (i386): the kernel's ia32 entry truncates every argument
 * (SC_IA32_REGS_TO_ARGS casts to u32), so the high word is ignored entirely.
 */
export function lowerCond(c: Cond, context: 'allow' | 'deny', abiIs32: boolean): BExpr {
  const op = c.op === 'in' ? '==' : c.op;
  if (c.width === 64) return or(...c.values.map((v) => cmp64(c.arg, op, v, c.mask)));
  const L = argLo(c.arg);
  if (context === 'deny' || abiIs32) return or(...c.values.map((v) => cmp32(L, op, lo32(v), lo32(c.mask))));
  // Allow rule on a 32-bit argument: the value test first (it usually
  // decides), then the high word. After an equality test bit 31 of the low
  // word is known, so the sign-extension case folds to a plain compare.
  if (op === '==') {
    const H = argHi(c.arg);
    return or(
      ...c.values.map((v) =>
        and(eq(L, lo32(v)), (lo32(v) & 0x80000000) !== 0 ? or(eq(H, 0), eq(H, 0xffffffff)) : eq(H, 0)),
      ),
    );
  }
  return and(or(...c.values.map((v) => cmp32(L, op, lo32(v), lo32(c.mask)))), canonicalHigh(c.arg));
}

function lowerEntries(entries: readonly RuleEntry[], context: 'allow' | 'deny', abiIs32: boolean): BExpr {
  return or(...entries.map((e) => and(...e.conds.map((c) => lowerCond(c, context, abiIs32)))));
}

export function lowerSyscall(r: SyscallRules, action: ResolvedPolicy['action'], abiIs32: boolean): Decision {
  const name = r.sys.name;
  const cases: { when: BExpr; ret: number }[] = [];
  const push = (when: BExpr, ret: number): void => {
    if (when.k === 'const' && !when.v) return;
    // A case that can only follow one with the same result merges into it.
    const last = cases[cases.length - 1];
    if (last !== undefined && last.ret === ret) last.when = or(last.when, when);
    else cases.push({ when, ret });
  };
  push(lowerEntries(r.hardDeny, 'deny', abiIs32), hardDenyRet(name, action));
  push(lowerEntries(r.deny, 'deny', abiIs32), denyRet(name, action));
  push(lowerEntries(r.allow, 'allow', abiIs32), RET_ALLOW);
  let otherwise = fallbackRet(name, action);
  // An always-true case ends the chain: it becomes the fallback.
  const firstTrue = cases.findIndex((c) => c.when.k === 'const' && c.when.v);
  if (firstTrue >= 0) {
    otherwise = cases[firstTrue]!.ret;
    cases.length = firstTrue;
  }
  // Trailing cases that give the fallback anyway are dropped.
  while (cases.length > 0 && cases[cases.length - 1]!.ret === otherwise) cases.pop();
  if (cases.length === 0) return { kind: 'ret', ret: otherwise };
  return { kind: 'args', name, cases, otherwise };
}

export const AUDIT_ARCH: Record<Exclude<Abi, 'x32'>, number> = {
  x86_64: AUDIT_ARCH_X86_64,
  i386: AUDIT_ARCH_I386,
  aarch64: AUDIT_ARCH_AARCH64,
};

export function lowerAbi(p: ResolvedPolicy): LoweredAbi {
  if (p.abi === 'x32') throw new Error('x32 is never compiled, only refused');
  const table = syscallTable(p.abi);
  const abiIs32 = p.abi === 'i386';
  const decisions: Decision[] = [];
  for (let nr = 0; nr <= table.maxNr; nr++) {
    const sys = table.byNr(nr);
    const r = p.rules.get(nr);
    if (sys === undefined) decisions.push({ kind: 'ret', ret: RET_ENOSYS });
    else if (r === undefined) decisions.push({ kind: 'ret', ret: fallbackRet(sys.name, p.action) });
    else decisions.push(lowerSyscall(r, p.action, abiIs32));
  }
  const above = table.maxNr + 1;
  // x32 shares AUDIT_ARCH_X86_64 and sets bit 30 of nr: refuse it (the kernel
  // keeps x32 out of the action cache anyway, arch/x86/include/asm/seccomp.h).
  // nr == -1 is a tracer's "skip this call" (re-filtered since Linux 4.8):
  // ENOSYS, as libseccomp does, never kill.
  const tail =
    p.abi === 'x86_64'
      ? [
          { from: above, to: X32_SYSCALL_BIT - 1, ret: RET_ENOSYS },
          { from: X32_SYSCALL_BIT, to: 0xfffffffe, ret: RET_KILL },
          { from: 0xffffffff, to: 0xffffffff, ret: RET_ENOSYS },
        ]
      : [{ from: above, to: 0xffffffff, ret: RET_ENOSYS }];
  return { abi: p.abi, auditArch: AUDIT_ARCH[p.abi], decisions, tail };
}
