/**
 * Where this process sits in the machine's cgroup hierarchies: for each
 * hierarchy of /proc/self/cgroup, its controllers, the process's cgroup, the
 * directory that shows it (through /proc/self/mountinfo) and whether that
 * directory is the hierarchy's true root. Pure parsing over text and a small
 * file-system view, so the unit tests run it on made-up layouts.
 *
 * The true root: cgroup v1 shows `release_agent` only in a hierarchy's top
 * cgroup, v2 shows `cgroup.type` in every cgroup but the top one. A process
 * whose cgroup is "/" in a cgroup namespace of its own is in a cgroup of its
 * own (not the root); one whose cgroup is the real root shares it with the
 * whole machine, and tsjail treats it as nobody's to create children in
 * (setup-limits --parent self refuses it).
 */
import * as fs from 'node:fs';
import { mountLines } from '../cache/record.js';

export const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
export type Controller = (typeof CONTROLLERS)[number];

export interface Hierarchy {
  version: 1 | 2;
  /** v1: the hierarchy's controllers (from /proc/self/cgroup); v2: those its top cgroup offers. */
  controllers: string[];
  /** This process's cgroup, as /proc/self/cgroup says it. */
  path: string;
  /** Where the hierarchy is mounted; absent when it is not mounted here. */
  mount?: string;
  /** The directory of this process's cgroup. */
  dir?: string;
  /** `dir` is the hierarchy's top cgroup. */
  root: boolean;
}

/** What the parser may look at: file contents and existence. */
export interface FsView {
  read(file: string): string | undefined;
  exists(file: string): boolean;
  /**
   * The lines of /proc/self/mountinfo of these file system types, all the
   * parser reads of it; a view without it gives the whole table (read).
   */
  mountinfo?(fstypes: readonly string[]): string | undefined;
}

const MOUNTINFO = '/proc/self/mountinfo';
const CGROUP_FS = ['cgroup', 'cgroup2'] as const;

export const realFs: FsView = {
  read(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  exists: (file) => fs.existsSync(file),
  // A launch's plan then depends on the cgroup mounts alone, not on every mount on the machine.
  mountinfo: (fstypes) => mountLines(MOUNTINFO, fstypes),
};

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

interface CgroupMount {
  fstype: 'cgroup' | 'cgroup2';
  root: string;
  mountpoint: string;
  options: string[];
}

function cgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0] as CgroupMount['fstype'];
    if (!CGROUP_FS.includes(fstype) || left.length < 5) continue;
    out.push({
      fstype,
      root: unescape(left[3]!),
      mountpoint: unescape(left[4]!),
      options: (right[2] ?? '').split(','),
    });
  }
  return out;
}

/** `path` seen through a mount of `root` at `mountpoint`, or undefined when the mount does not show it. */
function through(m: CgroupMount, path: string): string | undefined {
  if (m.root === '/') return path === '/' ? m.mountpoint : m.mountpoint + path;
  if (path === m.root) return m.mountpoint;
  if (path.startsWith(m.root + '/')) return m.mountpoint + path.slice(m.root.length);
  return undefined;
}

export function parseHierarchies(procCgroup: string, mountinfo: string, view: FsView): Hierarchy[] {
  const mounts = cgroupMounts(mountinfo);
  const out: Hierarchy[] = [];
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, names, path] = m as unknown as [string, string, string, string];
    if (id === '0' && names === '') {
      const mount = mounts.find((x) => x.fstype === 'cgroup2' && through(x, path) !== undefined);
      const dir = mount && through(mount, path);
      const top = mount && view.read(`${mount.mountpoint}/cgroup.controllers`);
      out.push({
        version: 2,
        controllers: (top ?? '').trim().split(/\s+/).filter(Boolean),
        path,
        mount: mount?.mountpoint,
        dir,
        root: dir === undefined ? path === '/' : !view.exists(`${dir}/cgroup.type`),
      });
      continue;
    }
    const controllers = names.split(',').filter((n) => n !== '' && !n.startsWith('name='));
    if (controllers.length === 0) continue;
    const mount = mounts.find(
      (x) => x.fstype === 'cgroup' && controllers.every((c) => x.options.includes(c)) && through(x, path) !== undefined,
    );
    const dir = mount && through(mount, path);
    out.push({
      version: 1,
      controllers,
      path,
      mount: mount?.mountpoint,
      dir,
      root: dir === undefined ? path === '/' : view.exists(`${dir}/release_agent`),
    });
  }
  return out;
}

/** This process's hierarchies. */
export function hierarchies(view: FsView = realFs): Hierarchy[] {
  const mounts = view.mountinfo ? view.mountinfo(CGROUP_FS) : view.read(MOUNTINFO);
  return parseHierarchies(view.read('/proc/self/cgroup') ?? '', mounts ?? '', view);
}

/** The hierarchy that holds controller `c`: a v1 one naming it, else v2 when it offers it. */
export function hierarchyOf(hs: Hierarchy[], c: Controller): Hierarchy | undefined {
  return (
    hs.find((h) => h.version === 1 && h.controllers.includes(c)) ??
    hs.find((h) => h.version === 2 && h.controllers.includes(c))
  );
}

/** "unified (cgroup v2 only)", "hybrid (...)" or "legacy (cgroup v1)": how the machine mounts its cgroups. */
export function layoutName(hs: Hierarchy[]): string {
  const v1 = hs.filter((h) => h.version === 1 && h.mount);
  const v2 = hs.find((h) => h.version === 2 && h.mount);
  if (v1.length === 0 && v2) return `unified: cgroup v2 only, at ${v2.mount}`;
  if (v1.length > 0 && v2)
    return `hybrid: cgroup v1 controllers (${v1.map((h) => h.controllers.join(',')).join(' ')}), cgroup v2 at ${v2.mount} with ${v2.controllers.join(' ') || 'no controllers'}`;
  if (v1.length > 0) return 'legacy: cgroup v1 only';
  return 'no cgroup file system mounted';
}
