/**
 * PipeWire: never its own socket. PipeWire's native protocol gives every
 * client on $XDG_RUNTIME_DIR/pipewire-0 the whole graph of the server,
 * which runs outside the sandbox as the caller (the session manager
 * restricts only Flatpak clients and portal-made sockets): it could link to
 * any node, capturing other applications' sound and screen-cast video, set
 * the defaults and create objects in the server through its factories.
 * PipeWire desktops also run pipewire-pulse, its PulseAudio-protocol server
 * at $XDG_RUNTIME_DIR/pulse/native, so sound for a profile that names
 * `pipewire` goes there through tsjail-pulse-filter, exactly as for
 * `pulseaudio` (src/desktop/pulseaudio.ts): play and record, nothing more.
 * Programs that speak only PipeWire's own protocol get no sound server.
 */
import { pulseaudio } from './pulseaudio.js';
import type { DesktopContext, DesktopPart } from './types.js';

export const PIPEWIRE_ROUTED =
  "PipeWire's own socket is not handed over (any client there reaches the whole graph of the server: other applications' sound and screen-cast video); sound goes through its PulseAudio server (pipewire-pulse) and tsjail-pulse-filter";

export function pipewire(ctx: DesktopContext): DesktopPart {
  const part = pulseaudio(ctx);
  part.notes.unshift(`pipewire (${ctx.origin}): ${PIPEWIRE_ROUTED}`);
  return part;
}
