/**
 * Landlock access rights (include/uapi/linux/landlock.h) and what each ABI
 * version of the kernel understands, as data: one row per ABI, the way the
 * kernel's sample sandboxer downgrades with its `switch (abi)` fall-through.
 * A ruleset may only name rights its ABI knows (EINVAL otherwise), so every
 * mask is cut down to the row of the running kernel, and what was cut is
 * reported.
 */

export const FS = {
  EXECUTE: 1n << 0n,
  WRITE_FILE: 1n << 1n,
  READ_FILE: 1n << 2n,
  READ_DIR: 1n << 3n,
  REMOVE_DIR: 1n << 4n,
  REMOVE_FILE: 1n << 5n,
  MAKE_CHAR: 1n << 6n,
  MAKE_DIR: 1n << 7n,
  MAKE_REG: 1n << 8n,
  MAKE_SOCK: 1n << 9n,
  MAKE_FIFO: 1n << 10n,
  MAKE_BLOCK: 1n << 11n,
  MAKE_SYM: 1n << 12n,
  /** ABI 2: link or rename into another directory. */
  REFER: 1n << 13n,
  /** ABI 3: truncate(2), ftruncate, O_TRUNC. */
  TRUNCATE: 1n << 14n,
  /** ABI 5: ioctl(2) on character and block devices. */
  IOCTL_DEV: 1n << 15n,
} as const;

export const NET = {
  /** ABI 4 */
  BIND_TCP: 1n << 0n,
  CONNECT_TCP: 1n << 1n,
} as const;

export const SCOPE = {
  /** ABI 6: connecting to an abstract unix socket created outside the domain. */
  ABSTRACT_UNIX_SOCKET: 1n << 0n,
  /** ABI 6: sending a signal to a process outside the domain. */
  SIGNAL: 1n << 1n,
} as const;

export const RESTRICT = {
  /** ABI 7 (landlock_restrict_self flags). */
  LOG_SAME_EXEC_OFF: 1 << 0,
  LOG_NEW_EXEC_ON: 1 << 1,
  LOG_SUBDOMAINS_OFF: 1 << 2,
} as const;

const fsUpTo = (last: bigint): bigint => (last << 1n) - 1n;

export interface AbiRow {
  abi: number;
  fs: bigint;
  net: bigint;
  scoped: bigint;
  restrictFlags: number;
}

/** What each ABI adds; each row includes everything before it. */
export const ABI_TABLE: AbiRow[] = [
  { abi: 1, fs: fsUpTo(FS.MAKE_SYM), net: 0n, scoped: 0n, restrictFlags: 0 },
  { abi: 2, fs: fsUpTo(FS.REFER), net: 0n, scoped: 0n, restrictFlags: 0 },
  { abi: 3, fs: fsUpTo(FS.TRUNCATE), net: 0n, scoped: 0n, restrictFlags: 0 },
  { abi: 4, fs: fsUpTo(FS.TRUNCATE), net: NET.BIND_TCP | NET.CONNECT_TCP, scoped: 0n, restrictFlags: 0 },
  { abi: 5, fs: fsUpTo(FS.IOCTL_DEV), net: NET.BIND_TCP | NET.CONNECT_TCP, scoped: 0n, restrictFlags: 0 },
  {
    abi: 6,
    fs: fsUpTo(FS.IOCTL_DEV),
    net: NET.BIND_TCP | NET.CONNECT_TCP,
    scoped: SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL,
    restrictFlags: 0,
  },
  {
    abi: 7,
    fs: fsUpTo(FS.IOCTL_DEV),
    net: NET.BIND_TCP | NET.CONNECT_TCP,
    scoped: SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL,
    restrictFlags: RESTRICT.LOG_SAME_EXEC_OFF | RESTRICT.LOG_NEW_EXEC_ON | RESTRICT.LOG_SUBDOMAINS_OFF,
  },
];

export const LATEST_ABI = ABI_TABLE.at(-1)!.abi;

/** The row for a kernel's ABI (newer kernels than we know get our newest row). */
export function abiRow(abi: number): AbiRow | undefined {
  if (abi < 1) return undefined;
  return ABI_TABLE[Math.min(abi, LATEST_ABI) - 1];
}

/** The ABI that introduced each right, for messages. */
export function firstAbiOf(kind: 'fs' | 'net' | 'scoped', bit: bigint): number {
  return ABI_TABLE.find((r) => (r[kind] & bit) !== 0n)?.abi ?? LATEST_ABI + 1;
}

export function rightNames(kind: 'fs' | 'net' | 'scoped', mask: bigint): string[] {
  const table = kind === 'fs' ? FS : kind === 'net' ? NET : SCOPE;
  return Object.entries(table)
    .filter(([, bit]) => (mask & bit) !== 0n)
    .map(([name]) => name.toLowerCase());
}
