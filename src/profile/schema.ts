/**
 * Structural validation of a parsed profile.
 *
 * Contract: validateDoc(loaded) returns every schema error of the file (never
 * throws, never crashes on hostile input: wrong types, huge numbers, NaN,
 * enormous lists) as ProfileErrors formatted `FILE:LINE: key.path: message`,
 * and the document typed as ProfileDoc when there are none. It checks shape
 * only: variable names are checked by vars.ts (after this), syscall names and
 * constants by src/seccomp, existence of paths by the mount planner.
 *
 * Hand-written rather than typanion: typanion reports paths as text inside
 * its messages, and every message here needs the key path as data (to map it
 * to a line) and wording of its own ("did you mean ...?").
 */
import { ProfileError } from './errors.js';
import type { LoadedFile } from './load.js';
import { formatKeyPath, lookupPos, type PathSegment } from './positions.js';
import {
  CAPABILITY_NAMES,
  DBUS_BUSES,
  DBUS_RULE_KINDS,
  DEVICE_CLASSES,
  FILESYSTEM_KINDS,
  FILE_ARGS,
  LANDLOCK_MODES,
  LIMIT_NAMES,
  NETWORK_MODES,
  SOCKET_NAMES,
  SYSCALL_ACTIONS,
  SYSCALL_ARG_OPS,
  type ProfileDoc,
} from './types.js';
import { DEFAULT_PROTECT } from './protect.js';
import { allowEntryError } from './allow.js';

export const MAX_LIST_ITEMS = 4096;
export const MAX_PATH_LENGTH = 4096;
export const MAX_STRING_LENGTH = 128 * 1024;
export const MAX_ARG_CONDS = 32;
export const HOSTNAME_MAX = 64; // HOST_NAME_MAX, include/uapi/linux/utsname.h

