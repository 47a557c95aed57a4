/**
 * tsjail learn: what a recorded run used -> the grants of a profile, and
 * the profile's JSON5 text with a comment on each. Pure: the host is asked
 * only through the `Host` functions the caller passes (src/cli/learn.ts).
 *
 * The record is the reporter's JSON lines (shim-c/report.c, learning):
 *   {kind: "used", syscall}                      a call the filter allowed, once
 *   {kind: "used", syscall, family, path|host..} connect/sendto and its address
 *   {kind: "path", syscall, path, write?, directory?, entry?, hidden}
 *   {kind: "syscall", syscall, key, ...}         a call the base profile refuses
 *
 * Rules, so that the profile never grants more than the run used:
 *   - a path is proposed only when it exists on the host after the run, is
 *     not already shown by the base profile with that access, and is no
 *     secret (those are said in a comment, never granted; a path in a tmpfs
 *     the learning sandbox made at a secret's place, its runtime directory,
 *     is the sandbox's own: neither said nor granted); a path the
 *     learning view hid (not a secret) is said, not granted: the run never
 *     got it, so nothing shows the program needs it;
 *   - paths are collapsed to the first directory below a broad one (/, /etc,
 *     /usr, /opt, /var, the home, the XDG base directories, ...): reading
 *     ~/notes/a and ~/notes/b proposes ${HOME}/notes, never ${HOME};
 *   - system calls: exactly the ones made, each with the base profile's own
 *     entries for it (argument conditions kept), a whole group written as
 *     its name when every member was used;
 *   - network: none when no internet socket was connected, else "private"
 *     with the addresses and ports connected to (names are not seen: a
 *     comment says so when DNS was used);
 *   - sockets: the ones connected to.
 */
import * as path from 'node:path';
import { GROUPS, expandGroup, type GroupContext } from '../seccomp/groups.js';
import { REQUIRED_SYSCALLS, type SyscallEntry } from '../seccomp/policy.js';
import type { SecretPath } from '../mounts/secrets.js';
import { covers } from '../desktop/dbus.js';
import { BUSES, learnBus, type BaseBus, type Bus, type DbusUse, type LearnedBus } from './dbus.js';

/** One line of the record. */
export type Observation = Record<string, unknown> & { kind?: unknown };

/** What learning asks of the host and of the base profile's plan. */
export interface Host {
  home: string;
  /** The directory the program was started from. */
  cwd?: string;
  /** XDG base directories and the runtime directory, for variables and collapsing. */
  xdg: { config: string; data: string; cache: string; state: string; runtime?: string };
  secrets: readonly SecretPath[];
  /** The host's real path of `p`, or undefined when it does not exist. */
  real(p: string): string | undefined;
  isDir(p: string): boolean;
  /** Whether the learning sandbox showed `p` from the host (not a private tmpfs of its own). */
  learnShows(p: string): boolean;
  /**
   * The learning sandbox's own directory at sandbox path `p`: the path of the
   * private tmpfs it mounted there (its runtime directory, /tmp), `/` where it
   * mounted nothing (its root is an empty tmpfs), undefined where it showed
   * the host's object or hid one (a secret's cover).
   */
  learnOwn(p: string): string | undefined;
  /** Whether the entry at host path `p` was made during the run (its birth, else its change, after the start). */
  madeDuringRun(p: string): boolean;
  /** Whether the base profile shows host path `p` (ro: for reading, rw: for writing). */
  baseShows(p: string, access: 'ro' | 'rw'): boolean;
  /** The base profile's syscall entries (groups expanded) under this network, to copy. */
  baseSyscalls(network: GroupContext['network']): SyscallEntry[];
  /** The syscall names of the native table (for groups). */
  nativeNames: ReadonlySet<string>;
  /** The base profile's rules for a bus it has (src/learn/dbus.ts). */
  baseDbus?(bus: Bus): BaseBus | undefined;
}

