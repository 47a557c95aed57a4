// Renders man/seccomp-groups.md (a tsjail-profile(5) section in the making)
// from src/seccomp/groups.ts and the syscall tables, so the documentation cannot drift:
// test/unit/seccomp/groups.test.ts compares the file with this output
// (TSJAIL_UPDATE_GOLDEN=1 rewrites it). Pure.

import { DEFAULT_REMOVED, GROUPS } from '../../../src/seccomp/groups.js';
import { ENOSYS_FALLBACK } from '../../../src/seccomp/lower.js';
import { REQUIRED_SYSCALLS } from '../../../src/seccomp/policy.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';

const ABIS = ['x86_64', 'i386', 'aarch64'] as const;

function where(name: string): string {
  const on = ABIS.filter((a) => syscallTable(a).byName(name) !== undefined);
  if (on.length === ABIS.length) return 'all';
  return on.length === 0 ? "none of tsjail's architectures" : on.join(', ');
}

function memberTable(members: readonly string[]): string[] {
  const lines = ['| member | architectures |', '|---|---|'];
  for (const m of members) lines.push(m.startsWith('@') ? `| ${m} | (group) |` : `| \`${m}\` | ${where(m)} |`);
  return lines;
}

export function renderGroupsDoc(): string {
  const out: string[] = [
    '# Syscall groups',
    '',
    '<!-- Generated from src/seccomp/groups.ts by test/helpers/seccomp/groups-doc.ts; do not edit.',
    '     Regenerate with: TSJAIL_UPDATE_GOLDEN=1 npx tap test/unit/seccomp/groups.test.ts -->',
    '',
    "A profile's `syscalls.allow` and `syscalls.deny` accept these groups wherever a",
    "syscall name is accepted. A member that does not exist on the machine's",
    'architecture is skipped there ("architectures" says where each exists; i386 applies',
    'to x86_64 profiles with multiarch). `syscalls.allow` defaults to `["@default"]`.',
    '',
    '## Rules that hold whatever the profile says',
    '',
    `- Always allowed, because tsjail needs them to start the program: ${REQUIRED_SYSCALLS.map((s) => `\`${s}\``).join(', ')}.`,
    '  Denying one of them without conditions is an error.',
    '- Always refused, even when allowed: `ioctl` with the command TIOCSTI or TIOCLINUX (faking',
    '  terminal input, CVE-2017-5226, CVE-2023-28100), compared on the low 32 bits so that',
    '  `TIOCSTI | 1 << 32` is refused too (CVE-2019-10063); and, with `network: "none"`,',
    '  `socket` for AF_INET, AF_INET6 and AF_NETLINK (EAFNOSUPPORT); and, with `nestedSandbox: true`,',
    '  `setsockopt` of the x_tables firewall (level SOL_IP with options from 64, SOL_IPV6 with 64',
    '  and 65: iptables, arptables, ebtables, IPVS; CVE-2021-22555), which a nested user and network',
    '  namespace could otherwise reach with CAP_NET_ADMIN; and `memfd_create` unless its flags hold',
    '  MFD_NOEXEC_SEAL and not MFD_EXEC (ENOSYS, so programs fall back to a file in the noexec',
    '  /dev/shm): an executable memfd would let `execveat` or `/proc/self/fd/N` run what the',
    '  program wrote. Before Linux 6.3 the kernel refuses MFD_NOEXEC_SEAL itself, so no memfd exists.',
    '  And, with `nestedSandbox: true`, `shmget`, `semget` and `msgget` (and i386 `ipc`), ENOSYS as on a',
    '  kernel without System V IPC: the IPC namespaces a browser makes for its own sandbox start with',
    "  the kernel's default limits, far beyond `limits.shm`, so no System V object may be made at all.",
    `- When not allowed, these fail with ENOSYS, so that libc falls back to an older call: ${[...ENOSYS_FALLBACK]
      .sort()
      .map((s) => `\`${s}\``)
      .join(', ')}.`,
    '- A refused `socket` fails with EAFNOSUPPORT; other refused calls with EPERM under',
    '  `action: "errno"`, kill the process under `"kill"` (denied io_uring calls still return',
    '  EPERM: libuv probes io_uring_setup at start-up) and are logged and allowed under `"log"`.',
    '  Numbers tsjail does not know fail with ENOSYS. i386 (`int $0x80`) and x32 calls kill',
    '  the process unless the profile enables i386 (multiarch).',
    '',
    '## @default',
    '',
    GROUPS['@default']!.description,
    '',
    'Removed from @system-service:',
    '',
    '| syscall | why |',
    '|---|---|',
    ...Object.entries(DEFAULT_REMOVED).map(([n, why]) => `| \`${n}\` | ${why} |`),
    '',
    'Added with argument checks:',
    '',
    '| syscall | allowed when |',
    '|---|---|',
    '| `ioctl` | always, except TIOCSTI and TIOCLINUX (see above) |',
    '| `clone` | flags carry no CLONE_NEW* namespace flag; with `nestedSandbox: true` only CLONE_NEWCGROUP is refused |',
    '| `socket` | family AF_UNIX; also AF_INET, AF_INET6, and AF_NETLINK with protocol NETLINK_ROUTE or NETLINK_KOBJECT_UEVENT, when `network` is not `"none"`; other families only when the profile lists them, e.g. `{ name: "socket", args: [{ arg: 0, op: "==", value: "AF_PACKET" }] }` |',
    '| `personality` | PER_LINUX or the query value 0xffffffff (other personas disable ASLR or NX) |',
    '| `unshare` | only with `nestedSandbox: true`, and without CLONE_NEWCGROUP or CLONE_NEWTIME |',
    '| `chroot` | only with `nestedSandbox: true` (browsers chroot into an empty directory) |',
    '',
  ];
  for (const [name, def] of Object.entries(GROUPS)) {
    if (name === '@default') continue;
    out.push(`## ${name}`, '', def.description, '', ...memberTable(def.members), '');
  }
  return out.join('\n');
}
