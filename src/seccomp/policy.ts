// The `syscalls` policy: input types, validation, and resolution into
// per-syscall rule sets for one ABI. Pure.
//
// Semantics (the contract the compiler and the test oracle implement):
// - Entries are a syscall name, a "@group", or {name, args}; conditions in one
//   entry are ANDed, several entries for one syscall are ORed.
// - Deny beats allow. tsjail adds mandatory denials that beat both: ioctl
//   TIOCSTI/TIOCLINUX (fake terminal input, CVE-2017-5226, CVE-2023-28100) and,
//   when network is "none", socket(AF_INET|AF_INET6|AF_NETLINK) (SPEC); when
//   it is "tcp", inet sockets other than TCP (a type other than SOCK_STREAM,
//   or a protocol other than 0 and IPPROTO_TCP: UDP, ICMP echo, SCTP); with
//   nestedSandbox, setsockopt of the x_tables firewall (SOL_IP >= 64,
//   SOL_IPV6 64/65), reachable with CAP_NET_ADMIN in a nested namespace;
//   memfd_create unless sealed against exec (MFD_NOEXEC_SEAL, not MFD_EXEC),
//   refused with ENOSYS so programs fall back to /dev/shm; with
//   nestedSandbox, System V shmget, semget and msgget (ENOSYS): an IPC
//   namespace the program makes has the kernel's default limits.
// - tsjail adds mandatory allows for what the launcher does after loading the
//   filter: execve, execveat, write, exit, exit_group.
// - Argument values are unsigned; negative numbers are two's complement of the
//   argument's width. A 32-bit argument (the kernel reads an int) is compared
//   on its low word. In a deny rule the high word is ignored, so junk there
//   cannot dodge the rule; in an allow rule the high word must be 0, or
//   0xffffffff when bit 31 of the low word is set (a sign-extended int), as
//   Chromium's bpf_dsl requires.

import { CONSTANTS } from './constants.js';
import { expandGroup, GROUPS, isGroup, type GroupContext, type SyscallEntry } from './groups.js';
import { knownAnywhere, syscallTable, type Abi, type SyscallInfo } from './tables/index.js';

/** memfd_create flags (include/uapi/linux/memfd.h, Linux 6.3). */
export const MFD_NOEXEC_SEAL = 0x8;
export const MFD_EXEC = 0x10;
/** include/uapi/linux/in.h */
const IPPROTO_TCP = 6;

export type { ArgCond, SyscallEntry } from './groups.js';
export type Arch = 'x86_64' | 'aarch64';

export interface SeccompPolicyInput {
  allow: SyscallEntry[];
  deny: SyscallEntry[];
  action: 'errno' | 'kill' | 'log';
  /** "tcp": inet sockets, TCP only (the profile's network.udp is false). */
  network: 'none' | 'host' | 'tcp';
  nestedSandbox: boolean;
  /** Allow i386 (int $0x80, 32-bit binaries) on x86_64. Default false. */
  multiarch?: boolean;
  /**
   * Hand the native ABI's errno refusals to a listener (SECCOMP_RET_USER_NOTIF),
   * which answers with the same errno and reports them (notify.ts). Default false.
   */
  notify?: boolean;
  /** With `notify`: calls the listener also sees when the filter allows them (opens and execs, for their paths). */
  observe?: readonly string[];
  /** With `notify` and `observe`: learning (tsjail learn); see notify.ts. */
  learn?: boolean;
}