export interface Learned {
  ro: string[];
  rw: string[];
  exec: string[];
  sockets: string[];
  network: { mode: 'none' } | { mode: 'private'; allow: string[] };
  /** The buses the program connected to through the learning proxies, and the names to add there. */
  dbus: Partial<Record<Bus, LearnedBus>>;
  /** Used with no internet socket at all: the base's network is kept as "none". */
  syscalls: SyscallEntry[];
  /** Said in comments. */
  notes: {
    secrets: string[];
    hidden: string[];
    refused: string[];
    dns: string[];
    udp: string[];
    unixOther: string[];
    /** It connected to a bus the learning sandbox had no proxy for. */
    dbus: boolean;
    /** Names the D-Bus proxy refused (the base's dbus rules), as KEY: NAME. */
    dbusRefused: string[];
    /** Names of refused families (src/desktop/dbus.ts) it called or asked to own: never proposed, as BUS: NAME. */
    dbusForbidden: string[];
    devices: string[];
  };
  /** How many observations each grant stands for, and an example. */
  why: Map<string, string>;
}

/** Directories never proposed whole: a grant is the first entry below the deepest of them. */
function broadDirs(h: Host): string[] {
  const home = h.home;
  const list = [
    '/',
    '/etc',
    '/usr',
    '/usr/share',
    '/usr/lib',
    '/usr/local',
    '/usr/local/share',
    '/opt',
    '/var',
    '/var/lib',
    '/var/cache',
    '/srv',
    '/mnt',
    '/media',
    '/home',
    '/tmp',
    '/run',
    home,
    h.xdg.config,
    h.xdg.data,
    h.xdg.cache,
    h.xdg.state,
    path.posix.join(home, '.local'),
  ];
  if (h.xdg.runtime) list.push(h.xdg.runtime);
  for (let q = path.posix.dirname(home); q !== '/'; q = path.posix.dirname(q)) list.push(q);
  return [...new Set(list)];
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);

/** The grant for host path `p`: itself, or its first component below the deepest broad directory above it. */
export function collapse(p: string, broad: readonly string[]): string {
  let best = '/';
  for (const d of broad) if (under(p, d) && d.length > best.length && p !== d) best = d;
  if (p === best) return p;
  const rest = p.slice(best === '/' ? 1 : best.length + 1).split('/')[0]!;
  return best === '/' ? `/${rest}` : `${best}/${rest}`;
}

/** ${HOME} and the XDG variables in place of the caller's directories. */
export function withVariables(p: string, h: Host): string {
  const vars: [string, string][] = [
    ['${XDG_CONFIG_HOME}', h.xdg.config],
    ['${XDG_DATA_HOME}', h.xdg.data],
    ['${XDG_CACHE_HOME}', h.xdg.cache],
    ['${XDG_STATE_HOME}', h.xdg.state],
    ['${HOME}', h.home],
  ];
  for (const [name, dir] of vars) if (dir && dir !== '/' && under(p, dir)) return name + p.slice(dir.length);
  return p;
}

const SPECIAL = ['/proc', '/sys', '/dev'];

/** Sockets by the path a program connects to. */
function socketOf(p: string, h: Host): string | undefined {
  const base = path.posix.basename(p);
  if (p.startsWith('/tmp/.X11-unix/X')) return 'x11';
  if (/^wayland-[0-9]+$/.test(base)) return 'wayland';
  if (p.endsWith('/pulse/native')) return 'pulseaudio';
  if (/^pipewire-[0-9]+$/.test(base)) return 'pipewire';
  if (h.xdg.runtime && p === path.posix.join(h.xdg.runtime, 'bus')) return 'dbus';
  if (p === '/run/dbus/system_bus_socket' || p === '/var/run/dbus/system_bus_socket') return 'dbus';
  return undefined;
}

/** The secret path `p` lies in, the innermost (the ssh agent's socket inside the runtime directory). */
function isSecret(p: string, h: Host): SecretPath | undefined {
  let best: SecretPath | undefined;
  for (const s of h.secrets) if (under(p, s.path) && (best === undefined || s.path.length > best.path.length)) best = s;
  return best;
}

