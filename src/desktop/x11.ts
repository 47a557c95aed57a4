/**
 * X11: the display's unix socket (/tmp/.X11-unix/XN) bound read-only into
 * the sandbox's private /tmp, DISPLAY, and an Xauthority holding only that
 * display's cookie. The abstract socket (@/tmp/.X11-unix/XN) is not granted:
 * the Landlock ruleset scopes abstract sockets to the sandbox where the
 * kernel can (ABI 6), and network "none" hides it in any case.
 * A display on another host (host:N, TCP) is not supported: it would need
 * the network and a cookie for a remote machine.
 *
 * Inside, the display has another number: libxcb tries the abstract socket
 * @/tmp/.X11-unix/XN first and falls back to the path only when that fails
 * with ENOENT or ECONNREFUSED; when the sandbox shares the host's network
 * and Landlock scopes abstract sockets, the host server's abstract socket
 * answers EPERM instead and the client gives up. Under a number no host
 * server listens on, the abstract attempt is refused and the client uses
 * the bound path socket, which is the host's display.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import { emptyPart, hostSocket, showSocket, type DesktopContext, type DesktopPart } from './types.js';
import { findXephyr } from './xephyr.js';
import { cookiesForDisplay, encodeXauth, parseXauth, XauthFormatError } from './xauth.js';

/** `:0`, `:0.1`, `unix:0` -> "0"; anything naming a host -> undefined. */
export function displayNumber(display: string): string | undefined {
  const m = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
  return m ? m[1] : undefined;
}

/** Abstract X11 socket names the host has (from /proc/net/unix), as display numbers. */
function hostAbstractDisplays(): Set<string> {
  const out = new Set<string>();
  let table = '';
  try {
    table = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return out;
  }
  for (const m of table.matchAll(/@\/tmp\/\.X11-unix\/X(\d+)\s*$/gm)) out.add(m[1]!);
  return out;
}

/** The display number inside: 1000 + N, or the next one no host server listens on. */
export function insideDisplay(n: string, taken: Set<string> = hostAbstractDisplays()): string {
  let m = 1000 + Number(n);
  while (taken.has(String(m))) m++;
  return String(m);
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
    throw new TsjailError(
      `${ctx.origin}: x11: DISPLAY=${display} is not a local display (:N); tsjail only passes local X11 sockets`,
    );
  }
  const socket = `/tmp/.X11-unix/X${n}`;
  if (!hostSocket(socket)) {
    part.notes.push(`x11 (${ctx.origin}): ${socket} is not a socket on this host; no X11 display in the sandbox`);
    return part;
  }
  const s = hostSocket(socket)!;
  const m = insideDisplay(n);
  showSocket(part, s, socket, `/tmp/.X11-unix/X${m}`, `${ctx.origin} (x11, host display :${n})`);
  part.env.DISPLAY = `:${m}`;
  part.warnings.push(
    `x11 (${ctx.origin}): the program gets the X display :${n}, where it can read every keystroke and the contents of every window, and type into other applications; ` +
      'with a Wayland socket it would get Wayland only; sockets: ["x11-isolated"] gives it a nested X server of its own',
  );

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
    const mine = cookiesForDisplay(entries, n, os.hostname()).map((e) => ({ ...e, number: m }));
    if (mine.length === 0) {
      part.notes.push(`x11: ${authFile} has no cookie for display :${n}; the sandbox gets none`);
    } else {
      const dest = path.posix.join(ctx.runtime, 'Xauthority');
      part.ops.push({
        op: 'file',
        dest,
        mode: 0o600,
        content: encodeXauth(mine),
        why: `the cookie of display :${n} only`,
      });
      part.env.XAUTHORITY = dest;
      part.notes.push(
        `x11: host display :${n} through ${socket}, as :${m} inside; ${mine.length} cookie(s) of ${entries.length} in ${authFile}`,
      );
    }
  }
  return part;
}

/**
 * `x11-isolated`: a nested X server (Xephyr) of the sandbox's own, started at
 * the hand-over (xephyr.ts) as a client of the host's display, where it is
 * one window. The program reaches only that server: the host display's
 * socket and cookie are not in the sandbox, so no other X client is in its
 * reach. Here only the name inside and the variables are decided; the
 * server's socket and a fresh cookie are added when it runs.
 */
export function x11Isolated(ctx: DesktopContext): DesktopPart {
  const part = emptyPart();
  const display = ctx.env.DISPLAY;
  if (!display) {
    part.notes.push(
      `x11-isolated (${ctx.origin}): DISPLAY is not set, so there is no display to show the nested X server on; no X11 display in the sandbox`,
    );
    return part;
  }
  const n = displayNumber(display);
  if (n === undefined) {
    throw new TsjailError(`${ctx.origin}: x11-isolated: DISPLAY=${display} is not a local display (:N)`);
  }
  const server = findXephyr(ctx.env, ctx.origin);
  const m = insideDisplay(n);
  part.env.DISPLAY = `:${m}`;
  const xauthority = path.posix.join(ctx.runtime, 'Xauthority');
  part.env.XAUTHORITY = xauthority;
  part.nestedX = {
    server,
    hostDisplay: display,
    hostXauthority: ctx.env.XAUTHORITY || path.join(ctx.home, '.Xauthority'),
    hostRuntime: ctx.hostRuntime,
    inside: m,
    xauthority,
  };
  part.notes.push(
    `x11-isolated: a nested X server (${server}) in a window on :${n}, as :${m} inside; the host display itself is not reachable`,
  );
  return part;
}
