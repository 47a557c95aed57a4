// Build-time generator for tsjail's syscall tables. Not imported at run time.
//
// Contract: reads a kernel source tree (or the subset of one listed below) and
// writes src/seccomp/tables/{x86-64,i386,aarch64,x32}.ts: for every syscall of
// the ABI its name, number and the width (32 or 64 bits) of each register
// argument. Numbers and ABI selection come from the kernel's own tables; the
// widths come from the C prototypes in include/linux/syscalls.h, mapped through
// the table's entry-point column, plus the hand-checked SUPPLEMENT below for
// calls the header lacks (arch-specific ones and calls newer than the header).
//
//   node dist/seccomp/tables/generate.js KERNEL_DIR [--out src/seccomp/tables]
//
// KERNEL_DIR must contain:
//   arch/x86/entry/syscalls/syscall_64.tbl   x86_64 ("common"/"64") and x32 ("common"/"x32")
//   arch/x86/entry/syscalls/syscall_32.tbl   i386
//   scripts/syscall.tbl                      generic table used by arm64 since 6.11
//   include/linux/syscalls.h                 prototypes (a distribution's linux-headers-*-common
//                                            package ships it; an older header is fine, the
//                                            SUPPLEMENT covers what it lacks)
//
// Why widths matter: the kernel's syscall wrappers cast each register to the C
// parameter type (include/linux/syscalls.h __SC_CAST), so an `unsigned int cmd`
// ignores the upper 32 bits of the register while seccomp sees all 64. A filter
// that compares all 64 bits of such a parameter can be bypassed
// (CVE-2019-10063: ioctl(fd, TIOCSTI | 1UL << 32, ...)).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface TblRow {
  nr: number;
  abi: string;
  name: string;
  entry: string | undefined;
}

/** Parses the kernel's `<number> <abi> <name> [<entry point> [<compat entry>]]` format. */
export function parseTbl(text: string): TblRow[] {
  const rows: TblRow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f.length < 3 || !/^\d+$/.test(f[0]!)) throw new Error(`bad table line: ${raw}`);
    rows.push({ nr: Number(f[0]), abi: f[1]!, name: f[2]!, entry: f[3] });
  }
  return rows;
}

/** Parameter type lists by function name (`sys_read` -> ['unsigned int fd', ...]). */
export function parsePrototypes(header: string): Map<string, string[]> {
  const flat = header.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\s+/g, ' ');
  const out = new Map<string, string[]>();
  const re = /asmlinkage long (sys_[a-z0-9_]+)\(([^)]*)\)/g;
  for (let m = re.exec(flat); m !== null; m = re.exec(flat)) {
    const name = m[1]!;
    const params = m[2]!.trim() === 'void' ? [] : m[2]!.split(',').map((p) => p.trim());
    // sys_clone has #ifdef variants; the last one is the default that
    // x86_64, i386 and arm64 use (CLONE_BACKWARDS3 is microblaze's).
    out.set(name, params);
  }
  return out;
}

