/**
 * /etc/tsjail/limits.json5: the cgroup subtrees an administrator delegated
 * to users with `tsjail setup-limits` (SPEC v2), one entry per user and
 * parent. tsjail reads it at every launch that sets limits.memory, pids or
 * cpu; only root writes it. An entry is used only while its directories
 * exist and belong to the user (a stale entry is skipped, with the reason).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import { TsjailError } from '../errors.js';
import { CONTROLLERS, type Controller } from './layout.js';

export const LIMITS_FILE = '/etc/tsjail/limits.json5';

export interface Subtree {
  user: string;
  uid: number;
  /** What --parent said: "self" (the cgroup setup-limits ran in) or "root". */
  parent: 'self' | 'root';
  /** cgroup v1 directories by controller (this is where the sandboxes' cgroups go). */
  dirs: Partial<Record<Controller, string>>;
}

export interface LimitsConfig {
  subtrees: Subtree[];
}

function isSubtree(v: unknown): v is Subtree {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (typeof s.user !== 'string' || typeof s.uid !== 'number' || (s.parent !== 'self' && s.parent !== 'root'))
    return false;
  if (typeof s.dirs !== 'object' || s.dirs === null) return false;
  return Object.entries(s.dirs).every(
    ([k, d]) => (CONTROLLERS as readonly string[]).includes(k) && typeof d === 'string' && path.isAbsolute(d),
  );
}

/** The file's entries; none when it is absent. A file that is not tsjail's format is an error naming it. */
export function readLimitsConfig(file = LIMITS_FILE): LimitsConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { subtrees: [] };
    throw new TsjailError(`${file}: cannot be read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON5.parse(text);
  } catch (e) {
    throw new TsjailError(`${file}: ${(e as Error).message}`);
  }
  const subtrees = (doc as { subtrees?: unknown } | null)?.subtrees;
  if (!Array.isArray(subtrees) || !subtrees.every(isSubtree))
    throw new TsjailError(`${file}: not written by tsjail setup-limits (expected { subtrees: [...] })`);
  return { subtrees };
}

export function writeLimitsConfig(config: LimitsConfig, file = LIMITS_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const text =
    '// Written by `tsjail setup-limits`: the cgroup subtrees delegated to users,\n' +
    '// where tsjail puts each sandbox that sets limits.memory, pids or cpu.\n' +
    JSON.stringify(config, null, 2) +
    '\n';
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}
