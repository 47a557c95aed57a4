/**
 * Where PROGRAM is, before the hand-over: the shim finds it inside the
 * sandbox by the plan's search path (shim-c/exec.c), and can only say "not
 * found" there. Here the same search is made on the host against the
 * finished mount view, so that a program the sandbox cannot see is refused
 * with what would show it (exit 127, SPEC "Exit status"), and one that does
 * not exist anywhere is said so. Only a sure answer refuses: whatever this
 * cannot decide (a relative search-path entry) is left to the shim.
 *
 * Also the host-side lookup of argv[0] dispatch (a symlink named after a
 * program pointing at tsjail): the first executable of that name on PATH
 * that is not tsjail itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeAt, type MountPlan } from '../mounts/plan.js';

export type ProgramState =
  /** Visible in the sandbox (or undecidable here): the shim runs it. */
  | { state: 'visible' }
  /** Exists on the host, but the sandbox does not show it. */
  | { state: 'hidden'; host: string; real: string; by?: { role: string; path: string; origin: string } }
  /** Exists nowhere the sandbox's search path looks. */
  | { state: 'absent' };

/** The candidate paths the shim tries, in order (execvp's rules). */
function candidates(program: string, searchPath: string, cwd: string): string[] | undefined {
  if (program.includes('/')) return [path.resolve(cwd, program)];
  const out: string[] = [];
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    if (!dir.startsWith('/')) return undefined;
    out.push(path.join(dir, program));
  }
  return out;
}

function realFile(p: string): string | undefined {
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

export function locateProgram(program: string, searchPath: string, cwd: string, mounts: MountPlan): ProgramState {
  const list = candidates(program, searchPath, cwd);
  if (list === undefined) return { state: 'visible' };
  let hidden: ProgramState | undefined;
  for (const c of list) {
    const real = realFile(c);
    if (real === undefined) continue;
    const node = nodeAt(mounts, real);
    const seen = node !== undefined && (node.role === 'ro' || node.role === 'rw');
    if (seen) return { state: 'visible' };
    hidden ??= {
      state: 'hidden',
      host: c,
      real,
      ...(node !== undefined ? { by: { role: node.role, path: node.path, origin: node.origin } } : {}),
    };
  }
  return hidden ?? { state: 'absent' };
}

/** The option that shows a hidden program: its directory, unless that must never be shown whole. */
export function optionToShow(real: string, home: string): string {
  const dir = path.dirname(real);
  const whole = ['/', '/tmp', '/run', '/var', '/home', '/root', '/srv', '/mnt', '/media', home];
  return `--ro ${whole.includes(dir) ? real : dir}`;
}

/**
 * argv[0] dispatch: the program `name` on `searchPath` that is not tsjail
 * (`self`, the real path of tsjail's own launcher), so that a link
 * `~/bin/firefox -> tsjail` first on PATH runs /usr/bin/firefox, never itself.
 */
export function hostProgram(name: string, searchPath: string, self: string): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (!dir.startsWith('/')) continue;
    const c = path.join(dir, name);
    const real = realFile(c);
    if (real === undefined || real === self) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
    } catch {
      continue;
    }
    return c;
  }
  return undefined;
}