/**
 * Whether a touch of sandbox path `p`, inside `secret`, reached the host's
 * secret. Not where the learning sandbox had a tmpfs of its own at or inside
 * the secret's path (its runtime directory, made in place of the host's):
 * what the program found or made there was the sandbox's. Where that tmpfs
 * (or the sandbox's empty root) lies above the secret (an ssh agent's socket
 * under /tmp), only a path the host has and the sandbox did not show
 * (`hidden`) is the host's secret; one the sandbox had, or neither had, is not.
 */
function touchedSecret(p: string, secret: SecretPath, hidden: boolean, h: Host): boolean {
  const own = h.learnOwn(p);
  if (own === undefined) return true;
  if (under(own, secret.path)) return false;
  return hidden;
}

/** Every native member of a group, recursively. */
function members(group: string, seen = new Set<string>()): string[] {
  const def = GROUPS[group];
  if (def === undefined || seen.has(group)) return [];
  seen.add(group);
  return def.members.flatMap((m) => (m.startsWith('@') ? members(m, seen) : [m]));
}

/** Allowed by every filter (src/seccomp/policy.ts REQUIRED_SYSCALLS): never listed. */
const ALWAYS_ALLOWED: ReadonlySet<string> = new Set(REQUIRED_SYSCALLS);

const nameOf = (e: SyscallEntry): string => (typeof e === 'string' ? e : e.name);

