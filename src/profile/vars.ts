/**
 * `${VAR}` and `~` expansion over a closed set of variables.
 *
 * Contract: buildVarContext({ env, uid, user, home, cwd }) computes every
 * variable once, from that explicit object and from
 * `$XDG_CONFIG_HOME/user-dirs.dirs` (parsed as text, never executed); nothing
 * else of the caller leaks in, so tests control it fully. expandPath() and
 * expandText() then return one of:
 *   ok     the expanded value (paths normalised, absolute, no `.`/`..`)
 *   unset  a known variable has no value here: the entry is skipped and the
 *          reason shown under -v (never an error: the same profile must run
 *          on a machine without, say, XDG_RUNTIME_DIR)
 *   error  an unknown variable or a malformed reference (a profile bug)
 *
 * Variables:
 *   HOME UID USER CWD           the caller's; HOME unset when it is / or relative
 *   CWD_RO                      CWD, but unset when CWD is /, HOME, an ancestor
 *                               of HOME, or a directory the SPEC never shows
 *                               whole (/tmp /run /var /home /root /srv /mnt
 *                               /media): the default profile's "current
 *                               directory read-only, nothing when it is the
 *                               home directory or /"
 *   TMPDIR                      the caller's TMPDIR when absolute, else /tmp
 *   XDG_RUNTIME_DIR             the caller's, unset when absent or relative
 *   XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME
 *                               the caller's when absolute, else the XDG
 *                               Base Directory defaults under HOME
 *   XDG_DESKTOP_DIR XDG_DOWNLOAD_DIR XDG_DOCUMENTS_DIR XDG_MUSIC_DIR
 *   XDG_PICTURES_DIR XDG_VIDEOS_DIR XDG_TEMPLATES_DIR XDG_PUBLICSHARE_DIR
 *                               from user-dirs.dirs; when not configured,
 *                               $HOME/<English default> (never $HOME itself,
 *                               as xdg-user-dir would answer); when configured
 *                               as HOME, an ancestor of it or /, unset, since
 *                               granting it would grant the whole home (and
 *                               likewise as /tmp, /run, /var, /srv, /mnt,
 *                               /media: never shown whole)
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { posix } from 'node:path';

import { closest, pathProblem } from './schema.js';

export interface VarContextInit {
  env: Readonly<Record<string, string | undefined>>;
  uid: number;
  user: string;
  home: string;
  cwd: string;
  /** Text of user-dirs.dirs; by default read from $XDG_CONFIG_HOME/user-dirs.dirs. */
  userDirsText?: string | null;
}

export interface VarContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Known variables that have a value. */
  values: ReadonlyMap<string, string>;
  /** Known variables without a value, with the reason. */
  unset: ReadonlyMap<string, string>;
}

/** xdg-user-dirs' keys and their untranslated defaults (xdg-user-dirs user-dirs.defaults). */
export const USER_DIR_DEFAULTS: Readonly<Record<string, string>> = {
  XDG_DESKTOP_DIR: 'Desktop',
  XDG_DOWNLOAD_DIR: 'Downloads',
  XDG_DOCUMENTS_DIR: 'Documents',
  XDG_MUSIC_DIR: 'Music',
  XDG_PICTURES_DIR: 'Pictures',
  XDG_VIDEOS_DIR: 'Videos',
  XDG_TEMPLATES_DIR: 'Templates',
  XDG_PUBLICSHARE_DIR: 'Public',
};

export const KNOWN_VARS: readonly string[] = [
  'HOME',
  'UID',
  'USER',
  'CWD',
  'CWD_RO',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  ...Object.keys(USER_DIR_DEFAULTS),
];

/** Directories the SPEC never shows whole, so CWD_RO is unset there. */
const NEVER_WHOLE = ['/tmp', '/run', '/var', '/home', '/root', '/srv', '/mnt', '/media'];

