/**
 * PulseAudio (or PipeWire's pulse server), never handed over raw: the
 * native protocol lets any client load modules into the server, which runs
 * outside the sandbox (module-ladspa-sink's `plugin=` dlopens a file the
 * client names), so the sandbox gets the socket of tsjail-pulse-filter
 * (shim-c/pulse-filter.c), started at the hand-over beside the sandbox and
 * held by a LIFELINE. The filter passes what playing and recording need and
 * refuses every command that loads code or makes the server open a path.
 *
 * The server is $PULSE_SERVER when it names a unix socket, else
 * $XDG_RUNTIME_DIR/pulse/native; the cookie is $PULSE_COOKIE, else
 * $XDG_CONFIG_HOME/pulse/cookie, else ~/.pulse-cookie: the filter reads it,
 * and the sandbox gets only a placeholder (so libpulse neither warns nor
 * writes a cookie of its own). The filter turns shared memory off for every
 * connection, so the client is told so in a client.conf of its own: without
 * it libpulse asks for a memfd that the seccomp filter refuses (it is not
 * sealed against exec) and says "shared memfd open() failed" on stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emptyPart, hostSocket, type DesktopContext, type DesktopPart } from './types.js';

/** Length of a PulseAudio cookie (PA_NATIVE_COOKIE_LENGTH). */
const COOKIE_LENGTH = 256;

/** What libpulse in the sandbox is told: audio over the socket, no server of its own. */
const CLIENT_CONF = [
  '# tsjail: the sound server is reached through tsjail-pulse-filter, which',
  '# carries audio over the socket only (no shared memory, no memfd).',
  'enable-shm = no',
  'enable-memfd = no',
  'autospawn = no',
  '',
].join('\n');

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
  part.env.PULSE_SERVER = `unix:${inside}`;
  part.notes.push(
    `pulseaudio: ${host} through tsjail-pulse-filter (no module loading, no file of the server's choosing)`,
  );

  const configHome = ctx.env.XDG_CONFIG_HOME || path.join(ctx.home, '.config');
  const candidates = [
    ctx.env.PULSE_COOKIE,
    path.join(configHome, 'pulse', 'cookie'),
    path.join(ctx.home, '.pulse-cookie'),
  ];
  const cookie = candidates.find((c) => {
    if (!c || !path.isAbsolute(c)) return false;
    try {
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
  part.pulse = { server: s.real, cookie, inside, hostRuntime: ctx.hostRuntime };
  const dest = path.posix.join(ctx.runtime, 'pulse', 'cookie');
  part.ops.push({
    op: 'file',
    dest,
    mode: 0o600,
    content: new Uint8Array(COOKIE_LENGTH),
    why: 'PulseAudio cookie placeholder (the filter holds the real one)',
  });
  part.env.PULSE_COOKIE = dest;
  const conf = path.posix.join(ctx.runtime, 'pulse', 'client.conf');
  part.ops.push({
    op: 'file',
    dest: conf,
    mode: 0o444,
    content: new TextEncoder().encode(CLIENT_CONF),
    why: 'PulseAudio client.conf: no shared memory (the filter carries audio over the socket)',
  });
  part.env.PULSE_CLIENTCONFIG = conf;
  return part;
}