/** Snippet and profile names: a file name without a path or extension. */
export const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
const SYSCALL_NAME_RE = /^[A-Za-z0-9_]+$/;
const SYSCALL_GROUP_RE = /^@[A-Za-z0-9_-]+$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_PATTERN_RE = /^[A-Za-z_*?[][A-Za-z0-9_*?[\]!]*$/;
const DBUS_ELEMENT = '[A-Za-z_-][A-Za-z0-9_-]*';
/** Well-known bus names (org.example.App), optionally ending in `.*` as xdg-dbus-proxy allows. */
const DBUS_NAME_RE = new RegExp(`^(${DBUS_ELEMENT}(\\.${DBUS_ELEMENT})+(\\.\\*)?|${DBUS_ELEMENT}\\.\\*)$`);
const HOSTNAME_LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
const DBUS_NAME_MAX = 255; // DBUS_MAXIMUM_NAME_LENGTH

export interface ValidDoc {
  loaded: LoadedFile;
  doc: ProfileDoc;
}

export interface SchemaResult {
  doc?: ProfileDoc;
  errors: ProfileError[];
}

type Path = readonly PathSegment[];

/** Collects errors for one file, each located through the position map. */
class Checker {
  readonly errors: ProfileError[] = [];
  constructor(private readonly loaded: LoadedFile) {}

  fail(path: Path, message: string, at: 'key' | 'value' = 'value'): false {
    const pos = lookupPos(this.loaded.positions, path, at);
    this.errors.push(
      new ProfileError({ file: this.loaded.file, line: pos.line, keyPath: formatKeyPath(path) }, message),
    );
    return false;
  }
}

export function validateDoc(loaded: LoadedFile): SchemaResult {
  const cx = new Checker(loaded);
  for (const dup of loaded.positions.duplicates) {
    cx.errors.push(
      new ProfileError(
        { file: loaded.file, line: dup.second.line, keyPath: dup.path },
        `key written twice (first at line ${dup.first.line}); the first would be ignored`,
      ),
    );
  }
  checkTop(cx, loaded.data);
  return cx.errors.length === 0 ? { doc: loaded.data as ProfileDoc, errors: [] } : { errors: cx.errors };
}

// ---------------------------------------------------------------------------
// The profile, key by key.

type KeyChecks = Record<string, (cx: Checker, v: unknown, path: Path) => void>;

const TOP: KeyChecks = {
  description: (cx, v, p) => {
    checkString(cx, v, p, { max: MAX_STRING_LENGTH });
  },
  command: (cx, v, p) => checkList(cx, v, p, (x, q) => checkCommandName(cx, x, q)),
  include: (cx, v, p) => checkList(cx, v, p, (x, q) => checkSnippetName(cx, x, q)),
  filesystem: (cx, v, p) => checkObject(cx, v, p, FILESYSTEM),
  devices: (cx, v, p) => checkList(cx, v, p, (x, q) => checkDevice(cx, x, q)),
  sockets: (cx, v, p) => checkList(cx, v, p, (x, q) => checkEnum(cx, x, q, SOCKET_NAMES, 'socket')),
  dbus: (cx, v, p) => checkObject(cx, v, p, DBUS),
  network: (cx, v, p) => checkNetwork(cx, v, p),
  syscalls: (cx, v, p) => checkObject(cx, v, p, SYSCALLS),
  env: (cx, v, p) => checkObject(cx, v, p, ENV),
  limits: (cx, v, p) => checkObject(cx, v, p, LIMITS),
  hostname: (cx, v, p) => checkHostname(cx, v, p),
  nestedSandbox: (cx, v, p) => {
    checkBoolean(cx, v, p);
  },
  landlock: (cx, v, p) => checkLandlock(cx, v, p),
  root: (cx, v, p) => checkRoot(cx, v, p),
  uid: (cx, v, p) => {
    if (v !== 0 && v !== 'caller') cx.fail(p, `expected 0 or "caller", got ${describe(v)}`);
  },
  capabilities: (cx, v, p) => checkList(cx, v, p, (x, q) => checkEnum(cx, x, q, CAPABILITY_NAMES, 'capability')),
};

const FILESYSTEM: KeyChecks = {
  ...Object.fromEntries(
    FILESYSTEM_KINDS.map((k) => [
      k,
      (cx: Checker, v: unknown, p: Path) => checkList(cx, v, p, (x, q) => checkPath(cx, x, q)),
    ]),
  ),
  protect: (cx, v, p) => checkList(cx, v, p, (x, q) => checkProtect(cx, x, q)),
  unprotect: (cx, v, p) => checkList(cx, v, p, (x, q) => checkUnprotect(cx, x, q)),
  args: (cx, v, p) => {
    checkEnum(cx, v, p, FILE_ARGS, 'filesystem.args value');
  },
};

const BUS: KeyChecks = {
  ...Object.fromEntries(
    DBUS_RULE_KINDS.map((k) => [
      k,
      (cx: Checker, v: unknown, p: Path) =>
        checkList(cx, v, p, (x, q) =>
          k === 'call' || k === 'broadcast' ? checkDbusRule(cx, x, q) : checkDbusName(cx, x, q),
        ),
    ]),
  ),
  // Names tsjail refuses (src/desktop/dbus.ts) that this profile may reach anyway: each exactly.
  dangerouslyAllow: (cx, v, p) =>
    checkList(cx, v, p, (x, q) => {
      if (typeof x === 'string' && x.endsWith('.*'))
        cx.fail(q, `${JSON.stringify(x)}: name each refused name exactly, without ".*"`);
      else checkDbusName(cx, x, q);
    }),
};

const DBUS: KeyChecks = Object.fromEntries(
  DBUS_BUSES.map((b) => [b, (cx: Checker, v: unknown, p: Path) => checkObject(cx, v, p, BUS)]),
);

const SYSCALLS: KeyChecks = {
  allow: (cx, v, p) => checkList(cx, v, p, (x, q) => checkSyscallEntry(cx, x, q)),
  deny: (cx, v, p) => checkList(cx, v, p, (x, q) => checkSyscallEntry(cx, x, q)),
  action: (cx, v, p) => {
    checkEnum(cx, v, p, SYSCALL_ACTIONS, 'action');
  },
  multiarch: (cx, v, p) => {
    checkBoolean(cx, v, p);
  },
};

const ENV: KeyChecks = {
  keep: (cx, v, p) =>
    checkList(cx, v, p, (x, q) => {
      if (checkString(cx, x, q, { max: 256 }) && !ENV_PATTERN_RE.test(x as string)) {
        cx.fail(q, `${JSON.stringify(x)} is not a variable name or pattern (letters, digits, _, and * ? [..])`);
      }
    }),
  set: (cx, v, p) => {
    if (!checkPlainObject(cx, v, p)) return;
    const entries = Object.entries(v);
    if (entries.length > MAX_LIST_ITEMS) {
      cx.fail(p, `more than ${MAX_LIST_ITEMS} variables`);
      return;
    }
    for (const [name, value] of entries) {
      const q = [...p, name];
      if (!ENV_NAME_RE.test(name) || name.length > 256) {
        cx.fail(q, 'not a valid environment variable name (letters, digits and _, not starting with a digit)', 'key');
        continue;
      }
      checkString(cx, value, q, { max: MAX_STRING_LENGTH, allowEmpty: true });
    }
  },
};

const LIMITS: KeyChecks = Object.fromEntries(
  LIMIT_NAMES.map((k) => [k, (cx: Checker, v: unknown, p: Path) => checkLimit(cx, v, p, k)]),
);

function checkTop(cx: Checker, v: unknown): void {
  if (!isPlainObject(v)) {
    cx.fail([], `a profile must be an object { ... }, got ${describe(v)}`);
    return;
  }
  checkObject(cx, v, [], TOP);
}

// ---------------------------------------------------------------------------
// Building blocks. Each returns whether the value passed (errors are recorded).

function checkObject(cx: Checker, v: unknown, path: Path, keys: KeyChecks): void {
  if (!checkPlainObject(cx, v, path)) return;
  for (const [key, value] of Object.entries(v)) {
    const q = [...path, key];
    const check = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (check === undefined) {
      cx.fail(q, unknownKeyMessage(key, Object.keys(keys), path.length === 0), 'key');
      continue;
    }
    check(cx, value, q);
  }
}

function checkPlainObject(cx: Checker, v: unknown, path: Path): v is Record<string, unknown> {
  return isPlainObject(v) || cx.fail(path, `expected an object { ... }, got ${describe(v)}`);
}

function checkList(cx: Checker, v: unknown, path: Path, item: (x: unknown, q: Path) => void): void {
  if (!Array.isArray(v)) {
    cx.fail(path, `expected a list [ ... ], got ${describe(v)}`);
    return;
  }
  if (v.length > MAX_LIST_ITEMS) {
    cx.fail(path, `more than ${MAX_LIST_ITEMS} entries`);
    return;
  }
  v.forEach((x, i) => item(x, [...path, i]));
}

interface StringRules {
  max?: number;
  allowEmpty?: boolean;
}

function checkString(cx: Checker, v: unknown, path: Path, rules: StringRules = {}): boolean {
  if (typeof v !== 'string') return cx.fail(path, `expected a string, got ${describe(v)}`);
  if (v === '' && rules.allowEmpty !== true) return cx.fail(path, 'must not be empty');
  if (v.includes('\0')) return cx.fail(path, 'must not contain a NUL character');
  const max = rules.max ?? MAX_PATH_LENGTH;
  if (v.length > max) return cx.fail(path, `longer than ${max} characters`);
  return true;
}

function checkBoolean(cx: Checker, v: unknown, path: Path): boolean {
  return typeof v === 'boolean' || cx.fail(path, `expected true or false, got ${describe(v)}`);
}

function checkEnum(cx: Checker, v: unknown, path: Path, allowed: readonly string[], what: string): boolean {
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  if (typeof v !== 'string') return cx.fail(path, `expected one of ${list}, got ${describe(v)}`);
  if (allowed.includes(v)) return true;
  const near = closest(v, allowed);
  const hint = near === undefined ? `expected one of ${list}` : `did you mean ${JSON.stringify(near)}?`;
  return cx.fail(path, `unknown ${what} ${JSON.stringify(v)}; ${hint}`);
}

function checkInteger(cx: Checker, v: unknown, path: Path, min: number, max: number): boolean {
  if (typeof v !== 'number') return cx.fail(path, `expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(v)) return cx.fail(path, `expected an integer, got ${String(v)}`);
  if (v < min || v > max) return cx.fail(path, `${outOfRange(v)} is out of range ${min}..${max}`);
  return true;
}

// ---------------------------------------------------------------------------
// Leaf rules.

/**
 * A host path as written: absolute, or starting with `~` / `${VAR}` (checked
 * again after expansion). No `.` or `..` segments: the mount view must be
 * decidable from the text, and `..` would walk out of what the reader sees.
 */
export function pathProblem(p: string): string | undefined {
  if (!p.startsWith('/') && !p.startsWith('${') && p !== '~' && !p.startsWith('~/')) {
    if (p.startsWith('~')) return 'only "~" and "~/..." are supported, not "~user"';
    return 'must be an absolute path (starting with /, ~ or ${VAR})';
  }
  for (const seg of p.split('/')) {
    if (seg === '..') return 'must not contain ".." segments';
    if (seg === '.') return 'must not contain "." segments';
  }
  return undefined;
}

function checkPath(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path)) return;
  const problem = pathProblem(v as string);
  if (problem !== undefined) cx.fail(path, `${JSON.stringify(v)} ${problem}`);
}

/**
 * A `filesystem.protect` entry: relative to each writable directory
 * (".git/hooks"), or a host path (checked as one) protected where it lies
 * inside a writable one. `*` within a component; never `**`: each launch
 * would walk the whole tree of every writable directory (node_modules...).
 */
export function protectProblem(p: string): string | undefined {
  if (p.includes('**')) return 'must not contain "**" (name each nested directory, e.g. "vendor/*/.git")';
  if (p.startsWith('/') || p.startsWith('$') || p.startsWith('~')) return pathProblem(p);
  if (p.endsWith('/')) return 'must not end in "/"';
  for (const seg of p.split('/')) {
    if (seg === '') return 'must not contain empty segments ("//")';
    if (seg === '..') return 'must not contain ".." segments';
    if (seg === '.') return 'must not contain "." segments';
  }
  return undefined;
}

function checkProtect(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: MAX_PATH_LENGTH })) return;
  const problem = protectProblem(v as string);
  if (problem !== undefined) cx.fail(path, `${JSON.stringify(v)} ${problem}`);
}

function checkUnprotect(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: MAX_PATH_LENGTH })) return;
  if (!DEFAULT_PROTECT.some((d) => d.path === v)) {
    const near = closest(
      v as string,
      DEFAULT_PROTECT.map((d) => d.path),
    );
    cx.fail(
      path,
      `${JSON.stringify(v)} is not in the built-in protect list${near ? `; did you mean "${near}"?` : ' (tsjail-profile(5), "Protected paths")'}`,
    );
  }
}

function checkDevice(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path)) return;
  const s = v as string;
  if (s.startsWith('/') || s.startsWith('${') || s.startsWith('~')) {
    checkPath(cx, s, path);
    if (s.startsWith('/') && !/^\/dev\/[^/]/.test(s)) cx.fail(path, `${JSON.stringify(s)} is not a path under /dev/`);
    return;
  }
  checkEnum(cx, s, path, DEVICE_CLASSES, 'device class (or give a path under /dev/)');
}

function checkCommandName(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: 255 })) return;
  if ((v as string).includes('/')) cx.fail(path, `${JSON.stringify(v)} must be a program's basename, without "/"`);
}

function checkSnippetName(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: 255 })) return;
  const s = v as string;
  if (s.includes('/')) cx.fail(path, `${JSON.stringify(s)}: snippets are named without a path (they live in include/)`);
  else if (s.endsWith('.json5')) cx.fail(path, `${JSON.stringify(s)}: name the snippet without ".json5"`);
  else if (!isSnippetName(s)) cx.fail(path, `${JSON.stringify(s)} is not a valid snippet name`);
}