export interface PolicyError {
  list: 'allow' | 'deny';
  /** Index of the offending entry in that list; -1 for the policy as a whole (action, network). */
  index: number;
  message: string;
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&==';

/** A validated condition on one argument of one ABI's syscall. Values are unsigned within `width`. */
export interface Cond {
  readonly arg: number;
  readonly width: 32 | 64;
  readonly op: CmpOp | 'in';
  readonly values: readonly bigint[];
  readonly mask: bigint;
}

/** One entry after expansion: ANDed conditions (empty = unconditional). */
export interface RuleEntry {
  readonly conds: readonly Cond[];
}

export interface SyscallRules {
  readonly sys: SyscallInfo;
  readonly allow: RuleEntry[];
  readonly deny: RuleEntry[];
  /** tsjail's mandatory denials (see header). */
  readonly hardDeny: RuleEntry[];
}

export interface ResolvedPolicy {
  readonly abi: Abi;
  readonly action: SeccompPolicyInput['action'];
  /** Rules for every syscall of the ABI that any list mentions. */
  readonly rules: ReadonlyMap<number, SyscallRules>;
}

/** ABIs a policy compiles for on an arch (the first is native). */
export function abisFor(input: SeccompPolicyInput, arch: Arch): Abi[] {
  if (arch === 'aarch64') return ['aarch64'];
  return input.multiarch === true ? ['x86_64', 'i386'] : ['x86_64'];
}

/**
 * The calls that make System V objects (and i386's multiplexer, which hides
 * which one it is), refused under nestedSandbox.
 */
export const SYSV_CREATE = ['shmget', 'semget', 'msgget', 'ipc'] as const;

/** Syscalls the launcher itself needs after the filter is loaded (shim: write errors, execve, exit). */
export const REQUIRED_SYSCALLS = ['execve', 'execveat', 'write', 'exit', 'exit_group'] as const;

const MAX64 = (1n << 64n) - 1n;
const MAX32 = 0xffffffffn;

class EntryError extends Error {}

function parseValue(v: unknown, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new EntryError(`${what} ${v} is not an integer`);
    if (!Number.isSafeInteger(v)) throw new EntryError(`${what} ${v} is beyond 2^53; write it as a string`);
    return BigInt(v);
  }
  if (typeof v === 'string') {
    const c = CONSTANTS[v];
    if (c !== undefined) return BigInt(c);
    if (/^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
    throw new EntryError(`unknown constant "${v}"`);
  }
  throw new EntryError(`${what} must be a number or a constant name`);
}

function inWidth(v: bigint, width: 32 | 64, what: string): bigint {
  const max = width === 32 ? MAX32 : MAX64;
  const min = width === 32 ? -(1n << 31n) : -(1n << 63n);
  if (v > max) {
    throw new EntryError(
      `${what} 0x${v.toString(16)} does not fit the ${width}-bit argument (max 0x${max.toString(16)})`,
    );
  }
  if (v < min) throw new EntryError(`${what} ${v} does not fit the ${width}-bit argument`);
  return v < 0n ? v + max + 1n : v;
}

const OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '&==', 'in']);

function checkCond(raw: unknown, sys: SyscallInfo, abi: Abi): Cond {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EntryError('a condition must be an object');
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!['arg', 'op', 'value', 'mask'].includes(key)) throw new EntryError(`unknown condition key "${key}"`);
  }
  const arg = c.arg;
  if (typeof arg !== 'number' || !Number.isInteger(arg) || arg < 0 || arg > 5) {
    throw new EntryError('arg must be an integer from 0 to 5');
  }
  if (arg >= sys.widths.length) {
    throw new EntryError(
      `${sys.name} takes ${sys.widths.length} argument${sys.widths.length === 1 ? '' : 's'} on ${abi}; arg ${arg} does not exist`,
    );
  }
  const op = c.op;
  if (typeof op !== 'string' || !OPS.has(op)) throw new EntryError(`op must be one of ${[...OPS].join(' ')}`);
  const width = sys.widths[arg]!;
  const max = width === 32 ? MAX32 : MAX64;
  if (op !== '&==' && c.mask !== undefined) throw new EntryError('mask is only allowed with op "&=="');
  let values: bigint[];
  if (op === 'in') {
    if (!Array.isArray(c.value)) throw new EntryError('op "in" needs an array value');
    if (c.value.length === 0) throw new EntryError('op "in" with an empty list can never match');
    values = c.value.map((v) => inWidth(parseValue(v, 'value'), width, 'value'));
  } else {
    if (Array.isArray(c.value)) throw new EntryError(`op "${op}" needs a single value (use "in" for a list)`);
    values = [inWidth(parseValue(c.value, 'value'), width, 'value')];
  }
  let mask = max;
  if (op === '&==') {
    if (c.mask === undefined) throw new EntryError('op "&==" needs a mask');
    mask = inWidth(parseValue(c.mask, 'mask'), width, 'mask');
    if ((values[0]! & ~mask) !== 0n) {
      throw new EntryError(
        `value 0x${values[0]!.toString(16)} has bits outside mask 0x${mask.toString(16)}: never matches`,
      );
    }
  }
  const v = values[0]!;
  if (op === '<' && v === 0n) throw new EntryError('"< 0" never matches (values are unsigned)');
  if (op === '>' && v === max)
    throw new EntryError(`"> 0x${max.toString(16)}" never matches on a ${width}-bit argument`);
  return { arg, width, op: op as Cond['op'], values, mask };
}

interface Expanded {
  name: string;
  rawArgs: unknown[] | undefined;
}

