/**
 * What a launch plan depends on, recorded while it is planned.
 *
 * A cached plan may run only while everything the planner looked at is as it
 * was (SPEC.md, "Plan cache"). Rather than trusting every call site in
 * src/profile, src/policy, src/mounts, src/desktop and src/launch to report
 * what it read, a recording session sits between the planner and Node for
 * the whole planning: every function of node:fs, process.env, process.cwd,
 * the ids, the host name and the kernel probes (src/sys notes them here).
 * What it can describe in terms the C fast path re-checks with lstat,
 * readlink, getenv and the same probes becomes a dependency; anything else
 * (a write, a child process, a random number, the clock, an fs call it does
 * not know) makes the plan uncacheable. A call site added later is recorded
 * or refuses caching, never silently left out of the key.
 *
 * Paths are recorded the way the kernel resolves them: every component is
 * lstat'ed (and a symlink's target read and followed), so a granted path
 * removed, replaced by a symlink or with a link retargeted changes a
 * dependency. The planner decides which fields of a stat matter (`fields`):
 * identity (type, mode, owner, device, inode) always; size and times for
 * what is not a directory or a device, and for a directory whose entries
 * were listed; the device number of a device.
 */
import type * as FS from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as OS from 'node:os';
import * as path from 'node:path';
import * as tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { Minimatch } from 'minimatch';

// The modules themselves, not ES namespaces (read-only): what every importer
// reads its functions from, in the bundle and (after syncBuiltinESMExports) in ESM.
const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof FS;
const os = require('node:os') as typeof OS;

/** Which fields of an lstat dependency the fast path compares. */
export const F_IDENTITY = 0x1;
export const F_SIZE = 0x2;
export const F_MTIME = 0x4;
export const F_CTIME = 0x8;
export const F_RDEV = 0x10;