/** The observations (and what the learning D-Bus proxies logged, src/learn/dbus.ts) -> grants. */
export function learn(lines: readonly Observation[], h: Host, dbusUse: Partial<Record<Bus, DbusUse>> = {}): Learned {
  const broad = broadDirs(h);
  const notes: Learned['notes'] = {
    secrets: [],
    hidden: [],
    refused: [],
    dns: [],
    udp: [],
    unixOther: [],
    dbus: false,
    dbusRefused: [],
    dbusForbidden: [],
    devices: [],
  };
  const why = new Map<string, string>();
  const used = new Set<string>();
  const reads = new Map<string, string>();
  const writes = new Map<string, string>();
  const execs = new Map<string, string>();
  const sockets = new Set<string>();
  const inet = new Set<string>();
  const add = (list: Set<string>, v: string): void => void list.add(v);
  for (const o of lines) {
    const sc = typeof o.syscall === 'string' ? o.syscall : undefined;
    if (o.kind === 'dbus' && typeof o.name === 'string') {
      const k = `${String(o.key)}: ${o.name}`;
      if (!notes.dbusRefused.includes(k)) notes.dbusRefused.push(k);
      continue;
    }
    if (o.kind === 'syscall' && sc) {
      if (!notes.refused.includes(sc)) notes.refused.push(sc);
      continue;
    }
    if (sc && (o.kind === 'used' || o.kind === 'path')) used.add(sc);
    if (o.kind === 'used' && o.family === 'unix') {
      const p = typeof o.path === 'string' ? o.path : typeof o.abstract === 'string' ? o.abstract : undefined;
      if (p === undefined || p === '') continue;
      const s = socketOf(p, h);
      if (s === 'dbus') notes.dbus = !Object.values(dbusUse).some((u) => u.connected);
      else if (s) add(sockets, s);
      else if (typeof o.path === 'string' && !h.baseShows(p, 'rw') && !notes.unixOther.includes(p))
        notes.unixOther.push(p);
      continue;
    }
    if (o.kind === 'used' && (o.family === 'inet' || o.family === 'inet6')) {
      const host = String(o.host);
      const port = Number(o.port);
      const hp = o.family === 'inet6' ? `[${host}]:${port}` : `${host}:${port}`;
      if (port === 53) {
        if (!notes.dns.includes(hp)) notes.dns.push(hp);
      } else if (sc === 'sendto') {
        if (!notes.udp.includes(hp)) notes.udp.push(hp);
      } else if (port > 0) inet.add(o.family === 'inet6' ? `${host}:${port}` : hp);
      continue;
    }
    if (o.kind !== 'path' || typeof o.path !== 'string' || sc === undefined) continue;
    const asked = path.posix.normalize(o.path);
    if (SPECIAL.some((d) => under(asked, d))) {
      if (under(asked, '/dev') && o.hidden === true && !notes.devices.includes(asked)) notes.devices.push(asked);
      continue;
    }
    const write = o.write === true;
    // What the base profile shows already (a secret it names, too) needs nothing.
    const shownReal = h.real(asked);
    if (shownReal !== undefined && h.baseShows(shownReal, write ? 'rw' : 'ro') && !sc.startsWith('exec')) continue;
    const secret = isSecret(asked, h);
    if (secret) {
      // The sandbox's own runtime directory is no secret of the host's, nor a grant: nothing to say.
      if (!touchedSecret(asked, secret, o.hidden === true, h)) continue;
      // Said once per secret, not per file in it.
      const s = `${withVariables(secret.path, h)} (${secret.why})`;
      if (!notes.secrets.includes(s)) notes.secrets.push(s);
      continue;
    }
    // A call that makes or removes an entry writes the directory it is in: the entry made during
    // the run is the grant (mkdir -p's EEXIST on every parent is none), else its directory.
    let real: string | undefined;
    if (o.entry === true) {
      const made = h.real(asked);
      const parent = h.real(path.posix.dirname(asked));
      if (made !== undefined && h.madeDuringRun(made)) real = made;
      else if (made === undefined && parent !== undefined && sc !== 'mkdir' && sc !== 'mkdirat') real = parent;
      else continue;
    } else real = h.real(asked);
    if (real === undefined) continue; // never there, or removed again: nothing to show
    if (!h.learnShows(real) && o.hidden !== true) continue; // a private tmpfs of the sandbox's own
    if (o.hidden === true) {
      const s = withVariables(real, h);
      if (!notes.hidden.includes(s)) notes.hidden.push(s);
      continue;
    }
    if (h.baseShows(real, write ? 'rw' : 'ro') && !(sc.startsWith('exec') && !h.baseShows(real, 'ro'))) continue;
    // A directory opened to read is read itself; a file's grant is collapsed.
    // Below the directory the program was started from (never a broad one): that directory.
    const grant = h.cwd && !broad.includes(h.cwd) && under(real, h.cwd) ? h.cwd : collapse(real, broad);
    if (broad.includes(grant)) continue; // the home, /tmp, ...: never proposed whole
    const target = sc.startsWith('exec') ? execs : write ? writes : reads;
    if (!target.has(grant)) target.set(grant, asked);
  }
  // Writable wins over read-only at the same grant or below it; exec under a writable grant stays listed.
  const rw = [...writes.keys()].sort();
  const ro = [...new Set([...reads.keys(), ...execs.keys()])].filter((p) => !rw.some((w) => under(p, w))).sort();
  const exec = [...execs.keys()].filter((p) => rw.some((w) => under(p, w))).sort();
  for (const [m, tag] of [
    [reads, 'read'],
    [writes, 'written'],
    [execs, 'executed'],
  ] as const)
    for (const [g, ex] of m) if (!why.has(g)) why.set(g, ex === g ? tag : `${tag}: ${withVariables(ex, h)}`);

  const network: Learned['network'] = inet.size > 0 ? { mode: 'private', allow: [...inet].sort() } : { mode: 'none' };
  // Exactly the calls made, with the base's own entries for each (its argument conditions kept).
  const base = h.baseSyscalls(network.mode === 'none' ? 'none' : 'host');
  const plain = new Set(base.filter((e) => typeof e === 'string'));
  const conditioned = new Set(base.filter((e) => typeof e !== 'string').map(nameOf));
  const covered = new Set<string>();
  const syscalls: SyscallEntry[] = [];
  // Largest groups first: a group is written when every native member was used and is plainly allowed.
  const groups = Object.keys(GROUPS)
    .filter((g) => g !== '@default' && g !== '@system-service')
    .map((g) => ({ g, m: [...new Set(members(g))].filter((n) => h.nativeNames.has(n)) }))
    .filter((x) => x.m.length > 1)
    .sort((a, b) => b.m.length - a.m.length);
  for (const { g, m } of groups)
    if (m.every((n) => used.has(n) && plain.has(n) && !conditioned.has(n) && !covered.has(n))) {
      syscalls.push(g);
      for (const n of m) covered.add(n);
    }
  for (const n of [...used].sort()) {
    if (covered.has(n) || ALWAYS_ALLOWED.has(n)) continue;
    const entries = base.filter((e) => nameOf(e) === n);
    syscalls.push(...entries);
    covered.add(n);
  }
  const dbus: Learned['dbus'] = {};
  for (const bus of BUSES) {
    const u = dbusUse[bus];
    if (u === undefined || !u.connected) continue;
    const { add, forbidden } = learnBus(u, h.baseDbus?.(bus));
    dbus[bus] = add;
    notes.dbusForbidden.push(...forbidden.map((n) => `${bus}: ${n}`));
    for (const n of add.own)
      why.set(`dbus.${bus}.own:${n}`, 'asked to own (refused while learning: owning is not widened, see tsjail(1))');
    for (const n of add.talk)
      why.set(
        `dbus.${bus}.talk:${n}`,
        u.talk.some((x) => covers(n, x)) ? 'called' : 'called; the proxy found no such name while learning',
      );
  }
  return { ro, rw, exec, sockets: [...sockets].sort(), network, dbus, syscalls, notes, why };
}

