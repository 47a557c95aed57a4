/**
 * D-Bus: the profile's `dbus` rules -> one xdg-dbus-proxy (started at the
 * hand-over by proxy.ts) that connects to the host's buses and listens on
 * private sockets, which the sandbox sees at the usual places:
 * $XDG_RUNTIME_DIR/bus for the session bus and /run/dbus/system_bus_socket
 * for the system bus. Only buses the profile names are proxied; without a
 * `dbus` key there is no proxy and no bus address in the environment.
 *
 * Some names are never granted, whatever a profile says: through them a
 * sandboxed program could run commands outside the sandbox (systemd's
 * manager starts units, terminals open shells, Flatpak's HostCommand runs
 * anything on the host).
 */
import * as path from 'node:path';
import type { DbusRules } from '../profile/types.js';
import { TsjailError } from '../errors.js';
import { hostSocket } from './types.js';
import type { DbusBusPlan } from '../plan/plan.js';

export type { DbusBusPlan };

export interface DbusPlan {
  buses: DbusBusPlan[];
  env: Record<string, string>;
  notes: string[];
}

/** Names that lead out of the sandbox, with why. */
export const FORBIDDEN_NAMES: { name: string; why: string }[] = [
  { name: 'org.freedesktop.systemd1', why: "systemd's manager starts and stops units (commands) outside the sandbox" },
  { name: 'org.freedesktop.Flatpak', why: "Flatpak's HostCommand runs any command on the host" },
  { name: 'org.gnome.Terminal', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.gnome.Console', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.kde.konsole', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.kde.yakuake', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.xfce.Terminal', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.xfce.Terminal5', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'com.gexperts.Tilix', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'com.mitchellh.ghostty', why: 'a terminal opens a shell outside the sandbox' },
  { name: 'org.freedesktop.login1', why: "logind's manager can power off, suspend and switch sessions" },
];

/** Does the proxy rule name `pattern` (NAME or PREFIX.*, as xdg-dbus-proxy takes it) cover `name`? */
export function covers(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    return name === prefix || name.startsWith(`${prefix}.`);
  }
  return pattern === name;
}

/** The bus name a rule is about: `NAME` or, for call/broadcast, `NAME=RULE`. */
function ruleName(kind: keyof DbusRules, value: string): string {
  if (kind === 'call' || kind === 'broadcast') {
    const eq = value.indexOf('=');
    return eq < 0 ? value : value.slice(0, eq);
  }
  return value;
}

export function proxyRules(bus: string, rules: DbusRules, origin: string): string[] {
  const args: string[] = [];
  for (const kind of ['see', 'talk', 'own', 'call', 'broadcast'] as const) {
    for (const value of rules[kind]) {
      const name = ruleName(kind, value);
      const bad = FORBIDDEN_NAMES.find((f) => covers(name, f.name));
      if (bad) {
        throw new TsjailError(`${origin}: dbus.${bus}.${kind}: ${JSON.stringify(value)} would reach ${bad.name}: ${bad.why}`);
      }
      args.push(`--${kind}=${value}`);
    }
  }
  return args;
}

/** The host's session bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus when it is a socket. */
function sessionAddress(env: NodeJS.ProcessEnv, hostRuntime: string | undefined): string | undefined {
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  if (hostRuntime && hostSocket(path.posix.join(hostRuntime, 'bus'))) return `unix:path=${path.posix.join(hostRuntime, 'bus')}`;
  return undefined;
}

export const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';

export function planDbus(
  dbus: { session?: DbusRules & { source: { file: string; line: number } }; system?: DbusRules & { source: { file: string; line: number } } },
  env: NodeJS.ProcessEnv,
  hostRuntime: string | undefined,
  runtime: string,
): DbusPlan {
  const out: DbusPlan = { buses: [], env: {}, notes: [] };
  if (dbus.session) {
    const origin = `${dbus.session.source.file}:${dbus.session.source.line}`;
    const rules = proxyRules('session', dbus.session, origin);
    const address = sessionAddress(env, hostRuntime);
    if (!address) {
      out.notes.push(`dbus.session (${origin}): no session bus (DBUS_SESSION_BUS_ADDRESS is not set); the sandbox gets none`);
    } else {
      const inside = path.posix.join(runtime, 'bus');
      out.buses.push({ bus: 'session', address, inside, rules });
      out.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${inside}`;
      out.notes.push(`dbus: session bus ${address} through xdg-dbus-proxy ${rules.join(' ') || '(no name allowed)'}`);
    }
  }
  if (dbus.system) {
    const origin = `${dbus.system.source.file}:${dbus.system.source.line}`;
    const rules = proxyRules('system', dbus.system, origin);
    const address = env.DBUS_SYSTEM_BUS_ADDRESS || `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.buses.push({ bus: 'system', address, inside: SYSTEM_BUS_SOCKET, rules });
    out.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.notes.push(`dbus: system bus ${address} through xdg-dbus-proxy ${rules.join(' ') || '(no name allowed)'}`);
  }
  return out;
}
