/**
 * X11: the display's unix socket (/tmp/.X11-unix/XN) bound read-only into
 * the sandbox's private /tmp, DISPLAY, and an Xauthority holding only that
 * display's cookie. The abstract socket (@/tmp/.X11-unix/XN) is not granted:
 * the Landlock ruleset scopes abstract sockets to the sandbox where the
 * kernel can (ABI 6), and network "none" hides it in any case.
 * A display on another host (host:N, TCP) is not supported: it would need
 * the network and a cookie for a remote machine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import { bindRequest, emptyPart, hostSocket, type DesktopContext, type DesktopPart } from './types.js';
import { cookiesForDisplay, encodeXauth, parseXauth, XauthFormatError } from './xauth.js';

/** `:0`, `:0.1`, `unix:0` -> "0"; anything naming a host -> undefined. */
export function displayNumber(display: string): string | undefined {
  const m = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
  return m ? m[1] : undefined;
}

export function x11(ctx: DesktopContext): DesktopPart {
  const part = emptyPart();
  const display = ctx.env.DISPLAY;
  if (!display) {
    part.notes.push(`x11 (${ctx.origin}): DISPLAY is not set; no X11 display in the sandbox`);
    return part;
  }
  const n = displayNumber(display);
  if (n === undefined) {
    throw new TsjailError(`${ctx.origin}: x11: DISPLAY=${display} is not a local display (:N); tsjail only passes local X11 sockets`);
  }
  const socket = `/tmp/.X11-unix/X${n}`;
  if (!hostSocket(socket)) {
    part.notes.push(`x11 (${ctx.origin}): ${socket} is not a socket on this host; no X11 display in the sandbox`);
    return part;
  }
  part.fs.push(bindRequest(socket, `${ctx.origin} (x11)`));
  part.env.DISPLAY = `:${n}`;

  const authFile = ctx.env.XAUTHORITY || path.join(ctx.home, '.Xauthority');
  let raw: Buffer | undefined;
  try {
    raw = fs.readFileSync(authFile);
  } catch {
    part.notes.push(`x11: no Xauthority at ${authFile}; the display must accept clients without a cookie`);
  }
  if (raw) {
    let entries;
    try {
      entries = parseXauth(raw);
    } catch (e) {
      if (e instanceof XauthFormatError) throw new TsjailError(`${authFile}: not an Xauthority file (${e.message})`);
      throw e;
    }
    const mine = cookiesForDisplay(entries, n, os.hostname());
    if (mine.length === 0) {
      part.notes.push(`x11: ${authFile} has no cookie for display :${n}; the sandbox gets none`);
    } else {
      const dest = path.posix.join(ctx.runtime, 'Xauthority');
      part.ops.push({ op: 'file', dest, mode: 0o600, content: encodeXauth(mine), why: `the cookie of display :${n} only` });
      part.env.XAUTHORITY = dest;
      part.notes.push(`x11: display :${n} through ${socket}, ${mine.length} cookie(s) of ${entries.length} in ${authFile}`);
    }
  }
  return part;
}
