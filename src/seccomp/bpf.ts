// Classic-BPF vocabulary for seccomp: opcodes, the seccomp_data layout, return
// values and audit architecture numbers. Pure constants and tiny helpers.
//
// Sources: include/uapi/linux/filter.h and bpf_common.h (opcode bits),
// include/uapi/linux/seccomp.h (struct seccomp_data, SECCOMP_RET_*),
// include/uapi/linux/audit.h (AUDIT_ARCH_*), include/uapi/asm-generic/errno*.h.

/** One struct sock_filter. jt/jf are u8, k is u32. */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Instruction classes and fields (bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** The only instructions tsjail emits; all are accepted by seccomp_check_filter() (kernel/seccomp.c). */
export const OP_LD_ABS = BPF_LD | BPF_W | BPF_ABS; // 0x20
export const OP_AND = BPF_ALU | BPF_AND | BPF_K; // 0x54
export const OP_JA = BPF_JMP | BPF_JA; // 0x05
export const OP_JEQ = BPF_JMP | BPF_JEQ | BPF_K; // 0x15
export const OP_JGT = BPF_JMP | BPF_JGT | BPF_K; // 0x25
export const OP_JGE = BPF_JMP | BPF_JGE | BPF_K; // 0x35
export const OP_JSET = BPF_JMP | BPF_JSET | BPF_K; // 0x45
export const OP_RET = BPF_RET | BPF_K; // 0x06

export type CondOp = typeof OP_JEQ | typeof OP_JGT | typeof OP_JGE | typeof OP_JSET;

/** Program length limit: BPF_MAXINSNS, checked in seccomp_prepare_filter(). */
export const BPF_MAXINSNS = 4096;
/** jt/jf are u8 (struct sock_filter). */
export const MAX_COND_JUMP = 255;

// struct seccomp_data offsets. args[] are u64 in native byte order; all our
// ABIs are little-endian, so the low word is at +0 and the high word at +4.
export const OFF_NR = 0;
export const OFF_ARCH = 4;
export const OFF_IP = 8;
export const SECCOMP_DATA_SIZE = 64;
export const argLo = (i: number): number => 16 + 8 * i;
export const argHi = (i: number): number => 20 + 8 * i;

// Return values (seccomp.h). Only the exact ALLOW value is cacheable.
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;
export const EAFNOSUPPORT = 97;
const ERRNO_NAMES: Record<number, string> = { [EPERM]: 'EPERM', [ENOSYS]: 'ENOSYS', [EAFNOSUPPORT]: 'EAFNOSUPPORT' };

export const retErrno = (e: number): number => (SECCOMP_RET_ERRNO | (e & SECCOMP_RET_DATA)) >>> 0;

/** Human name of a return value, e.g. "ERRNO(EPERM)". */
export function retName(k: number): string {
  const action = (k & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = k & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_ALLOW:
      return data === 0 ? 'ALLOW' : `ALLOW|${data}`;
    case SECCOMP_RET_LOG:
      return 'LOG';
    case SECCOMP_RET_KILL_PROCESS:
      return 'KILL_PROCESS';
    case SECCOMP_RET_KILL_THREAD:
      return 'KILL_THREAD';
    case SECCOMP_RET_TRAP:
      return 'TRAP';
    case SECCOMP_RET_USER_NOTIF:
      return 'USER_NOTIF';
    case SECCOMP_RET_TRACE:
      return `TRACE(${data})`;
    case SECCOMP_RET_ERRNO:
      return `ERRNO(${ERRNO_NAMES[data] ?? data})`;
    default:
      return `0x${k.toString(16)}`;
  }
}

// Audit architectures (audit.h): EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;
/** arch/x86/include/uapi/asm/unistd.h: x32 syscalls carry this bit in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

export const AUDIT_ARCH_NAMES: Record<number, string> = {
  [AUDIT_ARCH_X86_64]: 'AUDIT_ARCH_X86_64',
  [AUDIT_ARCH_I386]: 'AUDIT_ARCH_I386',
  [AUDIT_ARCH_AARCH64]: 'AUDIT_ARCH_AARCH64',
  [AUDIT_ARCH_ARM]: 'AUDIT_ARCH_ARM',
};

export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