export function buildVarContext(init: VarContextInit): VarContext {
  const values = new Map<string, string>();
  const unset = new Map<string, string>();
  const put = (name: string, value: string | undefined, reason: string): void => {
    if (value === undefined) unset.set(name, reason);
    else values.set(name, value);
  };

  const home = absolute(init.home);
  const homeOk = home !== undefined && home !== '/' ? home : undefined;
  put('HOME', homeOk, `the home directory ${JSON.stringify(init.home)} is / or not an absolute path`);
  values.set('UID', String(init.uid));
  put('USER', init.user === '' ? undefined : init.user, 'the user name is empty');

  const cwd = absolute(init.cwd);
  put('CWD', cwd, `the current directory ${JSON.stringify(init.cwd)} is not an absolute path`);
  put(
    'CWD_RO',
    cwd !== undefined && !isWholeTree(cwd, homeOk) ? cwd : undefined,
    `the current directory ${cwd ?? init.cwd} is not shown: it is /, the home directory, ` +
      'an ancestor of it or a directory never shown whole',
  );

  values.set('TMPDIR', absolute(init.env['TMPDIR']) ?? '/tmp');
  put('XDG_RUNTIME_DIR', absolute(init.env['XDG_RUNTIME_DIR']), 'XDG_RUNTIME_DIR is not set');

  const base: [string, string][] = [
    ['XDG_CONFIG_HOME', '.config'],
    ['XDG_DATA_HOME', '.local/share'],
    ['XDG_CACHE_HOME', '.cache'],
    ['XDG_STATE_HOME', '.local/state'],
  ];
  for (const [name, rel] of base) {
    const fallback = homeOk === undefined ? undefined : posix.join(homeOk, rel);
    put(name, absolute(init.env[name]) ?? fallback, `${name} is not set and there is no home directory`);
  }

  const configHome = values.get('XDG_CONFIG_HOME');
  const text =
    init.userDirsText !== undefined
      ? init.userDirsText
      : configHome === undefined
        ? null
        : readOptional(posix.join(configHome, 'user-dirs.dirs'));
  const configured = text === null || homeOk === undefined ? new Map<string, string>() : parseUserDirs(text, homeOk);
  for (const [name, dflt] of Object.entries(USER_DIR_DEFAULTS)) {
    if (homeOk === undefined) {
      unset.set(name, `${name}: there is no home directory`);
      continue;
    }
    const dir = configured.get(name);
    if (dir === undefined) values.set(name, posix.join(homeOk, dflt));
    else if (isAncestorOrSelf(dir, homeOk)) {
      unset.set(name, `${name} is ${dir} in user-dirs.dirs; granting it would grant the whole home`);
    } else if (NEVER_WHOLE.includes(dir)) {
      unset.set(name, `${name} is ${dir} in user-dirs.dirs, a directory never shown whole`);
    } else values.set(name, dir);
  }
  return { env: init.env, values, unset };
}

/** The variable context of the running process (the CLI's default). */
export function processVarContext(): VarContext {
  const info = userInfo();
  const env = process.env;
  return buildVarContext({
    env,
    uid: info.uid,
    user: env['USER'] ?? info.username,
    home: absolute(env['HOME']) ?? info.homedir,
    cwd: process.cwd(),
  });
}

/**
 * Parses user-dirs.dirs: `XDG_NAME_DIR="$HOME/Dir"` or `XDG_NAME_DIR="/abs"`
 * lines (xdg-user-dirs writes only these forms; `export` and single quotes
 * are accepted too). Anything else, including other `$` references and
 * relative or `..` paths, is ignored: the file is data, not a script.
 * Returns the configured directories, normalised, by variable name.
 */
export function parseUserDirs(text: string, home: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    const m = /^(?:export\s+)?(XDG_[A-Z]+_DIR)=(.*)$/.exec(line);
    if (m === null || !Object.hasOwn(USER_DIR_DEFAULTS, m[1]!)) continue;
    const value = unquoteShellWord(m[2]!);
    if (value === undefined) continue;
    let expanded: string;
    const homeRef = /^\$(?:HOME|\{HOME\})(?=\/|$)/.exec(value);
    if (homeRef !== null) expanded = home + value.slice(homeRef[0].length);
    else if (value.startsWith('/')) expanded = value;
    else continue;
    if (expanded.includes('$') || expanded.includes('\0') || expanded.split('/').includes('..')) continue;
    out.set(m[1]!, normalise(expanded));
  }
  return out;
}