// Hand-checked against the SYSCALL_DEFINEn in the kernel sources named (v6.18)
// for calls that include/linux/syscalls.h of 6.1 does not declare.
const SUPPLEMENT: Record<string, string[]> = {
  sys_arch_prctl: ['int option', 'unsigned long arg2'], // arch/x86/kernel/process_64.c
  sys_iopl: ['unsigned int level'], // arch/x86/kernel/ioport.c
  sys_modify_ldt: ['int func', 'void __user *ptr', 'unsigned long bytecount'], // arch/x86/kernel/ldt.c
  sys_mmap: [
    'unsigned long addr',
    'unsigned long len',
    'unsigned long prot',
    'unsigned long flags',
    'unsigned long fd',
    'unsigned long off',
  ], // arch/x86/kernel/sys_x86_64.c, arch/arm64/kernel/sys.c
  sys_rt_sigreturn: [], // arch/*/kernel/signal.c
  sys_sigreturn: [],
  sys_set_thread_area: ['struct user_desc __user *u_info'], // arch/x86/kernel/tls.c
  sys_get_thread_area: ['struct user_desc __user *u_info'],
  sys_vm86old: ['struct vm86_struct __user *user_vm86'], // arch/x86/kernel/vm86_32.c
  sys_vm86: ['unsigned long cmd', 'unsigned long arg'],
  sys_bdflush: ['int func', 'long data'], // fs/buffer.c (removed, kept for the number)
  sys_sysctl: ['struct __sysctl_args __user *args'],
  sys_uretprobe: [], // arch/x86/kernel/uprobes.c
  sys_uprobe: [],
  sys_cachestat: [
    'unsigned int fd',
    'struct cachestat_range __user *r',
    'struct cachestat __user *c',
    'unsigned int flags',
  ], // mm/filemap.c
  sys_fchmodat2: ['int dfd', 'const char __user *filename', 'umode_t mode', 'unsigned int flags'], // fs/open.c
  sys_map_shadow_stack: ['unsigned long addr', 'unsigned long size', 'unsigned int flags'], // arch/x86/kernel/shstk.c
  sys_futex_wake: ['void __user *uaddr', 'unsigned long mask', 'int nr', 'unsigned int flags'], // kernel/futex/syscalls.c
  sys_futex_wait: [
    'void __user *uaddr',
    'unsigned long val',
    'unsigned long mask',
    'unsigned int flags',
    'struct __kernel_timespec __user *timeout',
    'clockid_t clockid',
  ],
  sys_futex_requeue: ['struct futex_waitv __user *waiters', 'unsigned int flags', 'int nr_wake', 'int nr_requeue'],
  sys_statmount: [
    'const struct mnt_id_req __user *req',
    'struct statmount __user *buf',
    'size_t bufsize',
    'unsigned int flags',
  ], // fs/namespace.c
  sys_listmount: [
    'const struct mnt_id_req __user *req',
    'u64 __user *mnt_ids',
    'size_t nr_mnt_ids',
    'unsigned int flags',
  ],
  sys_lsm_get_self_attr: ['unsigned int attr', 'struct lsm_ctx __user *ctx', 'u32 __user *size', 'u32 flags'], // security/lsm_syscalls.c
  sys_lsm_set_self_attr: ['unsigned int attr', 'struct lsm_ctx __user *ctx', 'u32 size', 'u32 flags'],
  sys_lsm_list_modules: ['u64 __user *ids', 'u32 __user *size', 'u32 flags'],
  sys_mseal: ['unsigned long start', 'size_t len', 'unsigned long flags'], // mm/mseal.c
  sys_setxattrat: [
    'int dfd',
    'const char __user *pathname',
    'unsigned int at_flags',
    'const char __user *name',
    'const struct xattr_args __user *uargs',
    'size_t usize',
  ], // fs/xattr.c
  sys_getxattrat: [
    'int dfd',
    'const char __user *pathname',
    'unsigned int at_flags',
    'const char __user *name',
    'struct xattr_args __user *uargs',
    'size_t usize',
  ],
  sys_listxattrat: [
    'int dfd',
    'const char __user *pathname',
    'unsigned int at_flags',
    'char __user *list',
    'size_t size',
  ],
  sys_removexattrat: ['int dfd', 'const char __user *pathname', 'unsigned int at_flags', 'const char __user *name'],
  sys_open_tree_attr: [
    'int dfd',
    'const char __user *filename',
    'unsigned int flags',
    'struct mount_attr __user *uattr',
    'size_t usize',
  ], // fs/namespace.c
  sys_file_getattr: [
    'int dfd',
    'const char __user *filename',
    'struct file_attr __user *ufattr',
    'size_t usize',
    'unsigned int at_flags',
  ], // fs/file_attr.c
  sys_file_setattr: [
    'int dfd',
    'const char __user *filename',
    'struct file_attr __user *ufattr',
    'size_t usize',
    'unsigned int at_flags',
  ],
  sys_listns: ['const struct ns_id_req __user *req', 'u64 __user *ns_ids', 'size_t nr_ns_ids', 'unsigned int flags'], // kernel/nstree.c
};

// Parameters whose C type is wider than what the kernel uses. kernel/fork.c
// sys_clone passes lower_32_bits(clone_flags) on; ksys_unshare rejects any
// bit outside the known CLONE_* set, all of which live in the low word.
const WIDTH_OVERRIDES: Record<string, Record<number, 32>> = {
  clone: { 0: 32 },
  unshare: { 0: 32 },
};

const TYPES_32 = new Set([
  'int',
  'unsigned int',
  'unsigned',
  'u32',
  '__u32',
  's32',
  '__s32',
  'umode_t',
  'pid_t',
  'uid_t',
  'gid_t',
  'old_uid_t',
  'old_gid_t',
  'clockid_t',
  'timer_t',
  'key_serial_t',
  'mqd_t',
  'qid_t',
  'rwf_t',
  'old_time32_t',
  'unsigned short',
  'u16',
  'short',
  'int32_t',
  'uint32_t',
  'key_t',
  'landlock_rule_type',
]);
const TYPES_64 = new Set([
  'long',
  'unsigned long',
  'size_t',
  'ssize_t',
  'loff_t',
  'off_t',
  'u64',
  '__u64',
  's64',
  '__s64',
  'aio_context_t',
  'cap_user_header_t',
  'cap_user_data_t',
  '__sighandler_t',
  'long long',
  'unsigned long long',
  'old_sigset_t',
]);
// Types that occupy two registers on a 32-bit ABI (i386 passes them as lo/hi halves).
const TYPES_DOUBLE_ON_32 = new Set(['loff_t', 'u64', '__u64', 's64', '__s64', 'long long', 'unsigned long long']);

