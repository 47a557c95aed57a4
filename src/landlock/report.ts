/**
 * What a refusal of the sandbox's filesystem rules means to the user
 * (--report-fd, -v): for the Landlock ruleset of src/landlock/ruleset.ts and
 * the mount view it is derived from, the profile key that allows each kind
 * of refused access, by where it happens, carried in the plan
 * (REPORT_LANDLOCK) for the shim's reporter, which finds the refusals. Pure.
 */
import type { LandlockPlan, ReportedLandlock } from '../plan/plan.js';
import type { MountPlan } from '../mounts/plan.js';
import { PROTECT_LAYER } from '../mounts/protect.js';
import { FS } from './abi.js';

/** The rights that write: a file's content, or the entries of a directory. */
const WRITE_RIGHTS =
  FS.WRITE_FILE |
  FS.TRUNCATE |
  FS.REMOVE_DIR |
  FS.REMOVE_FILE |
  FS.MAKE_CHAR |
  FS.MAKE_DIR |
  FS.MAKE_REG |
  FS.MAKE_SOCK |
  FS.MAKE_FIFO |
  FS.MAKE_BLOCK |
  FS.MAKE_SYM;

/**
 * What a refusal of the Landlock rules (derived from the mount view,
 * src/landlock/ruleset.ts) means, by where it happens: the profile key that
 * would allow it (REPORT_LANDLOCK; the shim's reporter finds the refusal
 * from the plan's rules, as the kernel tells Landlock's denials only to
 * audit, which only root reads). The deepest record for a missing right
 * is the one said.
 */
export function landlockReports(view: MountPlan, ll: LandlockPlan | undefined): ReportedLandlock[] {
  if (ll === undefined) return [];
  const out: ReportedLandlock[] = [];
  const rec = (p: string, access: bigint, key: string | null, hint: string): void => {
    const a = access & ll.fs;
    if (a === 0n) return;
    // The reporter puts kind first: "landlock", or "mount" where the mount's flags refuse first.
    out.push({ path: p, access: a, json: JSON.stringify({ key, hint }).slice(0, -1), hint });
  };
  rec('/', WRITE_RIGHTS, 'filesystem.rw', 'shown read-only: filesystem.rw makes it writable');
  rec('/', FS.EXECUTE, 'filesystem.ro', 'not executable here: filesystem.ro shows a path read-only and executable');
  for (const n of view.nodes) {
    if (!n.mounted) continue;
    if (n.role === 'rw' && !n.exec && n.stat?.kind === 'dir')
      rec(n.path, FS.EXECUTE, 'filesystem.exec', `writable (${n.origin}): filesystem.exec allows executing from it`);
    else if (n.role === 'tmpfs' && !n.exec)
      rec(n.path, FS.EXECUTE, null, `a private tmpfs (${n.origin}), never executable`);
    else if (n.role === 'ro' && n.layer === PROTECT_LAYER)
      rec(
        n.path,
        WRITE_RIGHTS,
        'filesystem.unprotect',
        `kept read-only inside a writable directory (${n.origin}): filesystem.unprotect lets it be written`,
      );
    else if (n.role === 'devfs')
      rec(
        n.path,
        WRITE_RIGHTS & ~FS.WRITE_FILE,
        'devices',
        'the minimal /dev: entries are never made or removed there; devices adds device nodes',
      );
  }
  return out;
}