export interface StatSig {
  mode: number;
  uid: number;
  gid: number;
  dev: bigint;
  ino: bigint;
  size: bigint;
  rdev: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export type Dep =
  | { kind: 'env'; name: string; value: string | undefined }
  | { kind: 'environ'; entries: string[] }
  | { kind: 'envmatch'; patterns: string[]; entries: string[] }
  | { kind: 'lstat'; path: string; errno: number; st?: StatSig; fields: number }
  | { kind: 'readlink'; path: string; errno: number; target: string }
  | { kind: 'content'; path: string; errno: number; data: Buffer }
  | { kind: 'mountlines'; path: string; fstypes: string[]; errno: number; lines: string }
  | { kind: 'cwd'; path: string }
  | { kind: 'tty'; mask: number }
  | { kind: 'ids'; uid: number; gid: number }
  | { kind: 'probe'; name: string; value: number }
  | { kind: 'hostname'; name: string }
  | { kind: 'hardlimits'; text: string };

export interface Recording {
  deps: Dep[];
  /** Why the plan must not be cached (the first reason), if any. */
  uncacheable?: string;
  /** What was written to stderr while recording (replayed by the fast path). */
  stderr: Buffer;
}

interface Session {
  deps: Dep[];
  lstats: Map<string, Dep & { kind: 'lstat' }>;
  links: Set<string>;
  contents: Set<string>;
  envs: Set<string>;
  fds: Set<number>;
  uncacheable?: string;
  stderr: Buffer[];
  restore: (() => void)[];
}

let session: Session | undefined;

/** Mark the plan being recorded as uncacheable (first reason wins). */
export function noteUncacheable(why: string): void {
  if (session && session.uncacheable === undefined) session.uncacheable = why;
}

/** A kernel probe's result (src/sys): the fast path repeats the probe and compares. */
export function noteProbe(name: string, value: number): void {
  if (!session) return;
  if (!session.deps.some((d) => d.kind === 'probe' && d.name === name))
    session.deps.push({ kind: 'probe', name, value });
}

export function recording(): boolean {
  return session !== undefined;
}

// The real functions, taken before any session patches them.
const real = {
  lstat: fs.lstatSync,
  readlink: fs.readlinkSync,
  readFile: fs.readFileSync,
  writeSync: fs.writeSync,
  cwd: process.cwd.bind(process),
  getuid: process.getuid!.bind(process),
  getgid: process.getgid!.bind(process),
};

function errnoOf(e: unknown): number {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? -n : 0;
}

function sigOf(st: FS.BigIntStats): StatSig {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    dev: st.dev,
    ino: st.ino,
    size: st.size,
    rdev: st.rdev,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
  };
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function fieldsFor(st: StatSig | undefined, listed: boolean): number {
  if (!st) return F_IDENTITY;
  const t = st.mode & S_IFMT;
  if (t === S_IFDIR) return listed ? F_IDENTITY | F_SIZE | F_MTIME | F_CTIME : F_IDENTITY;
  // A terminal's or a device's times change with every byte through it: its identity is its number.
  if (t === S_IFCHR || t === S_IFBLK) return F_IDENTITY | F_RDEV;
  return F_IDENTITY | F_SIZE | F_MTIME | F_CTIME;
}

function lstatDep(s: Session, p: string, listed = false): StatSig | undefined {
  const had = s.lstats.get(p);
  if (had) {
    if (listed && had.st) had.fields = fieldsFor(had.st, true);
    return had.st;
  }
  let dep: Dep & { kind: 'lstat' };
  try {
    const st = sigOf(real.lstat(p, { bigint: true }));
    dep = { kind: 'lstat', path: p, errno: 0, st, fields: fieldsFor(st, listed) };
  } catch (e) {
    dep = { kind: 'lstat', path: p, errno: errnoOf(e), fields: F_IDENTITY };
  }
  s.lstats.set(p, dep);
  s.deps.push(dep);
  return dep.st;
}

/** What `read` returns, or the errno it failed with. */
function attempt<T>(read: () => T): { value?: T; errno: number } {
  try {
    return { value: read(), errno: 0 };
  } catch (e) {
    return { errno: errnoOf(e) };
  }
}

function readlinkDep(s: Session, p: string): string | undefined {
  const { value: target, errno } = attempt(() => real.readlink(p, 'utf8'));
  if (!s.links.has(p)) {
    s.links.add(p);
    s.deps.push({ kind: 'readlink', path: p, errno, target: target ?? '' });
  }
  return target;
}

/**
 * Record the resolution of `p` as the kernel does it: each component
 * lstat'ed, each symlink read and followed (the last one only if `follow`).
 * `listed`: the final object's entries were read.
 */
function resolveDeps(s: Session, p: string | Buffer | URL | number, follow: boolean, listed = false): void {
  if (typeof p === 'number') {
    if (!s.fds.has(p)) noteUncacheable(`read through descriptor ${p}`);
    return;
  }
  let str = p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString('utf8') : String(p);
  if (!path.isAbsolute(str)) {
    noteCwd(s);
    str = path.resolve(real.cwd(), str);
  }
  let todo = str.split('/').filter((c) => c !== '' && c !== '.');
  let at = '/';
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      at = path.posix.dirname(at);
      continue;
    }
    const next = at === '/' ? `/${c}` : `${at}/${c}`;
    // The planning process's own (/etc/mtab -> /proc/self/mounts): the same for every process.
    if (isSelf(next)) return;
    const last = todo.length === 0;
    const st = lstatDep(s, next, last && listed);
    if (!st) return;
    if ((st.mode & S_IFMT) === S_IFLNK && (!last || follow)) {
      const target = readlinkDep(s, next);
      if (target === undefined || ++hops > 40) return;
      const parts = target.split('/').filter((x) => x !== '' && x !== '.');
      todo = [...parts, ...todo];
      if (target.startsWith('/')) at = '/';
      continue;
    }
    at = next;
  }
  if (str === '/' || at === '/') lstatDep(s, '/', listed);
}

function noteCwd(s: Session): void {
  if (s.deps.some((d) => d.kind === 'cwd')) return;
  let cwd: string;
  try {
    cwd = real.cwd();
  } catch {
    noteUncacheable('no current directory');
    return;
  }
  s.deps.push({ kind: 'cwd', path: cwd });
  resolveDeps(s, cwd, true);
}

function noteEnv(s: Session, name: string): void {
  if (s.envs.has(name)) return;
  s.envs.add(name);
  s.deps.push({ kind: 'env', name, value: realEnv[name] });
}

function noteEnviron(s: Session): void {
  if (s.deps.some((d) => d.kind === 'environ')) return;
  s.deps.push({ kind: 'environ', entries: Object.entries(realEnv).map(([k, v]) => `${k}=${v}`) });
}

/**
 * Patterns of variable names that the fast path (fast.c, env_match) matches
 * as minimatch does, for every name it does not doubt: letters, digits, _,
 * and the wildcards * and ?.
 */
const PLAIN_PATTERN = /^[A-Za-z0-9_*?]+$/;

