/**
 * What a desktop integration (a `sockets` entry, the `dbus` rules) adds to a
 * sandbox: paths for the generic mount planner, extra mount records it
 * cannot derive from host paths (a filtered Xauthority, a cookie), and the
 * variables the application needs to find the service. Integrations read
 * the caller's environment and files; they never write anything of the user's.
 */
import * as fs from 'node:fs';
import type { FsRequest } from '../mounts/plan.js';
import type { MountOp, NestedXPlan, PulsePlan } from '../plan/plan.js';

export type { NestedXPlan };

export interface DesktopContext {
  /** The caller's environment. */
  env: NodeJS.ProcessEnv;
  uid: number;
  home: string;
  /** The host's XDG_RUNTIME_DIR, when it has one. */
  hostRuntime?: string;
  /** The sandbox's XDG_RUNTIME_DIR: a private tmpfs at the same path. */
  runtime: string;
  /** Where the `sockets` entry was declared ("FILE:LINE"), for messages. */
  origin: string;
}

export interface DesktopPart {
  fs: FsRequest[];
  ops: MountOp[];
  env: Record<string, string>;
  /** Said under -v: what was found, skipped and why. */
  notes: string[];
  /** Said always, once, on stderr. */
  warnings: string[];
  /** A nested X server to start at the hand-over (x11-isolated). */
  nestedX?: NestedXPlan;
  /** The sound server through the filter started at the hand-over. */
  pulse?: PulsePlan;
}

export function emptyPart(): DesktopPart {
  return { fs: [], ops: [], env: {}, notes: [], warnings: [] };
}

/** Desktop requests sit just above the profile's own layers and below the command line. */
export const DESKTOP_LAYER = 999_999;

export function bindRequest(p: string, origin: string): FsRequest {
  return { path: p, access: 'ro', layer: DESKTOP_LAYER, origin, required: false };
}

export interface HostSocket {
  /** The socket's real path (no symlink in any component). */
  real: string;
  dev: bigint;
  ino: bigint;
}

/** The unix socket at `p` on the host, or undefined when there is none. */
export function hostSocket(p: string): HostSocket | undefined {
  try {
    const real = fs.realpathSync(p);
    const st = fs.lstatSync(real, { bigint: true });
    if (!st.isSocket()) return undefined;
    return { real, dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/**
 * Show host socket `s` at `inside`: through the planner when the paths are
 * the same (it recreates the symlinks on the way), else as a bind record.
 */
export function showSocket(part: DesktopPart, s: HostSocket, declared: string, inside: string, origin: string): void {
  if (inside === declared) {
    part.fs.push(bindRequest(declared, origin));
    return;
  }
  part.ops.push({
    op: 'bind',
    src: s.real,
    dest: inside,
    dev: s.dev,
    ino: s.ino,
    kind: 'file',
    flags: ['ro', 'nosuid', 'nodev', 'noexec'],
    why: origin,
  });
}
