/**
 * PipeWire: the native socket ($PIPEWIRE_REMOTE when it is a path, else
 * $XDG_RUNTIME_DIR/pipewire-0), shown as pipewire-0 in the sandbox's
 * XDG_RUNTIME_DIR, where libpipewire looks by default. PipeWire has no cookie;
 * its access control is the socket itself.
 */
import * as path from 'node:path';
import { emptyPart, hostSocket, showSocket, type DesktopContext, type DesktopPart } from './types.js';

export function pipewire(ctx: DesktopContext): DesktopPart {
  const part = emptyPart();
  const remote = ctx.env.PIPEWIRE_REMOTE;
  let host: string | undefined;
  if (remote && remote.startsWith('/')) host = path.posix.normalize(remote);
  else if (ctx.hostRuntime)
    host = path.posix.join(ctx.hostRuntime, remote && !remote.includes('/') ? remote : 'pipewire-0');
  const s = host ? hostSocket(host) : undefined;
  if (!host || !s) {
    part.notes.push(
      `pipewire (${ctx.origin}): no PipeWire socket${host ? ` at ${host}` : ' (XDG_RUNTIME_DIR is not set)'}; skipped`,
    );
    return part;
  }
  const inside = path.posix.join(ctx.runtime, 'pipewire-0');
  showSocket(part, s, host, inside, `${ctx.origin} (pipewire)`);
  part.notes.push(`pipewire: ${host}`);
  return part;
}