function expandEntry(e: unknown, ctx: GroupContext): Expanded[] {
  if (typeof e === 'string') {
    if (isGroup(e)) {
      if (GROUPS[e] === undefined) throw new EntryError(`unknown group "${e}"`);
      return expandGroup(e, ctx).map((x) =>
        typeof x === 'string' ? { name: x, rawArgs: undefined } : { name: x.name, rawArgs: x.args },
      );
    }
    return [{ name: e, rawArgs: undefined }];
  }
  if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
    const o = e as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (key !== 'name' && key !== 'args') throw new EntryError(`unknown entry key "${key}"`);
    }
    if (typeof o.name !== 'string') throw new EntryError('entry needs a "name"');
    if (isGroup(o.name)) throw new EntryError('argument conditions apply to one syscall, not a group');
    if (o.args !== undefined && !Array.isArray(o.args)) throw new EntryError('"args" must be a list of conditions');
    return [{ name: o.name, rawArgs: o.args as unknown[] | undefined }];
  }
  throw new EntryError('an entry is a syscall name, a "@group" or {name, args}');
}

interface Collected {
  perAbi: Map<Abi, Map<number, SyscallRules>>;
  errors: PolicyError[];
}

function rulesFor(map: Map<number, SyscallRules>, sys: SyscallInfo): SyscallRules {
  let r = map.get(sys.nr);
  if (r === undefined) {
    r = { sys, allow: [], deny: [], hardDeny: [] };
    map.set(sys.nr, r);
  }
  return r;
}