/**
 * The caller's variables whose names match one of the glob `patterns`
 * (minimatch), as [name, value] in the environment's order: what env.keep
 * passes through (src/policy). While a plan is recorded this is one
 * dependency on exactly those variables - which names match, and their
 * values - instead of on the whole environment, when every pattern is plain
 * (PLAIN_PATTERN); else the whole environment is the dependency.
 */
export function envMatching(env: NodeJS.ProcessEnv, patterns: readonly string[]): [string, string][] {
  const s = session;
  const globs = patterns.map((p) => new Minimatch(p));
  const plain = s !== undefined && env === process.env && patterns.every((p) => PLAIN_PATTERN.test(p));
  const out = Object.entries(plain ? realEnv : env).filter(
    (e): e is [string, string] => e[1] !== undefined && globs.some((m) => m.match(e[0])),
  );
  if (plain && !s.deps.some((d) => d.kind === 'envmatch' && d.patterns.join('\0') === patterns.join('\0')))
    s.deps.push({ kind: 'envmatch', patterns: [...patterns], entries: out.map(([k, v]) => `${k}=${v}`) });
  return out;
}

/**
 * Files whose stat says nothing of their content: compared byte for byte.
 * Below /proc/self is the planning process's own: only what the fast path's
 * process shares with it is a dependency - its hard limits, its cgroups and
 * its mount table (the caller's, src/cgroup reads them for limits: of the
 * table only the cgroup lines, through mountLines, when it can); anything
 * else read there makes the plan uncacheable.
 */
const SHARED_SELF = new Set(['/proc/self/limits', '/proc/self/cgroup', '/proc/self/mountinfo']);

function isVirtual(p: string): boolean {
  if (isSelf(p) && !SHARED_SELF.has(p)) noteUncacheable(`${p} was read while planning`);
  return p.startsWith('/proc/') || p.startsWith('/sys/');
}

const SELF = ['/proc/self', '/proc/thread-self', `/proc/${process.pid}`];

function isSelf(p: string): boolean {
  return SELF.some((d) => p === d || p.startsWith(`${d}/`));
}

/**
 * The planning process's own hard limits (src/launch/limits.ts reads
 * /proc/self/limits), as "LABEL\tHARD" lines: the fast path's process has
 * them too (each inherits the caller's), though Node raises a soft one.
 */
export function hardLimitsText(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const label = line.slice(0, 26).trim();
    const hard = line.slice(26).trim().split(/\s+/)[1];
    if (label && hard !== undefined) out.push(`${label}\t${hard}\n`);
  }
  return out.join('');
}

function contentDep(s: Session, p: string): void {
  if (s.contents.has(p)) return;
  if (p === '/proc/self/limits') {
    s.contents.add(p);
    s.deps.push({ kind: 'hardlimits', text: hardLimitsText(real.readFile(p, 'utf8')) });
    return;
  }
  s.contents.add(p);
  const { value: data = Buffer.alloc(0), errno } = attempt(() => real.readFile(p));
  s.deps.push({ kind: 'content', path: p, errno, data });
}

/**
 * The lines of a mount table (`file`: /proc/self/mountinfo) whose file
 * system type is one of `fstypes`, each with its newline, in the table's
 * order; undefined if it cannot be read. The type is the first word after
 * the first " - " of a line (mountinfo escapes spaces in paths, so that
 * separator is unambiguous). A reader that needs only these lines (src/cgroup
 * reads the cgroup file systems' mounts) takes them here: while a plan is
 * recorded they alone are its dependency (fast.c compares the same
 * selection), so a mount made anywhere else on the machine leaves the plan
 * cached; the whole table read with readFileSync stays a dependency whole.
 */
export function mountLines(file: string, fstypes: readonly string[]): string | undefined {
  const { value: text, errno } = attempt(() => real.readFile(file, 'utf8'));
  const lines = text === undefined ? '' : selectMountLines(text, fstypes);
  const s = session;
  if (
    s &&
    !s.deps.some((d) => d.kind === 'mountlines' && d.path === file && d.fstypes.join('\0') === fstypes.join('\0'))
  ) {
    // The caller's own table is the fast path's too; any other one is not compared.
    if (!SHARED_SELF.has(file)) noteUncacheable(`${file} was read while planning`);
    s.deps.push({ kind: 'mountlines', path: file, fstypes: [...fstypes], errno, lines });
  }
  return text === undefined ? undefined : lines;
}

