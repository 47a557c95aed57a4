/**
 * Phase 0 of the mount planner: the application's state directories
 * (Firejail's `mkdir`). A writable profile path under the caller's home or
 * an XDG base directory that does not exist yet is created, with its
 * missing parents, owned by the caller (tsjail runs as the caller) with mode
 * 0700, so that what the program keeps there survives the sandbox instead
 * of being skipped and written into the throw-away home. One that cannot be
 * created is a warning, said always. Planning without launching
 * (`--dry-run`, `profile check`) creates nothing and says what run would.
 *
 * Only real directories are walked through: a parent that exists as
 * anything else (a file, a dangling link) stops the creation, and the
 * planner's own screening then applies to what exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FsRequest, Report } from './plan.js';

export function createStateDirs(requests: readonly FsRequest[], create: boolean, report: Report): void {
  const done = new Set<string>();
  for (const req of requests) {
    if (!req.create || req.glob || done.has(req.path)) continue;
    done.add(req.path);
    if (exists(req.path)) continue;
    if (!create) {
      report.notes.push(`${req.path} (${req.origin}) does not exist: a launch creates it (mode 0700)`);
      continue;
    }
    const why = mkdirs(req.path);
    if (why === undefined) report.notes.push(`created ${req.path} (${req.origin}), mode 0700`);
    else
      report.warnings.push(
        `${req.origin}: writable ${req.path} does not exist and cannot be created (${why}), so what the program writes there is not kept`,
      );
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** mkdir -p with mode 0700 for each directory made; undefined on success, else why not. */
function mkdirs(p: string): string | undefined {
  const missing: string[] = [];
  let q = p;
  while (!exists(q)) {
    missing.unshift(q);
    q = path.dirname(q);
  }
  try {
    if (!fs.statSync(q).isDirectory()) return `${q} is not a directory`;
  } catch (e) {
    return `${q}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
      fs.chmodSync(d, 0o700);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      return `${d}: ${code ?? String(e)}`;
    }
  }
  return undefined;
}
