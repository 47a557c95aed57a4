// Syscall table lookup by ABI. Wraps the generated rows with name/number maps
// and argument widths.
//
// An "ABI" here is a (audit arch, numbering) pair as seccomp sees it:
// x86_64 and x32 share AUDIT_ARCH_X86_64 (x32 sets bit 30 of nr); i386 is
// AUDIT_ARCH_I386, reachable from any x86_64 process through `int $0x80`.

import { AARCH64_SYSCALLS } from './aarch64.js';
import { I386_SYSCALLS } from './i386.js';
import type { SyscallRow } from './types.js';
import { X32_SYSCALLS } from './x32.js';
import { X86_64_SYSCALLS } from './x86-64.js';

export type Abi = 'x86_64' | 'i386' | 'aarch64' | 'x32';

export interface SyscallInfo {
  readonly name: string;
  readonly nr: number;
  /** Width in bits of each register argument; length = argument count. */
  readonly widths: readonly (32 | 64)[];
  /** True when the kernel has no prototype for this slot. */
  readonly unknownSignature: boolean;
}

export interface SyscallTable {
  readonly abi: Abi;
  readonly all: readonly SyscallInfo[];
  byName(name: string): SyscallInfo | undefined;
  byNr(nr: number): SyscallInfo | undefined;
  /** Largest syscall number in the table. */
  readonly maxNr: number;
}

const SIX_64: readonly (32 | 64)[] = [64, 64, 64, 64, 64, 64];

function build(abi: Abi, rows: readonly SyscallRow[]): SyscallTable {
  // Built once per process on the launch path: keep it cheap (argument
  // widths are decoded only when a condition asks for them).
  const all: SyscallInfo[] = [];
  const names = new Map<string, SyscallInfo>();
  const nrs: (SyscallInfo | undefined)[] = [];
  let maxNr = 0;
  for (const [name, nr, w] of rows) {
    let widths: readonly (32 | 64)[] | undefined;
    const info: SyscallInfo = {
      name,
      nr,
      get widths() {
        if (widths === undefined) {
          widths = w === '*' ? SIX_64 : Array.from(w, (c) => (c === '4' ? 32 : 64));
        }
        return widths;
      },
      unknownSignature: w === '*',
    };
    all.push(info);
    names.set(name, info);
    if (nr < 0x40000000) nrs[nr] = info;
    if (nr > maxNr) maxNr = nr;
  }
  return {
    abi,
    all,
    byName: (n) => names.get(n),
    byNr: (n) => (n < 0x40000000 ? nrs[n] : all.find((s) => s.nr === n)),
    maxNr,
  };
}

const cache = new Map<Abi, SyscallTable>();

export function syscallTable(abi: Abi): SyscallTable {
  let t = cache.get(abi);
  if (t === undefined) {
    const rows = { x86_64: X86_64_SYSCALLS, i386: I386_SYSCALLS, aarch64: AARCH64_SYSCALLS, x32: X32_SYSCALLS }[abi];
    t = build(abi, rows);
    cache.set(abi, t);
  }
  return t;
}

/** Every name known on any ABI (for telling "unknown" from "not on this arch"). */
export function knownAnywhere(name: string): boolean {
  return (['x86_64', 'i386', 'aarch64'] as const).some((a) => syscallTable(a).byName(name) !== undefined);
}
