/**
 * Desktop integrations: a profile's `sockets` entries (and, with dbus.ts,
 * its `dbus` rules) -> filesystem requests for the mount planner, extra
 * mount records and the variables the application needs. Each integration
 * lives in its own file; this one gives them a private XDG_RUNTIME_DIR
 * (a tmpfs at the host's path, holding only what they put there).
 */
import * as path from 'node:path';
import type { MergedProfile } from '../profile/index.js';
import type { MountOp } from '../plan/plan.js';
import type { FsRequest } from '../mounts/plan.js';
import { TsjailError } from '../errors.js';
import { DESKTOP_LAYER, type DesktopContext, type DesktopPart } from './types.js';
import { x11, x11Isolated } from './x11.js';
import { wayland } from './wayland.js';
import { pulseaudio } from './pulseaudio.js';
import { PIPEWIRE_ROUTED, pipewire } from './pipewire.js';
import { planDbus } from './dbus.js';
import type { DbusBusPlan, NestedXPlan, PulsePlan } from '../plan/plan.js';

export interface DesktopPlan {
  fs: FsRequest[];
  ops: MountOp[];
  env: Record<string, string>;
  notes: string[];
  /** Said always, once, on stderr. */
  warnings: string[];
  /** The nested X server of x11-isolated, started at the hand-over (xephyr.ts). */
  nestedX?: NestedXPlan;
  /** The sandbox's XDG_RUNTIME_DIR, when the profile uses any desktop service. */
  runtime?: string;
  /** Buses for xdg-dbus-proxy, started at the hand-over (src/desktop/proxy.ts). */
  dbus: DbusBusPlan[];
  /** The host's XDG_RUNTIME_DIR, where the proxy's private directory goes. */
  hostRuntime?: string;
  /** The PulseAudio filter, started at the hand-over (src/desktop/pulse-filter.ts). */
  pulse?: PulsePlan;
}

const INTEGRATIONS: Record<string, (ctx: DesktopContext) => DesktopPart> = {
  x11,
  'x11-isolated': x11Isolated,
  wayland,
  pulseaudio,
  pipewire,
};

/**
 * Wayland first: when its socket is there, no X11 is granted beside it (the
 * host display's X11 lets a client read and drive every other client; a
 * nested server would be an empty window). Then x11-isolated, which wins
 * over x11 when both are asked for.
 */
const FIRST = ['wayland', 'x11-isolated'];
function ordered<T extends { value: string }>(sockets: T[]): T[] {
  return [
    ...FIRST.flatMap((f) => sockets.filter((s) => s.value === f)),
    ...sockets.filter((s) => !FIRST.includes(s.value)),
  ];
}

export function runtimeDirs(env: NodeJS.ProcessEnv, uid: number): { host?: string; sandbox: string } {
  const r = env.XDG_RUNTIME_DIR;
  const host = r && path.isAbsolute(r) ? path.posix.normalize(r) : undefined;
  return { host, sandbox: host ?? `/run/user/${uid}` };
}

export function planDesktop(
  profile: MergedProfile,
  caller: { env: NodeJS.ProcessEnv; uid: number; home: string },
): DesktopPlan {
  const out: DesktopPlan = { fs: [], ops: [], env: {}, notes: [], warnings: [], dbus: [] };
  const sockets = profile.sockets;
  const wantsDbus = profile.dbus.session !== undefined || profile.dbus.system !== undefined;
  if (sockets.length === 0 && !wantsDbus) return out;
  const dirs = runtimeDirs(caller.env, caller.uid);
  out.runtime = dirs.sandbox;
  out.hostRuntime = dirs.host;
  out.fs.push({
    path: dirs.sandbox,
    access: 'tmpfs',
    layer: DESKTOP_LAYER,
    origin: 'desktop runtime directory',
    required: false,
  });
  out.env.XDG_RUNTIME_DIR = dirs.sandbox;
  const seen = new Set<string>();
  for (const s of ordered(sockets)) {
    // pipewire is sound through pipewire-pulse and the filter (pipewire.ts): one filter for both names.
    const key = s.value === 'pipewire' ? 'pulseaudio' : s.value;
    if (seen.has(key)) {
      if (s.value === 'pipewire') out.notes.push(`pipewire (${s.source.file}:${s.source.line}): ${PIPEWIRE_ROUTED}`);
      continue;
    }
    seen.add(key);
    const integrate = INTEGRATIONS[s.value];
    if (!integrate)
      throw new TsjailError(`${s.source.file}:${s.source.line}: sockets: unknown socket ${JSON.stringify(s.value)}`);
    if ((s.value === 'x11' || s.value === 'x11-isolated') && out.env.WAYLAND_DISPLAY !== undefined) {
      out.notes.push(
        `${s.value} (${s.source.file}:${s.source.line}): not granted, the Wayland socket is (X11 only where there is no Wayland)`,
      );
      continue;
    }
    if (s.value === 'x11' && seen.has('x11-isolated')) {
      out.notes.push(`x11 (${s.source.file}:${s.source.line}): not granted, x11-isolated is`);
      continue;
    }
    const part = integrate({
      env: caller.env,
      uid: caller.uid,
      home: caller.home,
      hostRuntime: dirs.host,
      runtime: dirs.sandbox,
      origin: `${s.source.file}:${s.source.line}`,
    });
    out.fs.push(...part.fs);
    out.ops.push(...part.ops);
    Object.assign(out.env, part.env);
    out.notes.push(...part.notes);
    out.warnings.push(...part.warnings);
    if (part.nestedX) out.nestedX = part.nestedX;
    if (part.pulse) out.pulse = part.pulse;
  }
  if (wantsDbus) {
    const d = planDbus(profile.dbus, caller.env, dirs.host, dirs.sandbox);
    out.dbus = d.buses;
    Object.assign(out.env, d.env);
    out.notes.push(...d.notes);
    out.warnings.push(...d.warnings);
  }
  return out;
}
