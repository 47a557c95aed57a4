/**
 * Finding profile files along the search path.
 *
 * Contract (SPEC "Profiles"): the search path is, first hit wins,
 *   $XDG_CONFIG_HOME/tsjail/profiles   (XDG_CONFIG_HOME defaults to ~/.config)
 *   /etc/tsjail/profiles
 *   <tsjail>/profiles                  the profiles shipped with tsjail
 * or, when TSJAIL_PROFILE_PATH is set, the colon-separated list it holds
 * (replacing the whole path; tests and packagers use it).
 *   NAME.json5            a profile
 *   NAME.local.json5      the user's additions to NAME, from every directory
 *                         on the path, merged on top (lowest priority first)
 *   include/NAME.json5    a snippet
 * `-p VALUE` is a path when VALUE contains "/" or ends in ".json5", else a
 * name. These functions read directories and, for the command-list scan,
 * parse profiles; they never validate beyond what lookup needs.
 */
import { packageRoot } from '../sys/package-root.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { ProfileError } from './errors.js';
import { loadFile } from './load.js';
import { NAME_RE } from './schema.js';

export const PROFILE_EXT = '.json5';
export const LOCAL_EXT = '.local.json5';
export const INCLUDE_DIR = 'include';

export function searchPath(env: Readonly<Record<string, string | undefined>>): string[] {
  const override = env['TSJAIL_PROFILE_PATH'];
  if (override !== undefined && override !== '') {
    return override
      .split(':')
      .filter((d) => d !== '')
      .map((d) => resolve(d));
  }
  const dirs: string[] = [];
  const config =
    env['XDG_CONFIG_HOME']?.startsWith('/') === true
      ? env['XDG_CONFIG_HOME']
      : env['HOME']?.startsWith('/') === true
        ? join(env['HOME'], '.config')
        : undefined;
  if (config !== undefined) dirs.push(join(config, 'tsjail', 'profiles'));
  dirs.push('/etc/tsjail/profiles');
  const shipped = shippedProfilesDir();
  if (shipped !== undefined) dirs.push(shipped);
  return dirs;
}

/** The `profiles/` folder of this tsjail installation. */
export function shippedProfilesDir(): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'profiles');
}

/** SPEC: a path when it contains "/" or ends in ".json5", else a profile name. */
export function isProfilePath(value: string): boolean {
  return value.includes('/') || value.endsWith(PROFILE_EXT);
}

/** A profile's name as taken from its file: `firefox.json5` -> `firefox`. */
export function nameFromFile(file: string): string {
  const base = basename(file);
  return base.endsWith(PROFILE_EXT) ? base.slice(0, -PROFILE_EXT.length) : base;
}

export function checkProfileName(name: string): void {
  if (!NAME_RE.test(name) || name.endsWith('.local')) {
    throw new ProfileError({ file: name }, 'not a valid profile name (letters, digits, "_", "-", "+", "."; no "/")');
  }
}

/** The first NAME.json5 on the path, or null. */
export function findProfileFile(name: string, dirs: readonly string[]): string | null {
  return firstFile(dirs.map((d) => join(d, name + PROFILE_EXT)));
}

/** The first include/NAME.json5 on the path, or null. */
export function findSnippetFile(name: string, dirs: readonly string[]): string | null {
  return firstFile(dirs.map((d) => join(d, INCLUDE_DIR, name + PROFILE_EXT)));
}

/** Every NAME.local.json5 on the path, lowest priority (last directory) first. */
export function findLocalFiles(name: string, dirs: readonly string[]): string[] {
  return [...dirs]
    .reverse()
    .map((d) => join(d, name + LOCAL_EXT))
    .filter(isFile);
}

export interface ListedProfile {
  name: string;
  file: string;
  description?: string;
}

/**
 * Every profile on the path, in search order; a name shadowed by an earlier
 * directory is listed once, from the directory that wins. Within a directory
 * names are sorted, so the listing (and command lookup) is deterministic.
 * A profile whose file cannot be parsed is listed without a description.
 */
/** Every profile on the path, shadowed names once, without reading them (also: shell completion). */
export function profileFiles(dirs: readonly string[]): ListedProfile[] {
  const seen = new Set<string>();
  const out: ListedProfile[] = [];
  for (const dir of dirs) {
    for (const entry of profileNamesIn(dir)) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      out.push({ name: entry, file: join(dir, entry + PROFILE_EXT) });
    }
  }
  return out;
}

export function listProfiles(dirs: readonly string[]): ListedProfile[] {
  return profileFiles(dirs).map((item) => {
    const description = peekField(item.file, 'description');
    return typeof description === 'string' ? { ...item, description } : item;
  });
}

export interface ProgramProfile {
  name: string;
  /** The profile's file; null only for "default" when no default.json5 is on the path. */
  file: string | null;
  /** Profiles the command-list scan could not read, with the reason (for -v). */
  unreadable: { file: string; reason: string }[];
}

/**
 * SPEC: the profile named after PROGRAM's basename; else (ours) the first
 * profile, in search order, whose `command` list holds the basename; else
 * "default".
 */
export function findProfileForProgram(program: string, dirs: readonly string[]): ProgramProfile {
  const name = basename(program);
  const unreadable: { file: string; reason: string }[] = [];
  if (NAME_RE.test(name) && !name.endsWith('.local')) {
    const file = findProfileFile(name, dirs);
    if (file !== null) return { name, file, unreadable };
  }
  for (const listed of profileFiles(dirs)) {
    let command: unknown;
    try {
      // Start-up cost: only a file whose text holds the name as a string
      // literal ("NAME" or 'NAME') can list it, so the others are not parsed
      // (a name written with JSON5 escapes is not recognised). The name
      // alone would let every profile with a path or a boolean through for
      // `sh`, `ls` or `true`.
      const text = readFileSync(listed.file, 'utf8');
      if (!text.includes(`"${name}"`) && !text.includes(`'${name}'`)) continue;
      command = readField(listed.file, 'command');
    } catch (err) {
      unreadable.push({ file: listed.file, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    if (Array.isArray(command) && command.includes(name)) return { name: listed.name, file: listed.file, unreadable };
  }
  return { name: 'default', file: findProfileFile('default', dirs), unreadable };
}

function profileNamesIn(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return []; // a search directory that does not exist is simply empty
  }
  return entries
    .filter((f) => f.endsWith(PROFILE_EXT) && !f.endsWith(LOCAL_EXT))
    .map((f) => f.slice(0, -PROFILE_EXT.length))
    .filter((n) => NAME_RE.test(n) && isFile(join(dir, n + PROFILE_EXT)))
    .sort();
}

function readField(file: string, key: string): unknown {
  const { data } = loadFile(file);
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)[key]
    : undefined;
}

function peekField(file: string, key: string): unknown {
  try {
    return readField(file, key);
  } catch {
    return undefined;
  }
}

function firstFile(candidates: string[]): string | null {
  return candidates.find(isFile) ?? null;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