/** One shell word: "double quoted" (\\ \" \$ \` escapes), 'single quoted', or bare. */
function unquoteShellWord(word: string): string | undefined {
  const w = word.replace(/\s+#.*$/, '').trim();
  if (w.startsWith("'")) return w.length >= 2 && w.endsWith("'") ? w.slice(1, -1) : undefined;
  if (!w.startsWith('"')) return /^[^\s"'`;&|<>()]*$/.test(w) ? w : undefined;
  let out = '';
  for (let i = 1; i < w.length; i++) {
    const c = w[i]!;
    if (c === '"') return i === w.length - 1 ? out : undefined;
    if (c === '\\' && i + 1 < w.length && '\\"$`'.includes(w[i + 1]!)) {
      // An escaped \$ is a literal dollar, not a reference: keep it out of
      // the "$HOME" match by refusing such lines altogether.
      if (w[i + 1] === '$') return undefined;
      out += w[++i];
    } else if (c === '`') {
      return undefined;
    } else {
      out += c;
    }
  }
  return undefined;
}

export type Expansion =
  { kind: 'ok'; value: string; glob: boolean } | { kind: 'unset'; reason: string } | { kind: 'error'; message: string };

const GLOB_CHARS = /[*?[{]/;
/** Characters minimatch treats specially, escaped in variable values spliced into a glob. */
const GLOB_SPECIAL = /[*?[\]{}()!+@\\]/g;

/**
 * Expands a host path as written in a profile. `glob` says whether the text
 * the profile wrote (not the variable values) holds glob characters; if so,
 * `value` is a minimatch pattern in which the variables' values are escaped,
 * else it is a literal path.
 */
export function expandPath(raw: string, cx: VarContext): Expansion {
  const text = raw === '~' || raw.startsWith('~/') ? `\${HOME}${raw.slice(1)}` : raw;
  const r = substitute(text, cx, 'path');
  if (r.kind !== 'ok') return r;
  const value = normalise(r.value);
  const problem = pathProblem(value) ?? (value.startsWith('/') ? undefined : 'does not expand to an absolute path');
  if (problem !== undefined)
    return { kind: 'error', message: `${JSON.stringify(raw)} ${problem} (expanded: ${JSON.stringify(value)})` };
  return { kind: 'ok', value, glob: r.glob };
}

/** Expands `${VAR}` in free text (env.set values); a `$` not followed by `{` is literal. */
export function expandText(raw: string, cx: VarContext): Expansion {
  return substitute(raw, cx, 'text');
}

function substitute(text: string, cx: VarContext, mode: 'path' | 'text'): Expansion {
  const pieces: { literal: boolean; s: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      pieces.push({ literal: true, s: text.slice(i) });
      break;
    }
    pieces.push({ literal: true, s: text.slice(i, dollar) });
    if (text[dollar + 1] !== '{') {
      if (mode === 'path' && /[A-Za-z_]/.test(text[dollar + 1] ?? '')) {
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(dollar + 1))![0];
        return { kind: 'error', message: `"$${name}" is not expanded; write "\${${name}}"` };
      }
      pieces.push({ literal: true, s: '$' });
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar);
    const name = close < 0 ? '' : text.slice(dollar + 2, close);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      return { kind: 'error', message: `malformed variable reference in ${JSON.stringify(text)}; write \${NAME}` };
    }
    const value = cx.values.get(name);
    if (value === undefined) {
      const reason = cx.unset.get(name);
      if (reason !== undefined) return { kind: 'unset', reason };
      const near = closest(name, KNOWN_VARS);
      const hint = near !== undefined ? `did you mean \${${near}}?` : `known: ${KNOWN_VARS.join(', ')}`;
      return { kind: 'error', message: `unknown variable \${${name}}; ${hint}` };
    }
    pieces.push({ literal: false, s: value });
    i = close + 1;
  }
  const glob = mode === 'path' && pieces.some((p) => p.literal && GLOB_CHARS.test(p.s));
  const value = pieces.map((p) => (glob && !p.literal ? p.s.replace(GLOB_SPECIAL, '\\$&') : p.s)).join('');
  return { kind: 'ok', value, glob };
}

/** Collapses repeated slashes and drops a trailing slash (but keeps "/"). */
export function normalise(p: string): string {
  const s = p.replace(/\/{2,}/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

function absolute(p: string | undefined): string | undefined {
  if (p === undefined || !p.startsWith('/') || p.includes('\0')) return undefined;
  const n = normalise(p);
  return n.split('/').some((seg) => seg === '..' || seg === '.') ? undefined : n;
}

/** Whether `dir` is `p` or one of its ancestors. */
function isAncestorOrSelf(dir: string, p: string): boolean {
  return dir === '/' || dir === p || p.startsWith(`${dir}/`);
}

function isWholeTree(cwd: string, home: string | undefined): boolean {
  if (cwd === '/' || NEVER_WHOLE.includes(cwd)) return true;
  return home !== undefined && isAncestorOrSelf(cwd, home);
}

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Absent or unreadable: every user directory takes its default.
    return null;
  }
}
