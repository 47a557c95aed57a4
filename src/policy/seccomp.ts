/**
 * The syscall rules (a merged profile's, or a Policy's copy of them) -> the
 * seccomp compiler's input, and the compiler's complaints -> FILE:LINE
 * errors pointing at the entry at fault. Reads no file but the filter
 * cache's (profileFilter, for a launch).
 * `run` (through the launch plan), `profile check` and the `seccomp` verbs
 * all compile through checkProfileSeccomp, so they refuse the same profiles.
 */
import { ProfileError, type MergedProfile, type SourceRef, type SyscallEntry, type Tagged } from '../profile/index.js';
import {
  BPF_MAXINSNS,
  SeccompTooLargeError,
  compileSeccomp,
  validateSeccompPolicy,
  type Arch,
  type CompileResult,
  type SeccompPolicyInput,
} from '../seccomp/compile.js';
import { filterKey, loadFilter, storeFilter, type CachedFilter } from '../cache/seccomp.js';

/** The parts of a merged profile the filter is made of (Policy.seccomp holds them). */
export type ProfileSyscalls = Pick<MergedProfile, 'syscalls' | 'nestedSandbox'>;

type Network = 'none' | 'host' | 'tcp';

/**
 * The seccomp rules know "none" (no inet sockets), "tcp" (inet sockets, TCP
 * only: network.udp is false) and the rest: a private network has inet
 * sockets as the host's does.
 */
export function seccompNetwork(n: { mode: 'none' | 'host' | 'private'; udp?: boolean }): Network {
  return n.mode === 'none' ? 'none' : n.mode === 'host' && n.udp === false ? 'tcp' : 'host';
}
type List = 'allow' | 'deny';

function inputOf(
  p: ProfileSyscalls,
  network: Network,
  keep: (t: Tagged<SyscallEntry>) => boolean = () => true,
  notify = false,
  observe?: readonly string[],
  learn = false,
): SeccompPolicyInput {
  return {
    ...(notify ? { notify } : {}),
    ...(notify && observe ? { observe } : {}),
    ...(notify && observe && learn ? { learn } : {}),
    allow: p.syscalls.allow.filter(keep).map((e) => e.value),
    deny: p.syscalls.deny.filter(keep).map((e) => e.value),
    action: p.syscalls.action,
    network,
    nestedSandbox: p.nestedSandbox,
    multiarch: p.syscalls.multiarch,
  };
}

export function seccompInput(p: ProfileSyscalls, network: Network): SeccompPolicyInput {
  return inputOf(p, network);
}

export interface ProfileSeccomp {
  /** The filter, when the profile's syscalls compile for the arch. */
  result?: CompileResult;
  /** Every invalid entry, or the one rule that makes the filter too large; each at FILE:LINE. */
  errors: ProfileError[];
}

/** Validate, then compile; every problem is reported where it was written. */
export function checkProfileSeccomp(
  p: ProfileSyscalls,
  network: Network,
  arch: Arch,
  notify = false,
  observe?: readonly string[],
  learn = false,
): ProfileSeccomp {
  const input = inputOf(p, network, undefined, notify, observe, learn);
  const invalid = validateSeccompPolicy(input, arch);
  if (invalid.length > 0) {
    return {
      errors: invalid.map((e) => {
        const tagged = e.index >= 0 ? p.syscalls[e.list][e.index] : undefined;
        // Without an entry (action, network): the schema lets no such value through.
        return tagged
          ? at(tagged.source, `syscalls.${e.list}`, e.message)
          : new ProfileError({ file: 'syscalls' }, e.message);
      }),
    };
  }
  try {
    return { result: compileSeccomp(input, arch), errors: [] };
  } catch (e) {
    if (!(e instanceof SeccompTooLargeError)) throw e;
    return { errors: [tooLarge(p, network, arch, e.instructions)] };
  }
}

/** Where compiled filters are kept between launches (src/cache/seccomp.ts). */
export interface FilterCache {
  dir: string;
  uid: number;
  version: string;
}

/**
 * The filter for `arch` as a launch plan carries it: from the filter cache
 * when an earlier launch compiled the same rules with this same compiler,
 * else compiled (and stored there); throws as compileProfileSeccomp.
 */