function collect(input: SeccompPolicyInput, arch: Arch): Collected {
  const errors: PolicyError[] = [];
  const abis = abisFor(input, arch);
  const perAbi = new Map<Abi, Map<number, SyscallRules>>(abis.map((a) => [a, new Map()]));
  const ctx: GroupContext = { network: input.network, nestedSandbox: input.nestedSandbox };
  if (!['errno', 'kill', 'log'].includes(input.action)) {
    errors.push({
      list: 'allow',
      index: -1,
      message: `action must be "errno", "kill" or "log", not "${String(input.action)}"`,
    });
  }
  if (!['none', 'host', 'tcp'].includes(input.network)) {
    errors.push({
      list: 'allow',
      index: -1,
      message: `network must be "none", "host" or "tcp", not "${String(input.network)}"`,
    });
  }

  for (const list of ['allow', 'deny'] as const) {
    const entries: unknown[] = Array.isArray(input[list]) ? input[list] : [];
    entries.forEach((entry, index) => {
      try {
        const expanded = expandEntry(entry, ctx);
        const fromGroup = typeof entry === 'string' && isGroup(entry);
        for (const x of expanded) {
          let found = false;
          for (const abi of abis) {
            const sys = syscallTable(abi).byName(x.name);
            if (sys === undefined) continue;
            found = true;
            const conds = (x.rawArgs ?? []).map((c) => checkCond(c, sys, abi));
            rulesFor(perAbi.get(abi)!, sys)[list].push({ conds });
          }
          if (!found && !fromGroup) {
            throw new EntryError(
              knownAnywhere(x.name)
                ? `syscall "${x.name}" does not exist on ${abis.join(' or ')}`
                : `unknown syscall "${x.name}"`,
            );
          }
          if (
            list === 'deny' &&
            !fromGroup &&
            x.rawArgs === undefined &&
            (REQUIRED_SYSCALLS as readonly string[]).includes(x.name)
          ) {
            throw new EntryError(`"${x.name}" cannot be denied: tsjail needs it to start the program`);
          }
        }
        if (list === 'deny' && fromGroup) {
          const names = new Set(expanded.map((x) => x.name));
          const req = REQUIRED_SYSCALLS.filter((n) => names.has(n));
          if (req.length > 0)
            throw new EntryError(
              `group ${String(entry)} contains ${req.join(', ')}, which tsjail needs to start the program`,
            );
        }
      } catch (err) {
        if (!(err instanceof EntryError)) throw err;
        errors.push({ list, index, message: err.message });
      }
    });
  }

  // Mandatory additions (see header). They cannot fail validation.
  for (const abi of abis) {
    const table = syscallTable(abi);
    const map = perAbi.get(abi)!;
    for (const name of REQUIRED_SYSCALLS) {
      const sys = table.byName(name);
      if (sys !== undefined) rulesFor(map, sys).allow.push({ conds: [] });
    }
    const ioctl = table.byName('ioctl')!;
    rulesFor(map, ioctl).hardDeny.push({
      conds: [
        {
          arg: 1,
          width: 32,
          op: 'in',
          values: [BigInt(CONSTANTS.TIOCSTI!), BigInt(CONSTANTS.TIOCLINUX!)],
          mask: MAX32,
        },
      ],
    });
    // A memfd is writable and, unless created sealed against exec (Linux
    // 6.3), executable: execveat(AT_EMPTY_PATH) or /proc/self/fd/N would run
    // what the program wrote, where every writable mount is noexec. Only
    // memfd_create with MFD_NOEXEC_SEAL and without MFD_EXEC passes; others
    // get ENOSYS, on which programs fall back to a file in /dev/shm (noexec).
    // Before 6.3 the kernel refuses MFD_NOEXEC_SEAL itself (EINVAL).
    const memfd = table.byName('memfd_create');
    if (memfd !== undefined) {
      rulesFor(map, memfd).hardDeny.push(
        { conds: [{ arg: 1, width: 32, op: '&==', values: [0n], mask: BigInt(MFD_NOEXEC_SEAL) }] },
        { conds: [{ arg: 1, width: 32, op: '&==', values: [BigInt(MFD_EXEC)], mask: BigInt(MFD_EXEC) }] },
      );
    }
    if (input.nestedSandbox) {
      // The browsers' own sandboxes make IPC namespaces (Firefox asks for
      // one with every user namespace), and a new IPC namespace starts with
      // the kernel's defaults, far beyond limits.shm: no System V object can
      // be made at all, in the sandbox's namespace or a nested one. ENOSYS,
      // as on a kernel without System V IPC, which programs fall back from.
      for (const name of SYSV_CREATE) {
        const sys = table.byName(name);
        if (sys !== undefined) rulesFor(map, sys).hardDeny.push({ conds: [] });
      }
    }
    const setsockopt = table.byName('setsockopt');
    if (input.nestedSandbox && setsockopt !== undefined) {
      // A nested user and network namespace holds CAP_NET_ADMIN there: keep
      // it from x_tables' table replacement (iptables, arptables, ebtables,
      // IPVS: SOL_IP options from 64; ip6tables: SOL_IPV6 64 and 65;
      // CVE-2021-22555), which no application needs.
      rulesFor(map, setsockopt).hardDeny.push(
        {
          conds: [
            { arg: 1, width: 32, op: '==', values: [0n], mask: MAX32 },
            { arg: 2, width: 32, op: '>=', values: [64n], mask: MAX32 },
          ],
        },
        {
          conds: [
            { arg: 1, width: 32, op: '==', values: [41n], mask: MAX32 },
            { arg: 2, width: 32, op: 'in', values: [64n, 65n], mask: MAX32 },
          ],
        },
      );
    }
    if (input.network === 'tcp') {
      // Inet sockets are TCP only: no socket type but SOCK_STREAM (the low
      // four bits; SOCK_NONBLOCK and SOCK_CLOEXEC are above them), and no
      // protocol but 0 and IPPROTO_TCP on a stream (SCTP, MPTCP), so that
      // Landlock's TCP port rules are all there is of the network.
      const socket = table.byName('socket')!;
      const inet = {
        arg: 0,
        width: 32 as const,
        op: 'in' as const,
        values: [BigInt(CONSTANTS.AF_INET!), BigInt(CONSTANTS.AF_INET6!)],
        mask: MAX32,
      };
      const notStream = [0, ...Array.from({ length: 14 }, (_, i) => i + 2)].map(BigInt);
      rulesFor(map, socket).hardDeny.push(
        { conds: [inet, { arg: 1, width: 32, op: '&==', values: notStream, mask: 0xfn }] },
        {
          conds: [
            inet,
            { arg: 2, width: 32, op: '!=', values: [0n], mask: MAX32 },
            { arg: 2, width: 32, op: '!=', values: [BigInt(IPPROTO_TCP)], mask: MAX32 },
          ],
        },
      );
    }
    if (input.network === 'none') {
      const socket = table.byName('socket')!;
      rulesFor(map, socket).hardDeny.push({
        conds: [
          {
            arg: 0,
            width: 32,
            op: 'in',
            values: [BigInt(CONSTANTS.AF_INET!), BigInt(CONSTANTS.AF_INET6!), BigInt(CONSTANTS.AF_NETLINK!)],
            mask: MAX32,
          },
        ],
      });
    }
  }
  return { perAbi, errors };
}

/** Validates a policy for an arch. Empty result = valid. */
export function validatePolicy(input: SeccompPolicyInput, arch: Arch): PolicyError[] {
  return collect(input, arch).errors;
}

export class SeccompPolicyError extends Error {
  constructor(readonly errors: PolicyError[]) {
    super(errors.map((e) => `syscalls.${e.list}${e.index >= 0 ? `[${e.index}]` : ''}: ${e.message}`).join('\n'));
    this.name = 'SeccompPolicyError';
  }
}

/** Resolves a valid policy into per-ABI rule sets; throws SeccompPolicyError when invalid. */
export function resolvePolicy(input: SeccompPolicyInput, arch: Arch): ResolvedPolicy[] {
  const { perAbi, errors } = collect(input, arch);
  if (errors.length > 0) throw new SeccompPolicyError(errors);
  return [...perAbi].map(([abi, rules]) => ({ abi, action: input.action, rules }));
}
