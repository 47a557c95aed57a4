/**
 * PulseAudio (or PipeWire's pulse server): the native socket, shown at
 * $XDG_RUNTIME_DIR/pulse/native inside, and the authentication cookie as a
 * private copy. The server is $PULSE_SERVER when it names a unix socket,
 * else $XDG_RUNTIME_DIR/pulse/native; the cookie is $PULSE_COOKIE, else
 * $XDG_CONFIG_HOME/pulse/cookie, else ~/.pulse-cookie.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emptyPart, hostSocket, showSocket, type DesktopContext, type DesktopPart } from './types.js';

export function pulseaudio(ctx: DesktopContext): DesktopPart {
  const part = emptyPart();
  let host: string | undefined;
  const server = ctx.env.PULSE_SERVER;
  if (server) {
    const m = /^unix:(\/.*)$/.exec(server) ?? /^(\/.*)$/.exec(server);
    if (!m) {
      part.notes.push(
        `pulseaudio (${ctx.origin}): PULSE_SERVER=${server} is not a unix socket; no sound server in the sandbox`,
      );
      return part;
    }
    host = path.posix.normalize(m[1]!);
  } else if (ctx.hostRuntime) {
    host = path.posix.join(ctx.hostRuntime, 'pulse', 'native');
  }
  const s = host ? hostSocket(host) : undefined;
  if (!host || !s) {
    part.notes.push(
      `pulseaudio (${ctx.origin}): no PulseAudio socket${host ? ` at ${host}` : ' (XDG_RUNTIME_DIR is not set)'}; no sound server in the sandbox`,
    );
    return part;
  }
  const inside = path.posix.join(ctx.runtime, 'pulse', 'native');
  showSocket(part, s, host, inside, `${ctx.origin} (pulseaudio)`);
  part.env.PULSE_SERVER = `unix:${inside}`;
  part.notes.push(`pulseaudio: ${host}`);

  const configHome = ctx.env.XDG_CONFIG_HOME || path.join(ctx.home, '.config');
  const candidates = [
    ctx.env.PULSE_COOKIE,
    path.join(configHome, 'pulse', 'cookie'),
    path.join(ctx.home, '.pulse-cookie'),
  ];
  for (const c of candidates) {
    if (!c || !path.isAbsolute(c)) continue;
    let cookie: Buffer;
    try {
      cookie = fs.readFileSync(c);
    } catch {
      continue;
    }
    const dest = path.posix.join(ctx.runtime, 'pulse', 'cookie');
    part.ops.push({ op: 'file', dest, mode: 0o600, content: cookie, why: `PulseAudio cookie (copy of ${c})` });
    part.env.PULSE_COOKIE = dest;
    break;
  }
  return part;
}
