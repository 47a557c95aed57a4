/**
 * Who the program is inside: the caller's own uid and gid (the default), or
 * 0 (`uid: 0`, `--uid 0`), and the capabilities it keeps inside its user
 * namespace (`capabilities`).
 *
 * As 0, one id is mapped (0 inside is the caller outside) unless the caller
 * has ranges in /etc/subuid and /etc/subgid and Debian's uidmap is
 * installed: then the shim's monitor has newuidmap and newgidmap map 1..N
 * inside to that range too, as rootless Podman does, so that a package
 * manager can chown files to its system users. Files created as 0 in a
 * writable host path belong to the caller outside either way.
 *
 * Side effects: reads /etc/subuid, /etc/subgid and stats the helpers.
 */
import * as fs from 'node:fs';
import { callerSubids, inRange, type Subids } from '../sys/subid.js';
import type { RootTree } from '../mounts/tree.js';
import type { CapabilityName } from '../profile/types.js';
import type { LaunchPlan } from '../plan/plan.js';

/** capabilities(7) numbers of the names a profile may keep. */
export const CAPABILITY_NUMBERS: Record<CapabilityName, number> = {
  chown: 0,
  dac_override: 1,
  dac_read_search: 2,
  fowner: 3,
  fsetid: 4,
  kill: 5,
  setgid: 6,
  setuid: 7,
  net_bind_service: 10,
  sys_chroot: 18,
};

/** Where Debian (and most distributions) install shadow's setuid helpers. */
const HELPER_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/** A helper that can do its job: a regular executable file, setuid root or with file capabilities (not checkable here). */
function findHelper(name: string): string | undefined {
  for (const dir of HELPER_DIRS) {
    try {
      const st = fs.statSync(`${dir}/${name}`);
      if (st.isFile() && (st.mode & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface IdsPlan {
  uid: number;
  gid: number;
  idmap?: LaunchPlan['idmap'];
  /** Why only one id is mapped, when uid 0 was asked for. */
  single?: string;
  /** Root inside is the first subordinate id (a tree built by mmdebstrap --mode=unshare), not the caller. */
  subordinateRoot?: boolean;
}

/**
 * The plan's inside ids and, as 0 where the caller has subordinate ids, the
 * full maps: 0 is the caller and 1..N the subordinate range, or, for a
 * system tree that belongs to the caller's subordinate ids (as
 * `mmdebstrap --mode=unshare` makes it: its root is the range's first id),
 * the range exactly as the tree was built with, so that the tree's root is
 * root inside (files made in host paths then belong to that id, not the
 * caller).
 */
export function planIds(
  rootInside: boolean,
  caller: { uid: number; gid: number },
  tree?: RootTree,
  sub: Subids = callerSubids(caller.uid),
): IdsPlan {
  if (!rootInside) return { uid: caller.uid, gid: caller.gid };
  const u = sub.uid;
  const g = sub.gid;
  if (!u || !g)
    return {
      uid: 0,
      gid: 0,
      single: `no range for ${sub.name || caller.uid} in ${!u ? sub.files.subuid : sub.files.subgid}`,
    };
  const newuidmap = findHelper('newuidmap');
  const newgidmap = findHelper('newgidmap');
  if (!newuidmap || !newgidmap) return { uid: 0, gid: 0, single: 'newuidmap/newgidmap not installed (Debian: uidmap)' };
  if (tree && tree.owner.uid === u.start && inRange(tree.owner.gid, g) && tree.owner.gid === g.start)
    return {
      uid: 0,
      gid: 0,
      idmap: { newuidmap, newgidmap, uid: [0, u.start, u.count], gid: [0, g.start, g.count] },
      subordinateRoot: true,
    };
  return {
    uid: 0,
    gid: 0,
    idmap: {
      newuidmap,
      newgidmap,
      uid: [0, caller.uid, 1, 1, u.start, u.count],
      gid: [0, caller.gid, 1, 1, g.start, g.count],
    },
  };
}