/** Whether an include entry names a snippet include.ts may look up. */
export function isSnippetName(s: string): boolean {
  return NAME_RE.test(s) && !s.endsWith('.json5') && s.length <= 255;
}

function checkDbusName(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: DBUS_NAME_MAX })) return;
  if (!DBUS_NAME_RE.test(v as string)) {
    cx.fail(path, `${JSON.stringify(v)} is not a D-Bus name (like org.example.App, or org.example.*)`);
  }
}

/** call/broadcast rules, `name=interface.member@/path`, are passed to xdg-dbus-proxy as written. */
function checkDbusRule(cx: Checker, v: unknown, path: Path): void {
  if (checkString(cx, v, path, { max: 1024 }) && /\s/.test(v as string)) {
    cx.fail(path, `${JSON.stringify(v)} must not contain whitespace`);
  }
}

function checkHostname(cx: Checker, v: unknown, path: Path): void {
  if (!checkString(cx, v, path, { max: HOSTNAME_MAX })) return;
  if (!(v as string).split('.').every((label) => HOSTNAME_LABEL_RE.test(label))) {
    cx.fail(path, `${JSON.stringify(v)} is not a valid hostname (letters, digits, "-" and ".")`);
  }
}

/** `root`: a path (as filesystem paths are written), or { path?, writable? }. */
function checkRoot(cx: Checker, v: unknown, path: Path): void {
  if (typeof v === 'string') {
    checkPath(cx, v, path);
    return;
  }
  if (!isPlainObject(v)) {
    cx.fail(path, `expected a directory or { path, writable }, got ${describe(v)}`);
    return;
  }
  checkObject(cx, v, path, {
    path: (c, x, q) => checkPath(c, x, q),
    writable: (c, x, q) => {
      checkBoolean(c, x, q);
    },
  });
}

