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
import { DBUS_RULE_KINDS, type DbusRules, type SourceRef } from '../profile/index.js';
import type { DbusRuleKind } from '../profile/types.js';
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

type BusRules = DbusRules & { source: SourceRef; sources?: Partial<Record<DbusRuleKind, SourceRef[]>> };

/**
 * Every rule of the profile that would reach a name in FORBIDDEN_NAMES,
 * each at the line it was written. `run` (through planDbus) and `profile
 * check` both refuse a profile with any.
 */
export function forbiddenRules(dbus: { session?: BusRules; system?: BusRules }): TsjailError[] {
  const errors: TsjailError[] = [];
  for (const bus of ['session', 'system'] as const) {
    const rules = dbus[bus];
    if (!rules) continue;
    for (const kind of DBUS_RULE_KINDS) {
      rules[kind].forEach((value, i) => {
        const bad = FORBIDDEN_NAMES.find((f) => covers(ruleName(kind, value), f.name));
        if (!bad) return;
        const at = rules.sources?.[kind]?.[i] ?? rules.source;
        errors.push(
          new TsjailError(
            `${at.file}:${at.line}: dbus.${bus}.${kind}: ${JSON.stringify(value)} would reach ${bad.name}: ${bad.why}`,
          ),
        );
      });
    }
  }
  return errors;
}

/** xdg-dbus-proxy's arguments for one bus's rules; throws the first forbidden rule. */
export function proxyRules(bus: 'session' | 'system', rules: BusRules): string[] {
  const bad = forbiddenRules({ [bus]: rules });
  if (bad.length > 0) throw bad[0]!;
  return (['see', 'talk', 'own', 'call', 'broadcast'] as const).flatMap((kind) =>
    rules[kind].map((value) => `--${kind}=${value}`),
  );
}

/** The host's session bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus when it is a socket. */
function sessionAddress(env: NodeJS.ProcessEnv, hostRuntime: string | undefined): string | undefined {
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  if (hostRuntime && hostSocket(path.posix.join(hostRuntime, 'bus')))
    return `unix:path=${path.posix.join(hostRuntime, 'bus')}`;
  return undefined;
}

export const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';

export function planDbus(
  dbus: { session?: BusRules; system?: BusRules },
  env: NodeJS.ProcessEnv,
  hostRuntime: string | undefined,
  runtime: string,
): DbusPlan {
  const out: DbusPlan = { buses: [], env: {}, notes: [] };
  if (dbus.session) {
    const origin = `${dbus.session.source.file}:${dbus.session.source.line}`;
    const rules = proxyRules('session', dbus.session);
    const address = sessionAddress(env, hostRuntime);
    if (!address) {
      out.notes.push(
        `dbus.session (${origin}): no session bus (DBUS_SESSION_BUS_ADDRESS is not set); the sandbox gets none`,
      );
    } else {
      const inside = path.posix.join(runtime, 'bus');
      out.buses.push({ bus: 'session', address, inside, rules });
      out.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${inside}`;
      out.notes.push(`dbus: session bus ${address} through xdg-dbus-proxy ${rules.join(' ') || '(no name allowed)'}`);
    }
  }
  if (dbus.system) {
    const rules = proxyRules('system', dbus.system);
    const address = env.DBUS_SYSTEM_BUS_ADDRESS || `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.buses.push({ bus: 'system', address, inside: SYSTEM_BUS_SOCKET, rules });
    out.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.notes.push(`dbus: system bus ${address} through xdg-dbus-proxy ${rules.join(' ') || '(no name allowed)'}`);
  }
  return out;
}
