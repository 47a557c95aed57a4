/**
 * The merged profile's `syscalls` -> the seccomp compiler's input, and the
 * compiler's complaints -> FILE:LINE errors pointing at the entry at fault.
 */
import type { MergedProfile } from '../profile/index.js';
import { TsjailError } from '../errors.js';
import {
  compileSeccomp,
  validateSeccompPolicy,
  type Arch,
  type CompileResult,
  type SeccompPolicyInput,
} from '../seccomp/compile.js';

export function seccompInput(p: MergedProfile, network: 'none' | 'host'): SeccompPolicyInput {
  return {
    allow: p.syscalls.allow.map((e) => e.value),
    deny: p.syscalls.deny.map((e) => e.value),
    action: p.syscalls.action,
    network,
    nestedSandbox: p.nestedSandbox,
    multiarch: p.syscalls.multiarch,
  };
}

/** Validate, then compile; an invalid entry is reported where it was written. */
export function compileProfileSeccomp(p: MergedProfile, network: 'none' | 'host', arch: Arch): CompileResult {
  const input = seccompInput(p, network);
  const errors = validateSeccompPolicy(input, arch);
  if (errors.length > 0) {
    const e = errors[0]!;
    const tagged = e.index >= 0 ? p.syscalls[e.list][e.index] : undefined;
    const at = tagged ? `${tagged.source.file}:${tagged.source.line}: ` : '';
    const key = e.index >= 0 ? `syscalls.${e.list}: ` : 'syscalls: ';
    throw new TsjailError(`${at}${key}${e.message}`);
  }
  return compileSeccomp(input, arch);
}