function checkNetwork(cx: Checker, v: unknown, path: Path): void {
  if (typeof v === 'string') {
    checkEnum(cx, v, path, NETWORK_MODES, 'network mode');
    return;
  }
  if (!isPlainObject(v)) {
    cx.fail(path, `expected "none", "host", "private" or { mode, tcp, allow }, got ${describe(v)}`);
    return;
  }
  const ports = (x: unknown, q: Path): void =>
    checkList(cx, x, q, (port, r) => {
      checkInteger(cx, port, r, 1, 65535);
    });
  checkObject(cx, v, path, {
    mode: (c, x, q) => {
      checkEnum(c, x, q, NETWORK_MODES, 'network mode');
    },
    tcp: (c, x, q) => checkObject(c, x, q, { connect: (_c, y, r) => ports(y, r), bind: (_c, y, r) => ports(y, r) }),
    unscopedAbstractSockets: (c, x, q) => {
      checkBoolean(c, x, q);
    },
    udp: (c, x, q) => {
      checkBoolean(c, x, q);
    },
    fallback: (c, x, q) => {
      checkEnum(c, x, q, ['host', 'none'] as const, 'fallback mode');
    },
    allow: (c, x, q) =>
      checkList(c, x, q, (entry, r) => {
        const why = typeof entry === 'string' ? allowEntryError(entry) : `expected a string, got ${describe(entry)}`;
        if (why) c.fail(r, why);
      }),
  });
  if (!Object.hasOwn(v, 'mode')) cx.fail(path, 'missing key "mode" ("none", "host" or "private")');
  else if (Object.hasOwn(v, 'fallback') && v['mode'] !== 'private') {
    cx.fail([...path, 'fallback'], 'a fallback only means something with mode "private"', 'key');
  } else if (Object.hasOwn(v, 'allow') && v['mode'] !== 'private') {
    cx.fail(
      [...path, 'allow'],
      'an allow list needs mode "private" (it never widens "none", and the host\'s network cannot be filtered by host)',
      'key',
    );
  } else if (Object.hasOwn(v, 'tcp') && v['mode'] !== 'host') {
    cx.fail(
      [...path, 'tcp'],
      'TCP port lists need mode "host" (with "none" there is no network to filter; with "private" use allow)',
      'key',
    );
  } else if (Object.hasOwn(v, 'udp') && v['mode'] !== 'host') {
    cx.fail(
      [...path, 'udp'],
      'only means something with mode "host" (with "private" UDP reaches the internet only, with an allow list nothing)',
      'key',
    );
  } else if (Object.hasOwn(v, 'unscopedAbstractSockets') && v['mode'] !== 'host') {
    cx.fail(
      [...path, 'unscopedAbstractSockets'],
      'only means something with mode "host" (a network namespace of its own has no host abstract sockets)',
      'key',
    );
  }
}

