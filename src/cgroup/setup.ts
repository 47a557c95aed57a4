/**
 * `tsjail setup-limits USER [--parent self|root] [--remove]` (root only):
 * where systemd does not delegate cgroups (cgroup v1 controllers, on a
 * hybrid or legacy machine), create `tsjail-USER` in each hierarchy with the
 * memory, pids or cpu controller, owned by USER as an administrator
 * delegates a subtree (the directory and the files that move processes), and
 * record it in /etc/tsjail/limits.json5. tsjail then creates each sandbox's
 * cgroups below it as USER.
 *
 * --parent self: below the cgroup this process runs in, never anywhere
 * else; a hierarchy in which this process is in the top cgroup (which holds
 * the whole machine, so it is not this process's own) is skipped and said.
 * --parent root: below each hierarchy's top cgroup, the administrator's
 * deliberate choice. No process is moved, and no file of an existing cgroup
 * is written. --remove undoes exactly what was recorded for USER and that
 * parent (after removing the empty cgroups of dead sandboxes).
 */
import * as fs from 'node:fs';
import { TsjailError } from '../errors.js';
import { LIMITS_FILE, readLimitsConfig, writeLimitsConfig, type Subtree } from './config.js';
import { CONTROLLERS, hierarchies, hierarchyOf, type Controller, type Hierarchy } from './layout.js';
import { sweepDead } from './place.js';

/** The files of a v1 cgroup that its delegatee writes to move processes and watch memory. */
const DELEGATED_FILES = ['cgroup.procs', 'tasks', 'cgroup.event_control'];

export interface SetupUser {
  name: string;
  uid: number;
  gid: number;
}

/** Per controller, the subtree directory setup-limits would use, or why none. */
export function subtreeDirs(
  hs: Hierarchy[],
  user: string,
  parent: 'self' | 'root',
): { dirs: Partial<Record<Controller, string>>; skipped: string[] } {
  const dirs: Partial<Record<Controller, string>> = {};
  const skipped: string[] = [];
  for (const c of CONTROLLERS) {
    const h = hierarchyOf(hs, c);
    if (!h) {
      skipped.push(`${c}: no cgroup hierarchy has this controller`);
      continue;
    }
    if (h.version === 2) {
      skipped.push(
        `${c}: cgroup v2: delegation there is systemd's (user@UID.service has Delegate=yes); tsjail asks it for a scope at each launch, nothing to set up`,
      );
      continue;
    }
    if (!h.mount || !h.dir) {
      skipped.push(`${c}: its hierarchy is not mounted here`);
      continue;
    }
    if (parent === 'self' && h.root) {
      skipped.push(
        `${c}: this process runs in the top cgroup of ${h.mount}, which holds the whole machine and is not its own: nothing created (--parent root would create it there)`,
      );
      continue;
    }
    dirs[c] = `${parent === 'self' ? h.dir : h.mount}/tsjail-${user}`;
  }
  return { dirs, skipped };
}

function sameDirs(a: Subtree, dirs: Partial<Record<Controller, string>>): boolean {
  return JSON.stringify(Object.entries(a.dirs).sort()) === JSON.stringify(Object.entries(dirs).sort());
}

export function setupLimits(
  user: SetupUser,
  parent: 'self' | 'root',
  opts: { remove: boolean; file?: string; hierarchies?: Hierarchy[] },
): { lines: string[]; ok: boolean } {
  const file = opts.file ?? LIMITS_FILE;
  const hs = opts.hierarchies ?? hierarchies();
  const { dirs, skipped } = subtreeDirs(hs, user.name, parent);
  const config = readLimitsConfig(file);
  const lines = skipped.map((s) => `skipped ${s}`);
  const unique = [...new Set(Object.values(dirs))];

  if (opts.remove) {
    const entry = config.subtrees.find((s) => s.uid === user.uid && s.parent === parent && sameDirs(s, dirs));
    if (!entry)
      return { lines: [...lines, `nothing recorded for ${user.name} with --parent ${parent} in ${file}`], ok: true };
    sweepDead(entry);
    let ok = true;
    for (const d of [...new Set(Object.values(entry.dirs))]) {
      try {
        fs.rmdirSync(d);
        lines.push(`removed ${d}`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        ok = false;
        lines.push(`cannot remove ${d}: ${code === 'EBUSY' ? 'sandboxes of the user still run in it' : String(e)}`);
      }
    }
    if (ok) {
      config.subtrees = config.subtrees.filter((s) => s !== entry);
      writeLimitsConfig(config, file);
      lines.push(`${file}: the entry for ${user.name} is removed`);
    }
    return { lines, ok };
  }

  if (unique.length === 0) return { lines: [...lines, 'nothing to set up here'], ok: false };
  for (const d of unique) {
    const existed = fs.existsSync(d);
    if (!existed) fs.mkdirSync(d, { mode: 0o755 });
    fs.chownSync(d, user.uid, user.gid);
    for (const f of DELEGATED_FILES) {
      if (fs.existsSync(`${d}/${f}`)) fs.chownSync(`${d}/${f}`, user.uid, user.gid);
    }
    lines.push(`${existed ? 'kept' : 'created'} ${d}, delegated to ${user.name}`);
  }
  const entry: Subtree = { user: user.name, uid: user.uid, parent, dirs };
  config.subtrees = [...config.subtrees.filter((s) => !(s.uid === user.uid && sameDirs(s, dirs))), entry];
  writeLimitsConfig(config, file);
  lines.push(`${file}: recorded for ${user.name} (${Object.keys(dirs).join(', ')})`);
  return { lines, ok: true };
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new TsjailError('setup-limits: only root can delegate cgroups (run it with sudo)');
}
