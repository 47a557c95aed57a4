/**
 * The profile layer's public API: from a profile name or path to one
 * MergedProfile, for the CLI and the launcher.
 *
 * Contract:
 *   loadProfile(nameOrPath, opts)   the merged, expanded profile, or throws
 *                                   the first ProfileError
 *   checkProfiles(list, opts)       every error of each profile
 *   tryLoadProfile(nameOrPath, o)   the merged profile, or every error of it
 *                                   (`profile check`, which goes on to plan it)
 *   findProfileForProgram(prog, o)  which profile `tsjail PROG` uses
 *   listProfiles(opts)              `profile list`
 *   searchPath(env)                 the directories searched, in order
 * Nothing here touches the kernel or the host beyond reading profile files,
 * the search directories and user-dirs.dirs. Every failure is a ProfileError
 * whose message is one line naming FILE[:LINE[:COL]] and the key at fault.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

import { ProfileError } from './errors.js';
import { resolveLayers } from './include.js';
import {
  checkProfileName,
  findLocalFiles,
  findProfileFile,
  findProfileForProgram as findForProgram,
  isProfilePath,
  listProfiles as listOnPath,
  profileFiles,
  nameFromFile,
  searchPath,
  shippedProfilesDir,
  type ListedProfile,
  type ProgramProfile,
} from './locate.js';
import { mergeLayers, type MergedProfile } from './merge.js';
import type { SourceRef } from './errors.js';
import { SOCKET_NAMES } from './types.js';
import type { VarContext } from './vars.js';

export { ProfileError, type SourceRef } from './errors.js';
export { BASE_SNIPPET, MAX_INCLUDE_DEPTH } from './include.js';
export { isProfilePath, searchPath, shippedProfilesDir, type ListedProfile, type ProgramProfile } from './locate.js';
export {
  BUILTIN_SOURCE,
  DEFAULT_HOSTNAME,
  type MergedNetwork,
  type MergedProfile,
  type PathEntry,
  type ProtectEntry,
  type SkippedEntry,
  type Tagged,
} from './merge.js';
export { formatKeyPath } from './positions.js';
export { closest, editDistance } from './schema.js';
export { DEFAULT_PROTECT, type ProtectDefault } from './protect.js';
export {
  DBUS_RULE_KINDS,
  DEVICE_CLASSES,
  FILESYSTEM_KINDS,
  LIMIT_NAMES,
  SOCKET_NAMES,
  SYSCALL_ARG_OPS,
  type DbusRules,
  type DeviceClass,
  type FilesystemKind,
  type LimitValue,
  type ProfileDoc,
  type SocketName,
  type SyscallArgCond,
  type SyscallEntry,
} from './types.js';
export {
  KNOWN_VARS,
  USER_DIR_DEFAULTS,
  buildVarContext,
  expandPath,
  parseUserDirs,
  processVarContext,
  type VarContext,
  type VarContextInit,
} from './vars.js';

export interface LoadOptions {
  vars: VarContext;
  /** Replaces searchPath(vars.env). */
  searchPath?: string[];
  /** `run --include SNIPPET`: snippets merged on top of the profile. */
  includes?: readonly string[];
  /** `run --socket NAME`: sockets added to the profile's. */
  sockets?: readonly string[];
}

/** Where a command-line addition to a profile is said to come from. */
const CLI_SOURCE = (option: string): SourceRef => ({ file: option, line: 0 });

export function loadProfile(nameOrPath: string, opts: LoadOptions): MergedProfile {
  const { profile, errors } = compile(nameOrPath, opts);
  if (errors.length > 0 || profile === undefined) throw errors[0]!;
  return profile;
}

export function checkProfiles(namesOrPaths: readonly string[], opts: LoadOptions): ProfileError[] {
  return namesOrPaths.flatMap((p) => compile(p, opts).errors);
}

export function tryLoadProfile(
  nameOrPath: string,
  opts: LoadOptions,
): { profile?: MergedProfile; errors: ProfileError[] } {
  return compile(nameOrPath, opts);
}

export function findProfileForProgram(program: string, opts: LoadOptions): ProgramProfile {
  return findForProgram(program, dirsOf(opts));
}

export function listProfiles(opts: LoadOptions): ListedProfile[] {
  return listOnPath(dirsOf(opts));
}

/** The names of the profiles on the path, in search order, without parsing them. */
export function profileNames(opts: LoadOptions): string[] {
  return profileFiles(dirsOf(opts)).map((p) => p.name);
}

function dirsOf(opts: LoadOptions): string[] {
  return opts.searchPath ?? searchPath(opts.vars.env);
}

interface Compiled {
  profile?: MergedProfile;
  errors: ProfileError[];
}

/**
 * A path (SPEC: contains "/" or ends in ".json5") is loaded as given, relative
 * to the caller's CWD, without NAME.local.json5 files: naming a file means that
 * file. A name is looked up on the search path, locals merged on top.
 */
function compile(nameOrPath: string, opts: LoadOptions): Compiled {
  const dirs = dirsOf(opts);
  let name: string;
  let file: string;
  let locals: string[] = [];
  try {
    if (isProfilePath(nameOrPath)) {
      const cwd = opts.vars.values.get('CWD');
      file = isAbsolute(nameOrPath) || cwd === undefined ? resolve(nameOrPath) : resolve(cwd, nameOrPath);
      name = nameFromFile(file);
    } else {
      name = nameOrPath;
      checkProfileName(name);
      const found = findProfileFile(name, dirs);
      if (found === null) {
        throw new ProfileError({ file: name }, `no profile "${name}" on the search path (${dirs.join(', ')})`);
      }
      file = found;
      locals = findLocalFiles(name, dirs);
    }
  } catch (err) {
    if (err instanceof ProfileError) return { errors: [err] };
    throw err;
  }
  const uid = Number(opts.vars.values.get('UID'));
  const shipped = shippedProfilesDir();
  const resolved = resolveLayers({
    name,
    file,
    locals,
    searchPath: dirs,
    uid: Number.isInteger(uid) ? uid : undefined,
    shipped: shipped === undefined ? undefined : realOrSelf(shipped),
    includes: opts.includes,
  });
  const merged = mergeLayers(name, resolved.layers, opts.vars);
  const errors = [...resolved.errors, ...merged.errors];
  for (const s of opts.sockets ?? []) {
    if (!(SOCKET_NAMES as readonly string[]).includes(s)) {
      errors.push(
        new ProfileError(
          { file: '--socket' },
          `unknown socket ${JSON.stringify(s)} (one of: ${SOCKET_NAMES.join(', ')})`,
        ),
      );
    } else if (!merged.profile.sockets.some((t) => t.value === s)) {
      merged.profile.sockets.push({ value: s, source: CLI_SOURCE('--socket'), layer: resolved.layers.length });
    }
  }
  return errors.length > 0 ? { errors } : { profile: merged.profile, errors };
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
