/**
 * Wayland: only the socket $WAYLAND_DISPLAY names (default wayland-0), shown
 * in the sandbox's private XDG_RUNTIME_DIR under the same name.
 */
import * as path from 'node:path';
import { emptyPart, hostSocket, showSocket, type DesktopContext, type DesktopPart } from './types.js';

export function wayland(ctx: DesktopContext): DesktopPart {
  const part = emptyPart();
  const name = ctx.env.WAYLAND_DISPLAY || 'wayland-0';
  let host: string;
  if (name.startsWith('/')) host = path.posix.normalize(name);
  else if (name.includes('/')) {
    part.notes.push(`wayland (${ctx.origin}): WAYLAND_DISPLAY=${name} is neither a name nor an absolute path; skipped`);
    return part;
  } else if (ctx.hostRuntime) host = path.posix.join(ctx.hostRuntime, name);
  else {
    part.notes.push(`wayland (${ctx.origin}): XDG_RUNTIME_DIR is not set; no Wayland display in the sandbox`);
    return part;
  }
  const s = hostSocket(host);
  if (!s) {
    part.notes.push(`wayland (${ctx.origin}): ${host} is not a socket on this host; no Wayland display in the sandbox`);
    return part;
  }
  const base = path.posix.basename(host);
  showSocket(part, s, host, path.posix.join(ctx.runtime, base), `${ctx.origin} (wayland)`);
  part.env.WAYLAND_DISPLAY = base;
  part.notes.push(`wayland: ${host}`);
  return part;
}