function checkLandlock(cx: Checker, v: unknown, path: Path): void {
  if (typeof v === 'string') {
    checkEnum(cx, v, path, LANDLOCK_MODES, 'landlock mode');
    return;
  }
  if (!isPlainObject(v)) {
    cx.fail(path, `expected "best-effort", "required" or { mode, logDenials }, got ${describe(v)}`);
    return;
  }
  checkObject(cx, v, path, {
    mode: (c, x, q) => {
      checkEnum(c, x, q, LANDLOCK_MODES, 'landlock mode');
    },
    logDenials: (c, x, q) => {
      checkBoolean(c, x, q);
    },
  });
}

function checkSyscallEntry(cx: Checker, v: unknown, path: Path): void {
  if (typeof v === 'string') {
    if (checkString(cx, v, path, { max: 64 }) && !SYSCALL_NAME_RE.test(v) && !SYSCALL_GROUP_RE.test(v)) {
      cx.fail(path, `${JSON.stringify(v)} is not a syscall name or @group`);
    }
    return;
  }
  if (!isPlainObject(v)) {
    cx.fail(path, `expected a syscall name, "@group" or { name, args }, got ${describe(v)}`);
    return;
  }
  checkObject(cx, v, path, {
    name: (c, x, q) => {
      if (checkString(c, x, q, { max: 64 }) && !SYSCALL_NAME_RE.test(x as string)) {
        c.fail(q, `${JSON.stringify(x)} is not a syscall name (groups take no arguments)`);
      }
    },
    args: (c, x, q) => {
      // Several conditions may test one argument (a range), so this bounds
      // the filter's size rather than counting arguments.
      if (Array.isArray(x) && x.length > MAX_ARG_CONDS) {
        c.fail(q, `more than ${MAX_ARG_CONDS} conditions`);
        return;
      }
      checkList(c, x, q, (cond, r) => checkArgCond(c, cond, r));
    },
  });
  if (!Object.hasOwn(v, 'name')) cx.fail(path, 'missing key "name"');
}

