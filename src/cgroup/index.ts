/**
 * limits.memory, pids and cpu at launch: decide where the sandbox's cgroups
 * go (place.ts), refuse when they cannot be had and the profile requires
 * them, and produce the plan's CGROUP/CGWRITE records. v1's records are the
 * same at every launch (the monitor names its cgroups) and a cached plan
 * holds them; a systemd scope is asked for at each launch (`perLaunch`).
 * --dry-run shows them without asking systemd for anything.
 */
import * as os from 'node:os';
import { TsjailError } from '../errors.js';
import type { CgroupOp } from '../plan/plan.js';
import { hierarchies, realFs, type Controller, type FsView } from './layout.js';
import { chooseLimits, only, placeV1, placeV2, sweepDead, wantedControllers, type Host, type Wanted } from './place.js';
import { scopeUnit, startScope } from './systemd.js';

export type { Wanted } from './place.js';
export { cgroupUsage, type SandboxUsage, type Use } from './place.js';

export interface LimitsPlacement {
  /** How they are enforced, for -v. */
  notes: string[];
  /** Once on stderr: the limits not enforced here (limits.required: false). */
  warnings: string[];
  /**
   * The plan's records, made at the hand-over after the helpers beside the
   * sandbox have started (so that they stay outside a systemd scope, which
   * may hold no process but the monitor): the scope is asked for here.
   * With dryRun, the records v1 would have (nothing is asked of systemd).
   */
  ops(): CgroupOp[];
  /** The records are this launch's alone (a systemd scope): a plan holding them is not cached. */
  perLaunch: boolean;
  /**
   * limits.pids as the sandbox's RLIMIT_NPROC (its user namespace's process
   * limit, place.ts's nprocPerUserns), where no pids cgroup can be had.
   */
  nproc?: number;
  /**
   * Remove the cgroups of the caller's dead sandboxes (after the planning,
   * which must not write): what was removed, for -v.
   */
  sweep(): string[];
}

const KEY: Record<Controller, string> = { memory: 'limits.memory', pids: 'limits.pids', cpu: 'limits.cpu' };

export function placeLimits(
  w: Wanted,
  opts: { required: boolean; dryRun: boolean; host: Host; description: string; release?: string },
): LimitsPlacement {
  const out: LimitsPlacement = { notes: [], warnings: [], ops: () => [], perLaunch: false, sweep: () => [] };
  if (wantedControllers(w).length === 0) return out;
  const view: FsView = opts.host.view ?? realFs;
  const hs = opts.host.hierarchies ?? hierarchies(view);
  const { choice, missing, nproc } = chooseLimits(w, { ...opts.host, hierarchies: hs }, opts.release ?? os.release());
  if (nproc) {
    out.nproc = w.pids;
    out.notes.push(
      `limits.pids ${w.pids}: no pids cgroup here; the user namespace's process limit instead (RLIMIT_NPROC, counted per user namespace since Linux 5.14): the program's processes and threads`,
    );
  }
  if (missing.length > 0) {
    const what = missing.map((m) => `${KEY[m.controller]} (${m.reason})`).join('; ');
    if (opts.required)
      throw new TsjailError(
        `cannot enforce ${what}; set limits.required: false in the profile to run without ${missing.length > 1 ? 'them' : 'it'}`,
      );
    out.warnings.push(`not enforced here: ${what}`);
  }
  const enforced = only(w, choice.enforced);
  if (choice.kind === 'v1') {
    const subtree = choice.subtree;
    if (!opts.dryRun) out.sweep = () => sweepDead(subtree, view);
    const ops = placeV1(enforced, subtree, view);
    out.ops = () => ops;
    out.notes.push(
      `limits ${choice.enforced.join(', ')}: cgroup v1, below the subtree delegated by tsjail setup-limits`,
    );
  } else if (choice.kind === 'systemd') {
    out.perLaunch = true;
    const unit = scopeUnit(process.pid, Math.random().toString(36).slice(2, 10));
    out.notes.push(`limits ${choice.enforced.join(', ')}: cgroup v2, in the systemd scope ${unit} (Delegate=yes)`);
    out.ops = () => {
      if (opts.dryRun) return [];
      const v2 = hs.find((h) => h.version === 2)!;
      return placeV2(enforced, startScope(unit, opts.description, v2.mount!, opts.host.env), view);
    };
  }
  return out;
}