/** What the learning run widened, said at the top of the file. */
export interface Widened {
  base: string;
  baseFiles: readonly string[];
  argv: readonly string[];
  when: string;
  widened: string[];
  status: number | null;
}

/** A JSON5 value on one line (keys unquoted where they can be). */
function j5(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(j5).join(', ')}]`;
  if (v !== null && typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)}: ${j5(x)}`)
      .join(', ')} }`;
  return JSON.stringify(v);
}

function commentLines(text: string, indent: string): string[] {
  return text.split('\n').map((l) => `${indent}// ${l}`.trimEnd());
}

/**
 * The profile's text: `baseDoc` (the base profile's own keys, kept as
 * written, or {} for a local diff) with the learned grants in place of its
 * filesystem additions, sockets, network and syscalls; `local`: only
 * additions (NAME.local.json5), no syscalls (a local can only add to them).
 */
export function renderProfile(
  l: Learned,
  h: Host,
  w: Widened,
  baseDoc: Record<string, unknown>,
  local: boolean,
  baseNetwork: 'none' | 'host' | 'private',
): string {
  const out: string[] = [];
  const head = [
    `Learned by \`tsjail learn\` on ${w.when} from:`,
    `  ${w.argv.map((a) => (/^[A-Za-z0-9_./=:@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
    `(exit status ${w.status ?? 'none: killed by a signal'})`,
    local
      ? `Only what profile ${w.base} does not already allow: merged on top of it as ${w.base}.local.json5.`
      : `Based on profile ${w.base} (${w.baseFiles.join(', ')}): its keys are kept, the grants below are what the run used.`,
    `While learning, tsjail widened the sandbox (nothing of this is granted here): ${w.widened.join('; ')}.`,
    'Review every entry before you use it.',
  ];
  out.push(...commentLines(head.join('\n'), ''));
  out.push('{');
  const keys: [string, string[]][] = [];
  const docFs = (baseDoc.filesystem ?? {}) as Record<string, unknown>;
  const fsOut: string[] = [];
  const listed = (kind: string, learned: string[], what: string): void => {
    const kept = local ? [] : ((docFs[kind] as unknown[] | undefined) ?? []);
    if (kept.length === 0 && learned.length === 0) return;
    fsOut.push(`    ${kind}: [`);
    if (kept.length > 0) fsOut.push(`      // from ${w.base}:`, ...kept.map((k) => `      ${j5(k)},`));
    if (learned.length > 0) fsOut.push(`      // learned (${what}):`);
    for (const p of learned) {
      const why = l.why.get(p);
      fsOut.push(`      ${j5(withVariables(p, h))},${why ? ` // ${why}` : ''}`);
    }
    fsOut.push('    ],');
  };
  listed('ro', l.ro, 'read or executed');
  listed('rw', l.rw, 'written');
  listed('exec', l.exec, 'executed inside a writable grant');
  if (!local)
    for (const [k, v] of Object.entries(docFs))
      if (!['ro', 'rw', 'exec'].includes(k)) fsOut.push(`    ${k}: ${j5(v)},`);
  if (fsOut.length > 0) keys.push(['filesystem', ['  filesystem: {', ...fsOut, '  },']]);

  const notes: string[] = [];
  if (l.notes.secrets.length > 0)
    notes.push(
      `The program touched secret paths; they stay hidden and are never proposed: ${l.notes.secrets.join(', ')}`,
    );
  if (l.notes.hidden.length > 0)
    notes.push(
      `It asked for paths the learning sandbox did not show (not granted; add them to filesystem.ro if it needs them): ${l.notes.hidden.join(', ')}`,
    );
  if (l.notes.devices.length > 0)
    notes.push(`It opened devices the sandbox does not have (see "devices"): ${l.notes.devices.join(', ')}`);
  if (l.notes.unixOther.length > 0)
    notes.push(`It connected to other unix sockets (not granted): ${l.notes.unixOther.join(', ')}`);
  if (l.notes.dbus)
    notes.push(
      'It connected to a D-Bus bus that the learning sandbox had none of (no bus to proxy was found): nothing of D-Bus is learned; see "dbus" in tsjail-profile(5).',
    );
  if (l.notes.dbusForbidden.length > 0)
    notes.push(
      `It called or asked to own D-Bus names no profile may have without dbus.BUS.dangerouslyAllow (never proposed): ${l.notes.dbusForbidden.join(', ')}`,
    );
  if (l.notes.dbusRefused.length > 0)
    notes.push(
      `The D-Bus proxy refused (${w.base}'s dbus rules; not granted, add a name there if the program needs it): ${l.notes.dbusRefused.join(', ')}`,
    );

  if (l.sockets.length > 0) keys.push(['sockets', [`  sockets: ${j5(l.sockets)}, // connected to`]]);
  const dbusLines = renderDbus(l, w, local ? {} : ((baseDoc.dbus ?? {}) as Record<string, unknown>));
  if (dbusLines.length > 0) keys.push(['dbus', dbusLines]);

  const netLines: string[] = [];
  if (l.notes.dns.length > 0)
    netLines.push(
      ...commentLines(
        `It resolved names through ${l.notes.dns.join(', ')}: only addresses are seen here; where the program connects by name, list the names (network.allow takes HOST:PORT).`,
        '  ',
      ),
    );
  if (l.notes.udp.length > 0)
    netLines.push(
      ...commentLines(`It sent UDP to ${l.notes.udp.join(', ')}, which an allow list does not carry.`, '  '),
    );
  // A local's network replaces the profile's whole: it is written only where the base had none.
  if (l.network.mode === 'private' && (!local || baseNetwork === 'none'))
    netLines.push(
      `  network: { mode: "private", allow: ${j5(l.network.allow)} }, // the addresses and ports it connected to`,
    );
  else if (l.network.mode === 'none' && !local)
    netLines.push(
      `  network: "none", // no internet socket was connected${baseNetwork !== 'none' ? ` (${w.base}: ${baseNetwork})` : ''}`,
    );
  if (netLines.length > 0) keys.push(['network', netLines]);

  if (!local) {
    const sc: string[] = [];
    sc.push('  syscalls: {');
    sc.push(
      ...commentLines(
        `The calls the run made (${l.syscalls.length} entries), with ${w.base}'s own conditions; execve, execveat, write, exit and exit_group are always allowed.`,
        '    ',
      ),
    );
    sc.push('    allow: [');
    // Names six to a line, an entry with argument conditions on a line of its own.
    const names = l.syscalls.filter((e) => typeof e === 'string');
    for (let i = 0; i < names.length; i += 6)
      sc.push(
        `      ${names
          .slice(i, i + 6)
          .map(j5)
          .join(', ')},`,
      );
    for (const e of l.syscalls.filter((x) => typeof x !== 'string')) sc.push(`      ${j5(e)},`);
    sc.push('    ],');
    for (const [k, v] of Object.entries((baseDoc.syscalls ?? {}) as Record<string, unknown>))
      if (k !== 'allow') sc.push(`    ${k}: ${j5(v)},`);
    sc.push('  },');
    keys.push(['syscalls', sc]);
  }
  if (l.notes.refused.length > 0)
    notes.push(
      `Refused while learning (${w.base} refuses them; the program went on without): ${l.notes.refused.join(', ')}; add one to syscalls.allow only if the program needs it.`,
    );
  if (local) notes.push(`syscalls: ${w.base}'s list allowed every call the run made (a local file can only add).`);

  if (!local)
    for (const [k, v] of Object.entries(baseDoc)) {
      if (['filesystem', 'sockets', 'dbus', 'network', 'syscalls', 'description', 'command'].includes(k)) continue;
      keys.push([k, [`  ${k}: ${j5(v)}, // from ${w.base}`]]);
    }
  if (!local) {
    const desc = `Learned from ${path.posix.basename(w.argv[0] ?? 'a program')} (tsjail learn, based on ${w.base})`;
    out.push(`  description: ${j5(desc)},`);
  }
  if (notes.length > 0) out.push(...notes.flatMap((n) => commentLines(n, '  ')));
  for (const [, lines] of keys) out.push(...lines);
  out.push('}');
  return out.join('\n') + '\n';
}

/**
 * The `dbus` key: every bus the base has (its rules kept as written) or the
 * program connected to, with the names learned added to talk and own; for a
 * local file, only the buses and names to add.
 */
function renderDbus(l: Learned, w: Widened, docDbus: Record<string, unknown>): string[] {
  const buses: string[] = [];
  for (const bus of BUSES) {
    const doc = (docDbus[bus] ?? undefined) as Record<string, unknown> | undefined;
    const add = l.dbus[bus];
    if (doc === undefined && add === undefined) continue;
    const inner: string[] = [];
    for (const kind of ['talk', 'own'] as const) {
      const kept = ((doc?.[kind] as unknown[] | undefined) ?? []).map((v) => `        ${j5(v)},`);
      const learned = (add?.[kind] ?? []).map((n) => {
        const why = l.why.get(`dbus.${bus}.${kind}:${n}`);
        return `        ${j5(n)},${why ? ` // ${why}` : ''}`;
      });
      if (kept.length === 0 && learned.length === 0) continue;
      inner.push(`      ${kind}: [`);
      if (kept.length > 0) inner.push(`        // from ${w.base}:`, ...kept);
      if (learned.length > 0) inner.push('        // learned:', ...learned);
      inner.push('      ],');
    }
    for (const [k, v] of Object.entries(doc ?? {}))
      if (k !== 'talk' && k !== 'own') inner.push(`      ${k}: ${j5(v)},`);
    const said =
      add === undefined
        ? ` // from ${w.base}`
        : doc === undefined && inner.length === 0
          ? ' // connected, no name used'
          : '';
    if (inner.length === 0) buses.push(`    ${bus}: {},${said}`);
    else buses.push(`    ${bus}: {${said}`, ...inner, '    },');
  }
  return buses.length > 0 ? ['  dbus: {', ...buses, '  },'] : [];
}

/** A base's expanded syscall entries under a network (`expandGroup` for groups). */
export function expandEntries(entries: readonly SyscallEntry[], ctx: GroupContext): SyscallEntry[] {
  return entries.flatMap((e) => (typeof e === 'string' && e.startsWith('@') ? expandGroup(e, ctx) : [e]));
}