export function profileFilter(
  p: ProfileSyscalls,
  network: Network,
  arch: Arch,
  notify: boolean,
  observe: readonly string[] | undefined,
  cache: FilterCache | undefined,
  learn = false,
): CachedFilter {
  const key = cache
    ? filterKey(cache.version, arch, inputOf(p, network, undefined, notify, observe, learn))
    : undefined;
  const hit = cache && key ? loadFilter(cache.dir, key, cache.uid) : undefined;
  if (hit) return hit;
  const r = compileProfileSeccomp(p, network, arch, notify, observe, learn);
  const f: CachedFilter = {
    bytes: r.bytes,
    instructions: r.instructions,
    ...(r.notified ? { notified: r.notified } : {}),
    ...(r.observed ? { observed: r.observed } : {}),
  };
  if (cache && key) storeFilter(cache.dir, key, f);
  return f;
}

/** The filter for `arch`; throws the first ProfileError of checkProfileSeccomp. */
export function compileProfileSeccomp(
  p: ProfileSyscalls,
  network: Network,
  arch: Arch,
  notify = false,
  observe?: readonly string[],
  learn = false,
): CompileResult {
  const { result, errors } = checkProfileSeccomp(p, network, arch, notify, observe, learn);
  if (result === undefined) throw errors[0]!;
  return result;
}

function at(source: SourceRef, keyPath: string, detail: string): ProfileError {
  return new ProfileError({ file: source.file, line: source.line, keyPath }, detail);
}

/**
 * A filter over BPF_MAXINSNS: name the rule that makes it large. Each
 * candidate (the argument rules of one syscall, taken together, and each
 * "@group") is left out in turn; the one whose absence saves the most
 * instructions is reported at its first entry. Slow (a compilation per
 * candidate), but only ever on the way to an error.
 */
function tooLarge(p: ProfileSyscalls, network: Network, arch: Arch, total: number): ProfileError {
  const candidates = new Map<string, { list: List; entries: Tagged<SyscallEntry>[] }>();
  for (const list of ['allow', 'deny'] as const) {
    for (const t of p.syscalls[list]) {
      if (t.layer < 0) continue; // the built-in "@default": no file to point at
      const key =
        typeof t.value === 'string'
          ? t.value.startsWith('@')
            ? t.value
            : undefined
          : t.value.args?.length
            ? t.value.name
            : undefined;
      if (key === undefined) continue;
      const c = candidates.get(key) ?? { list, entries: [] };
      c.entries.push(t);
      candidates.set(key, c);
    }
  }
  let best: { key: string; list: List; entries: Tagged<SyscallEntry>[]; saved: number } | undefined;
  for (const [key, c] of candidates) {
    const drop = new Set(c.entries);
    let left: number;
    try {
      left = compileSeccomp(
        inputOf(p, network, (t) => !drop.has(t)),
        arch,
      ).instructions;
    } catch (e) {
      if (!(e instanceof SeccompTooLargeError)) throw e;
      left = e.instructions;
    }
    if (best === undefined || total - left > best.saved) best = { key, ...c, saved: total - left };
  }
  const abis = arch === 'x86_64' && p.syscalls.multiarch ? 'x86_64 and i386' : arch;
  const head = `the seccomp filter for ${abis} would have ${total} instructions, more than the kernel's ${BPF_MAXINSNS}`;
  if (best === undefined) {
    const last = p.syscalls.allow[p.syscalls.allow.length - 1]!;
    return at(last.source, 'syscalls.allow', `${head}: allow fewer system calls`);
  }
  const first = best.entries[0]!;
  const n = best.entries.length;
  const last = best.entries[n - 1]!;
  const what = best.key.startsWith('@')
    ? `group ${best.key} takes`
    : n === 1
      ? `this argument rule for ${best.key} takes`
      : `the ${n} argument rules for ${best.key} (from here to ${last.source.file}:${last.source.line}) take`;
  return at(
    first.source,
    `syscalls.${best.list}`,
    `${head}; ${what} ${best.saved} of them: write fewer or broader conditions`,
  );
}