function classify(param: string): { w: 32 | 64; double: boolean } {
  if (param.includes('*')) return { w: 64, double: false };
  const t = param
    .replace(/\b(const|volatile|__user|struct|enum)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  for (const cand of [t, t.split(' ').slice(0, -1).join(' ')]) {
    if (TYPES_32.has(cand)) return { w: 32, double: false };
    if (TYPES_64.has(cand)) return { w: 64, double: TYPES_DOUBLE_ON_32.has(cand) };
  }
  throw new Error(`unknown parameter type: ${param}`);
}

type Row = [string, number, string];

function widthString(name: string, params: string[] | undefined, abi32: boolean): string {
  if (params === undefined) return '*';
  let s = '';
  params.forEach((p, i) => {
    const c = classify(p);
    if (abi32) s += c.double ? '44' : '4';
    else s += (WIDTH_OVERRIDES[name]?.[i] ?? c.w) === 32 ? '4' : '8';
  });
  if (s.length > 6) throw new Error(`${name}: more than six register arguments`);
  return s;
}

function buildRows(
  rows: TblRow[],
  abis: Set<string>,
  protos: Map<string, string[]>,
  abi32: boolean,
  nrBase = 0,
): Row[] {
  const out: Row[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (!abis.has(r.abi)) continue;
    if (seen.has(r.name)) throw new Error(`duplicate ${r.name}`);
    seen.add(r.name);
    const entry = r.entry === undefined || r.entry === 'sys_ni_syscall' ? undefined : r.entry;
    const params = entry === undefined ? undefined : (protos.get(entry) ?? SUPPLEMENT[entry]);
    if (entry !== undefined && params === undefined && !entry.startsWith('compat_')) {
      throw new Error(`no prototype for ${entry} (${r.name}); add it to SUPPLEMENT`);
    }
    out.push([r.name, nrBase + r.nr, widthString(r.name, params, abi32)]);
  }
  return out.sort((a, b) => a[1] - b[1]);
}

function emit(file: string, constName: string, abi: string, source: string, rows: Row[]): void {
  const body = rows.map(([n, nr, w]) => `  ['${n}', ${nr}, '${w}'],`).join('\n');
  writeFileSync(
    file,
    `// GENERATED by src/seccomp/tables/generate.ts from the kernel's ${source}.
// Do not edit; regenerate. Each row: [name, number, argument widths], one
// character per register argument: '4' = the kernel reads 32 bits, '8' = 64
// bits, '*' = no prototype (a table slot without a kernel prototype: six 64-bit arguments assumed).
// Syscall numbers are interface facts (GPL-2.0 WITH Linux-syscall-note tables).

import type { SyscallRow } from './types.js';

/** ${abi} */
export const ${constName}: readonly SyscallRow[] = [
${body}
];
`,
  );
}

function main(argv: string[]): void {
  const dir = argv[0];
  if (dir === undefined) throw new Error('usage: generate.js KERNEL_DIR [--out DIR]');
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? argv[outIdx + 1]! : 'src/seccomp/tables';
  const read = (p: string): string => readFileSync(join(dir, p), 'utf8');
  const protos = parsePrototypes(read('include/linux/syscalls.h'));
  const t64 = parseTbl(read('arch/x86/entry/syscalls/syscall_64.tbl'));
  const t32 = parseTbl(read('arch/x86/entry/syscalls/syscall_32.tbl'));
  const tgen = parseTbl(read('scripts/syscall.tbl'));
  emit(
    join(out, 'x86-64.ts'),
    'X86_64_SYSCALLS',
    'x86_64: syscall_64.tbl, ABIs common and 64',
    'arch/x86/entry/syscalls/syscall_64.tbl',
    buildRows(t64, new Set(['common', '64']), protos, false),
  );
  emit(
    join(out, 'x32.ts'),
    'X32_SYSCALLS',
    'x32: syscall_64.tbl, ABIs common and x32, numbers | 0x40000000',
    'arch/x86/entry/syscalls/syscall_64.tbl',
    buildRows(t64, new Set(['common', 'x32']), protos, false, 0x40000000).map(([n, nr]) => [n, nr, '*']),
  );
  emit(
    join(out, 'i386.ts'),
    'I386_SYSCALLS',
    'i386: syscall_32.tbl (every register argument is 32 bits)',
    'arch/x86/entry/syscalls/syscall_32.tbl',
    buildRows(t32, new Set(['i386']), protos, true),
  );
  // arch/arm64/kernel/Makefile.syscalls: syscall_abis_64 += renameat rlimit memfd_secret
  emit(
    join(out, 'aarch64.ts'),
    'AARCH64_SYSCALLS',
    'aarch64: scripts/syscall.tbl, ABIs common, 64, renameat, rlimit, memfd_secret',
    'scripts/syscall.tbl',
    buildRows(tgen, new Set(['common', '64', 'renameat', 'rlimit', 'memfd_secret']), protos, false),
  );
}

if (process.argv[1] !== undefined && /generate\.[jt]s$/.test(process.argv[1])) main(process.argv.slice(2));