function checkArgCond(cx: Checker, v: unknown, path: Path): void {
  if (!checkPlainObject(cx, v, path)) return;
  checkObject(cx, v, path, {
    arg: (c, x, q) => {
      checkInteger(c, x, q, 0, 5);
    },
    op: (c, x, q) => {
      checkEnum(c, x, q, SYSCALL_ARG_OPS, 'comparison');
    },
    value: (c, x, q) => {
      if (v['op'] === 'in') {
        if (!Array.isArray(x) || x.length === 0) {
          c.fail(q, `op "in" needs a non-empty list, got ${describe(x)}`);
          return;
        }
        if (x.length > 64) {
          c.fail(q, 'more than 64 values');
          return;
        }
        x.forEach((y, i) => checkArgScalar(c, y, [...q, i]));
      } else {
        checkArgScalar(c, x, q);
      }
    },
    mask: (c, x, q) => {
      checkArgScalar(c, x, q);
    },
  });
  for (const key of ['arg', 'op', 'value']) {
    if (!Object.hasOwn(v, key)) cx.fail(path, `missing key "${key}"`);
  }
  if (v['op'] === '&==' && !Object.hasOwn(v, 'mask')) cx.fail(path, 'op "&==" needs a "mask"');
  if (Object.hasOwn(v, 'mask') && v['op'] !== '&==')
    cx.fail([...path, 'mask'], 'a mask is only used with op "&=="', 'key');
}

