// The policy's answer for one syscall, computed directly from the resolved
// rules with 64-bit arithmetic: no lowering, no halves, no tree. It is the
// oracle the compiled program is tested against (test-only code). Pure.
//
// It shares only validation/group expansion (policy.ts) with the compiler and
// restates the semantics documented there and in lower.ts.

import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../../src/seccomp/bpf.js';
import type { SeccompData } from './interp.js';
import {
  resolvePolicy,
  type Arch,
  type Cond,
  type ResolvedPolicy,
  type RuleEntry,
  type SeccompPolicyInput,
} from '../../../src/seccomp/policy.js';
import { syscallTable, type Abi } from '../../../src/seccomp/tables/index.js';

const ALLOW = 0x7fff0000;
const LOG = 0x7ffc0000;
const KILL = 0x80000000;
const errno = (e: number): number => 0x00050000 + e;
const ENOSYS = errno(38);

const ARCH_OF: Record<string, number> = {
  x86_64: AUDIT_ARCH_X86_64,
  i386: AUDIT_ARCH_I386,
  aarch64: AUDIT_ARCH_AARCH64,
};

function holds(c: Cond, raw: bigint, list: 'allow' | 'deny', abi: Abi): boolean {
  const v = BigInt.asUintN(64, raw);
  let x = v;
  if (c.width === 32) {
    const lo = v & 0xffffffffn;
    const hi = v >> 32n;
    const signExtended = hi === 0xffffffffn && (lo & 0x80000000n) !== 0n;
    if (list === 'allow' && abi !== 'i386' && hi !== 0n && !signExtended) return false;
    x = lo;
  }
  const cmp = (y: bigint): boolean => {
    switch (c.op) {
      case '==':
      case 'in':
        return x === y;
      case '!=':
        return x !== y;
      case '<':
        return x < y;
      case '<=':
        return x <= y;
      case '>':
        return x > y;
      case '>=':
        return x >= y;
      case '&==':
        return (x & c.mask) === y;
    }
  };
  return c.values.some(cmp);
}

const anyMatch = (entries: readonly RuleEntry[], args: readonly bigint[], list: 'allow' | 'deny', abi: Abi): boolean =>
  entries.some((e) => e.conds.every((c) => holds(c, args[c.arg] ?? 0n, list, abi)));

const FALLBACK_ENOSYS = new Set([
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
const IO_URING = new Set(['io_uring_setup', 'io_uring_enter', 'io_uring_register']);

function denied(name: string, action: SeccompPolicyInput['action'], mandatory: boolean): number {
  // An executable memfd, and System V IPC under nestedSandbox, are refused as missing features.
  if (mandatory && ['memfd_create', 'shmget', 'semget', 'msgget', 'ipc'].includes(name)) return ENOSYS;
  const e = errno(name === 'socket' ? 97 : 1);
  if (action === 'kill') return !mandatory && IO_URING.has(name) ? e : KILL;
  if (action === 'log' && !mandatory) return LOG;
  return e;
}

/** Evaluates an already resolved policy (see resolvePolicy) for one seccomp_data. */
export function evaluateResolved(resolved: readonly ResolvedPolicy[], d: SeccompData): number {
  const p = resolved.find((r) => ARCH_OF[r.abi] === d.arch >>> 0);
  if (p === undefined) return KILL;
  const nr = d.nr >>> 0;
  if (p.abi === 'x86_64' && nr >= 0x40000000) return nr === 0xffffffff ? ENOSYS : KILL;
  const sys = syscallTable(p.abi).byNr(nr);
  if (sys === undefined) return ENOSYS;
  const rules = p.rules.get(nr);
  if (rules !== undefined) {
    if (anyMatch(rules.hardDeny, d.args, 'deny', p.abi)) return denied(sys.name, p.action, true);
    if (anyMatch(rules.deny, d.args, 'deny', p.abi)) return denied(sys.name, p.action, false);
    if (anyMatch(rules.allow, d.args, 'allow', p.abi)) return ALLOW;
  }
  return FALLBACK_ENOSYS.has(sys.name) ? ENOSYS : denied(sys.name, p.action, false);
}

export function evaluate(input: SeccompPolicyInput, arch: Arch, d: SeccompData): number {
  return evaluateResolved(resolvePolicy(input, arch), d);
}
