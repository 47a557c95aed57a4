// Public entry point of the seccomp compiler, called by the launcher for every
// start: profile `syscalls` (already merged) + arch -> raw BPF bytes for
// seccomp(SECCOMP_SET_MODE_FILTER) / `bwrap --seccomp FD`.
//
// Stages, one pure module each:
//   policy.ts  validate, expand groups, add tsjail's mandatory rules
//   lower.ts   per-ABI decisions on 32-bit words
//   tree.ts    arch check + balanced range tree on nr + argument leaves
//   codegen.ts hash-consed instruction DAG, built back to front
//   resolve.ts layout, jump offsets, trampolines past 255
//   verify.ts  kernel rules (opcodes, bounds, <= 4096 instructions)
//   encode.ts  8-byte little-endian struct sock_filter

import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SECCOMP_RET_ALLOW, type Insn } from './bpf.js';
import { codegen } from './codegen.js';
import { cacheBitmap } from './const-allow.js';
import { disassemble as disassembleBytes } from './disasm.js';
import { encode } from './encode.js';
import { lowerAbi, type LoweredAbi } from './lower.js';
import { notifyRefusals, type NotifiedSyscall } from './notify.js';
import { resolvePolicy, validatePolicy, type Arch, type PolicyError, type SeccompPolicyInput } from './policy.js';
import { resolve } from './resolve.js';
import { syscallTable } from './tables/index.js';
import { nrRanges, programTree } from './tree.js';
import { verify } from './verify.js';

export type { Arch, PolicyError, SeccompPolicyInput, SyscallEntry, ArgCond } from './policy.js';
export type { NotifiedSyscall } from './notify.js';
export { SeccompPolicyError } from './policy.js';
export { SeccompProgramError, SeccompTooLargeError } from './verify.js';
export { BPF_MAXINSNS } from './bpf.js';

export interface CompileStats {
  /** ABIs compiled, native first. */
  abis: string[];
  /** Number ranges dispatched per ABI. */
  ranges: Record<string, number>;
  /** Syscalls allowed without condition per ABI. */
  allowed: Record<string, number>;
  /** Syscalls with argument checks per ABI. */
  argChecked: Record<string, number>;
  /** Native syscall numbers the kernel's action cache will serve (5.11+); computed on first read. */
  readonly cacheable: number;
  trampolines: number;
  /** Wall time of the compilation in milliseconds. */
  millis: number;
}

export interface CompileResult {
  /** With `notify`: the native calls whose refusals go to the listener, and their errno. */
  notified?: NotifiedSyscall[];
  /** With `observe`: the native calls the listener sees although the filter allows them. */
  observed?: NotifiedSyscall[];
  bytes: Uint8Array;
  instructions: number;
  insns: Insn[];
  stats: CompileStats;
}

/** Validates without compiling; errors carry the index of the entry in allow or deny (-1: the policy itself). */
export function validateSeccompPolicy(input: SeccompPolicyInput, arch: Arch): PolicyError[] {
  return validatePolicy(input, arch);
}

/** The rules per ABI (the native one first) for every syscall a list names: what `profile explain` compares. */
export const resolveSeccompPolicy = resolvePolicy;

/** Compiles a policy. Throws SeccompPolicyError (invalid policy) or SeccompTooLargeError (too large for the kernel). */
export function compileSeccomp(input: SeccompPolicyInput, arch: Arch): CompileResult {
  const t0 = performance.now();
  const lowered: LoweredAbi[] = resolvePolicy(input, arch).map(lowerAbi);
  let notified: NotifiedSyscall[] | undefined;
  let observed: NotifiedSyscall[] | undefined;
  if (input.notify === true) {
    const n = notifyRefusals(lowered[0]!, new Set(input.observe ?? []), input.learn === true);
    lowered[0] = n.lowered;
    notified = n.notified;
    observed = n.observed;
  }
  const { entry } = codegen(programTree(lowered));
  const { insns, trampolines } = resolve(entry);
  verify(insns);
  const bytes = encode(insns);
  const millis = performance.now() - t0;

  const native = lowered[0]!;
  const nativeArch = arch === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
  const stats: CompileStats = {
    abis: lowered.map((l) => l.abi),
    ranges: Object.fromEntries(lowered.map((l) => [l.abi, nrRanges(l).length])),
    allowed: Object.fromEntries(
      lowered.map((l) => [l.abi, l.decisions.filter((d) => d.kind === 'ret' && d.ret === SECCOMP_RET_ALLOW).length]),
    ),
    argChecked: Object.fromEntries(lowered.map((l) => [l.abi, l.decisions.filter((d) => d.kind === 'args').length])),
    get cacheable() {
      return cacheBitmap(insns, nativeArch, syscallTable(native.abi).maxNr + 1).filter(Boolean).length;
    },
    trampolines,
    millis,
  };
  return {
    bytes,
    instructions: insns.length,
    insns,
    stats,
    ...(notified ? { notified } : {}),
    ...(observed ? { observed } : {}),
  };
}

/** Readable listing of a compiled filter: labels, syscall names, resolved constants. */
export function disassemble(bytes: Uint8Array, arch: Arch): string {
  return disassembleBytes(bytes, arch);
}

/** The arch tsjail compiles for on this machine. */
export function hostArch(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`tsjail's seccomp compiler supports x86_64 and aarch64, not ${process.arch}`);
}

/** i386 audit arch, for callers probing multiarch. */
export const AUDIT_ARCH = { x86_64: AUDIT_ARCH_X86_64, i386: AUDIT_ARCH_I386, aarch64: AUDIT_ARCH_AARCH64 } as const;