/** A number (exact, so within ±2^53) or a constant expression for src/seccomp. */
function checkArgScalar(cx: Checker, v: unknown, path: Path): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      cx.fail(path, `${outOfRange(v)} is not an exact integer; write large values as a string ("0xffffffffffffffff")`);
    }
    return;
  }
  if (typeof v === 'string') {
    checkString(cx, v, path, { max: 256 });
    return;
  }
  cx.fail(path, `expected a number or a constant name, got ${describe(v)}`);
}

/** RLIMIT_NICE is 20 - nice (1..40), RLIMIT_RTPRIO a priority 0..99 (setrlimit(2)). */
function checkLimit(cx: Checker, v: unknown, path: Path, name: string): void {
  if (name === 'required') {
    checkBoolean(cx, v, path);
    return;
  }
  if (v === 'unlimited') return;
  if (name === 'cpu') {
    // CPUs: 0.5 is half of one, 2 two whole ones (cpu.max, cfs_quota_us).
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0.01 || v > 1024)
      cx.fail(
        path,
        `expected a number of CPUs from 0.01 to 1024 (such as 0.5 or 2) or "unlimited", got ${describe(v)}`,
      );
    return;
  }
  if (name === 'pids' && typeof v === 'number') {
    checkInteger(cx, v, path, 1, 4194304);
    return;
  }
  if (name === 'memory' && typeof v === 'number') {
    checkInteger(cx, v, path, 1, Number.MAX_SAFE_INTEGER);
    return;
  }
  if ((name === 'tmpfs' || name === 'shm' || name === 'memory') && typeof v === 'string') {
    if (!SIZE.test(v))
      cx.fail(
        path,
        `expected a size such as "512M" (a number with K, M or G), an integer of bytes or "unlimited", got ${JSON.stringify(v)}`,
      );
    return;
  }
  if (typeof v === 'string') {
    cx.fail(path, `expected a non-negative integer or "unlimited", got ${JSON.stringify(v)}`);
    return;
  }
  const max = name === 'nice' ? 40 : name === 'rtprio' ? 99 : Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'number') {
    cx.fail(path, `expected a non-negative integer or "unlimited", got ${describe(v)}`);
    return;
  }
  checkInteger(cx, v, path, 0, max);
}

/** A size: bytes, or a number with K, M or G (powers of 1024). */
export const SIZE = /^[0-9]+[KMG]?$/i;

// ---------------------------------------------------------------------------
// Messages.

function unknownKeyMessage(key: string, known: readonly string[], topLevel: boolean): string {
  const near = closest(key, known);
  if (near !== undefined) return `unknown key; did you mean "${near}"?`;
  if (topLevel) {
    // A key written one level too high, e.g. `ro: [...]` instead of filesystem.ro.
    const nested: [string, readonly string[]][] = [
      ['filesystem', [...FILESYSTEM_KINDS, 'protect', 'unprotect', 'args']],
      ['syscalls', Object.keys(SYSCALLS)],
      ['env', Object.keys(ENV)],
      ['limits', LIMIT_NAMES],
      ['dbus', DBUS_BUSES],
    ];
    for (const [parent, keys] of nested) {
      if (keys.includes(key)) return `unknown key; did you mean "${parent}.${key}"?`;
    }
  }
  return `unknown key (expected one of: ${known.join(', ')})`;
}

/**
 * The closest candidate within a small edit distance, for "did you mean".
 * On a tie, a candidate with the same letters (a transposition: "=!" for
 * "!=") beats one with a letter changed.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const budget = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  const w = word.toLowerCase();
  const letters = (s: string): string => [...s].sort().join('');
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const score = editDistance(w, lc) * 2 + (letters(w) === letters(lc) ? 0 : 1);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return Math.floor(bestScore / 2) <= budget ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transposition). */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return `number ${outOfRange(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Prints huge numbers compactly (1e+400 parses to Infinity). */
function outOfRange(v: number): string {
  return Number.isFinite(v) && Math.abs(v) >= 1e21 ? v.toExponential(3) : String(v);
}