function selectMountLines(text: string, fstypes: readonly string[]): string {
  let out = '';
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const rest = line.slice(sep + 3);
    const sp = rest.indexOf(' ');
    if (fstypes.includes(sp < 0 ? rest : rest.slice(0, sp))) out += `${line}\n`;
  }
  return out;
}

let realEnv: NodeJS.ProcessEnv = process.env;

const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_NOFOLLOW = 0o400000;

type AnyFn = (...args: unknown[]) => unknown;

/** Start recording. Everything the planner does until stopRecording() is a dependency or a refusal to cache. */
export function startRecording(): void {
  if (session) throw new Error('internal error: plan recording started twice');
  const s: Session = {
    deps: [],
    lstats: new Map(),
    links: new Set(),
    contents: new Set(),
    envs: new Set(),
    fds: new Set(),
    stderr: [],
    restore: [],
  };
  session = s;
  const patch = <T extends object>(obj: T, name: string, wrap: (orig: AnyFn) => AnyFn): void => {
    const o = obj as Record<string, unknown>;
    const orig = o[name];
    if (typeof orig !== 'function') return;
    const w = wrap(orig as AnyFn);
    for (const k of Object.keys(orig))
      (w as unknown as Record<string, unknown>)[k] = (orig as unknown as Record<string, unknown>)[k];
    o[name] = w;
    s.restore.push(() => {
      o[name] = orig;
    });
  };
  const before = (obj: object, name: string, hook: (args: unknown[]) => void): void =>
    patch(
      obj,
      name,
      (orig) =>
        function (this: unknown, ...args: unknown[]) {
          hook(args);
          return orig.apply(this, args);
        },
    );
  const refuse = (obj: object, name: string, why: string): void => before(obj, name, () => noteUncacheable(why));
  const abs = (p: unknown): string => path.resolve(real.cwd(), String(p));
  // Reads: dependencies.
  for (const f of ['statSync', 'existsSync', 'accessSync', 'realpathSync'])
    before(fs, f, (a) => resolveDeps(s, a[0] as string, true));
  before(fs.realpathSync, 'native', (a) => resolveDeps(s, a[0] as string, true));
  before(fs, 'lstatSync', (a) => resolveDeps(s, a[0] as string, false));
  before(fs, 'readlinkSync', (a) => {
    resolveDeps(s, a[0] as string, false);
    if (!isSelf(abs(a[0]))) readlinkDep(s, abs(a[0]));
  });
  before(fs, 'readdirSync', (a) => resolveDeps(s, a[0] as string, true, true));
  before(fs, 'readFileSync', (a) => {
    resolveDeps(s, a[0] as string, true);
    if (typeof a[0] === 'string' && isVirtual(abs(a[0]))) contentDep(s, abs(a[0]));
  });
  patch(
    fs,
    'openSync',
    (orig) =>
      function (this: unknown, ...args: unknown[]) {
        const flags = args[1] ?? 'r';
        const n = typeof flags === 'number' ? flags : flags === 'r' || flags === 'rs' ? 0 : -1;
        if (n < 0 || (n & O_ACCMODE) !== 0 || n & (O_CREAT | O_TRUNC)) {
          noteUncacheable(`a file opened for writing while planning (${String(args[0])})`);
          return orig.apply(this, args);
        }
        resolveDeps(s, args[0] as string, (n & O_NOFOLLOW) === 0);
        if (isVirtual(abs(args[0]))) contentDep(s, abs(args[0]));
        const fd = orig.apply(this, args) as number;
        s.fds.add(fd);
        return fd;
      },
  );
  for (const f of ['fstatSync', 'readSync'])
    before(fs, f, (a) => {
      if (!s.fds.has(a[0] as number)) noteUncacheable(`${f} on descriptor ${String(a[0])} while planning`);
    });
  before(fs, 'closeSync', (a) => s.fds.delete(a[0] as number));
  // Diagnostics on stderr are kept for the fast path to repeat; anything else written is not cacheable.
  before(fs, 'writeSync', (a) => {
    const d = a[1];
    if (a[0] !== 2) noteUncacheable(`a write to descriptor ${String(a[0])} while planning`);
    else if (typeof d === 'string') s.stderr.push(Buffer.from(d));
    else if (d instanceof Uint8Array && a.length <= 2) s.stderr.push(Buffer.from(d));
    else noteUncacheable('a partial write to stderr while planning');
  });
  // Every other function of node:fs: not something a plan may depend on.
  const known = new Set([
    'statSync',
    'existsSync',
    'accessSync',
    'realpathSync',
    'lstatSync',
    'readlinkSync',
    'readdirSync',
    'readFileSync',
    'openSync',
    'fstatSync',
    'readSync',
    'closeSync',
    'writeSync',
  ]);
  for (const f of Object.keys(fs)) {
    if (known.has(f) || /^[A-Z]/.test(f) || typeof (fs as Record<string, unknown>)[f] !== 'function') continue;
    refuse(fs, f, `fs.${f} while planning`);
  }
  // The environment: each variable read, or all of it when it is enumerated.
  realEnv = process.env;
  const env = realEnv;
  const proxy = new Proxy(env, {
    get(t, k) {
      if (typeof k === 'string') noteEnv(s, k);
      return Reflect.get(t, k);
    },
    has(t, k) {
      if (typeof k === 'string') noteEnv(s, k);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      noteEnviron(s);
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, k) {
      if (typeof k === 'string') noteEnv(s, k);
      return Reflect.getOwnPropertyDescriptor(t, k);
    },
    set(t, k, v) {
      noteUncacheable('the environment changed while planning');
      return Reflect.set(t, k, v);
    },
    deleteProperty(t, k) {
      noteUncacheable('the environment changed while planning');
      return Reflect.deleteProperty(t, k);
    },
  });
  process.env = proxy;
  s.restore.push(() => {
    process.env = env;
  });
  before(process, 'cwd', () => noteCwd(s));
  const ids = (): void => {
    if (!s.deps.some((d) => d.kind === 'ids')) s.deps.push({ kind: 'ids', uid: real.getuid(), gid: real.getgid() });
  };
  for (const f of ['getuid', 'geteuid', 'getgid', 'getegid']) before(process, f, ids);
  refuse(process, 'getgroups', 'the supplementary groups were read while planning');
  before(os, 'userInfo', () => {
    ids();
    resolveDeps(s, '/etc/passwd', true);
  });
  before(os, 'homedir', () => {
    noteEnv(s, 'HOME');
    resolveDeps(s, '/etc/passwd', true);
  });
  before(os, 'tmpdir', () => ['TMPDIR', 'TMP', 'TEMP'].forEach((v) => noteEnv(s, v)));
  patch(
    os,
    'hostname',
    (orig) =>
      function (this: unknown, ...args: unknown[]) {
        const name = orig.apply(this, args) as string;
        if (!s.deps.some((d) => d.kind === 'hostname')) s.deps.push({ kind: 'hostname', name });
        return name;
      },
  );
  const cp = require('node:child_process') as Record<string, unknown>;
  for (const f of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'])
    refuse(cp, f, `child_process.${f} while planning`);
  for (const f of ['cpus', 'freemem', 'loadavg', 'networkInterfaces', 'uptime', 'getPriority'])
    refuse(os, f, `os.${f} while planning`);
  refuse(Math, 'random', 'a random number while planning');
  refuse(Date, 'now', 'the clock was read while planning');
  // The terminal decides the TTY record (src/launch/tty.ts): always a dependency.
  s.deps.push({ kind: 'tty', mask: [0, 1, 2].reduce((m, fd) => (tty.isatty(fd) ? m | (1 << fd) : m), 0) });
  // tsjail itself: the command and the code that planned.
  for (const f of [process.argv[1], fileURLToPath(import.meta.url)]) if (f) resolveDeps(s, f, true);
  // The boot: kernel, command line (lsm=), and every feature fixed at boot.
  contentDep(s, '/proc/sys/kernel/random/boot_id');
  syncBuiltinESMExports();
}

/** Stop recording and restore everything; returns what the plan depends on. */
export function stopRecording(): Recording {
  const s = session;
  if (!s) throw new Error('internal error: plan recording not started');
  for (const r of s.restore.reverse()) r();
  syncBuiltinESMExports();
  session = undefined;
  return { deps: s.deps, uncacheable: s.uncacheable, stderr: Buffer.concat(s.stderr) };
}

/** The real writeSync, for the cache store while nothing is recorded. */
export const writeSyncUnrecorded = real.writeSync;

/**
 * node:fs as it is before any recording, for what is no dependency of a
 * plan although it is read while planning: src/cache/seccomp.ts, whose
 * entries are a function of their key alone.
 */
export const unrecordedFs = {
  openSync: fs.openSync,
  readSync: fs.readSync,
  fstatSync: fs.fstatSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  statSync: fs.statSync,
};
