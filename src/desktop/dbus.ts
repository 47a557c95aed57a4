/**
 * D-Bus: the profile's `dbus` rules -> one xdg-dbus-proxy (started at the
 * hand-over by proxy.ts) that connects to the host's buses and listens on
 * private sockets, which the sandbox sees at the usual places:
 * $XDG_RUNTIME_DIR/bus for the session bus and /run/dbus/system_bus_socket
 * for the system bus. Only buses the profile names are proxied; without a
 * `dbus` key there is no proxy and no bus address in the environment.
 *
 * Some names are refused, whatever the rules say: through them a sandboxed
 * program could run commands outside the sandbox (systemd's manager starts
 * units, terminals open shells, dconf writes shortcuts, GNOME Shell
 * evaluates JavaScript) or read secrets (the Secret Service, KWallet). A
 * profile that truly needs one names it in dbus.BUS.dangerouslyAllow, and
 * every run says so on stderr.
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
  /** Said on stderr even without -v: refused names reached through dangerouslyAllow. */
  warnings: string[];
}

const TERM = 'a terminal opens a shell outside the sandbox';

/**
 * Names that lead out of the sandbox (code run outside, input into other
 * windows) or hand out secrets, with why. Each stands for its family: the
 * name itself, every name below it (NAME.x) and KDE's per-process NAME-PID.
 * A profile reaches one only by listing it in dbus.BUS.dangerouslyAllow.
 */
export const FORBIDDEN_NAMES: { name: string; why: string }[] = [
  { name: 'org.freedesktop.systemd1', why: "systemd's manager starts and stops units (commands) outside the sandbox" },
  { name: 'org.freedesktop.Flatpak', why: "Flatpak's HostCommand runs any command on the host" },
  { name: 'org.freedesktop.portal.Flatpak', why: "the Flatpak portal's Spawn starts processes outside the sandbox" },
  {
    name: 'org.freedesktop.impl.portal',
    why: "portal back ends (the permission store among them) are for the portal itself: they grant what the portal's checks would refuse",
  },
  { name: 'org.gnome.Terminal', why: TERM },
  { name: 'org.gnome.Console', why: TERM },
  { name: 'org.kde.konsole', why: TERM },
  { name: 'org.kde.yakuake', why: TERM },
  { name: 'org.xfce.Terminal', why: TERM },
  { name: 'org.xfce.Terminal5', why: TERM },
  { name: 'com.gexperts.Tilix', why: TERM },
  { name: 'com.mitchellh.ghostty', why: TERM },
  { name: 'org.freedesktop.login1', why: "logind's manager can power off, suspend and switch sessions" },
  { name: 'org.gnome.Shell', why: 'GNOME Shell evaluates JavaScript, installs extensions and takes screenshots' },
  { name: 'org.gnome.Mutter', why: 'Mutter records the screen and injects input into every window' },
  {
    name: 'org.gnome.SessionManager',
    why: 'the session manager sets the environment of programs started later and ends the session',
  },
  {
    name: 'ca.desrt.dconf',
    why: 'dconf writes every setting, custom keyboard shortcuts (commands) and autostart included',
  },
  { name: 'org.xfce.Xfconf', why: 'Xfconf writes every setting, keyboard shortcuts (commands) included' },
  { name: 'org.freedesktop.secrets', why: 'the Secret Service hands out every stored password' },
  { name: 'org.gnome.keyring', why: 'GNOME keyring holds every stored password' },
  { name: 'org.kde.kwalletd', why: 'KDE Wallet holds every stored password' },
  { name: 'org.kde.kwalletd5', why: 'KDE Wallet holds every stored password' },
  { name: 'org.kde.kwalletd6', why: 'KDE Wallet holds every stored password' },
  { name: 'org.gnome.OnlineAccounts', why: "GNOME Online Accounts hands out the user's access tokens" },
  { name: 'org.kde.klauncher', why: 'klauncher starts programs outside the sandbox' },
  { name: 'org.kde.klauncher5', why: 'klauncher starts programs outside the sandbox' },
  { name: 'org.kde.krunner', why: 'KRunner runs commands' },
  { name: 'org.kde.plasmashell', why: 'Plasma evaluates scripts in the desktop shell' },
  { name: 'org.kde.KWin', why: 'KWin loads scripts and injects input into every window' },
  { name: 'org.kde.kglobalaccel', why: 'global shortcuts run commands' },
  { name: 'org.a11y.Bus', why: "the accessibility bus reads every window's text and types into any window" },
  { name: 'org.gtk.vfs', why: "GVfs reads and writes the user's files and network shares outside the sandbox" },
  { name: 'org.freedesktop.Tracker3', why: "the file indexer answers with the contents of the user's files" },
  { name: 'org.freedesktop.PackageKit', why: 'PackageKit installs software' },
  { name: 'org.freedesktop.UDisks2', why: 'UDisks mounts, formats and unlocks disks' },
  {
    name: 'org.freedesktop.PolicyKit1',
    why: "an authentication agent registered there receives the user's password prompts",
  },
];

/** Is `name` (an exact name or a PREFIX.* rule) in the family of forbidden name `f`? */
function inFamily(name: string, f: string): boolean {
  return name === f || name.startsWith(`${f}.`) || name.startsWith(`${f}-`);
}

/** The forbidden name a rule's name would reach, if any. */
export function forbiddenFor(name: string): { name: string; why: string } | undefined {
  return FORBIDDEN_NAMES.find((f) => covers(name, f.name) || inFamily(name.replace(/\.\*$/, ''), f.name));
}

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

type BusRules = DbusRules & {
  source: SourceRef;
  sources?: Partial<Record<DbusRuleKind, SourceRef[]>>;
  dangerouslyAllow?: { value: string; source: SourceRef }[];
};

/**
 * Every rule of the profile that would reach a name in FORBIDDEN_NAMES and
 * is not listed exactly in its bus's dangerouslyAllow, and every
 * dangerouslyAllow entry that names no refused name, each at the line it was
 * written. `run` (through planDbus) and `profile check` both refuse a
 * profile with any.
 */
export function forbiddenRules(dbus: { session?: BusRules; system?: BusRules }): TsjailError[] {
  const errors: TsjailError[] = [];
  for (const bus of ['session', 'system'] as const) {
    const rules = dbus[bus];
    if (!rules) continue;
    const allowed = new Set((rules.dangerouslyAllow ?? []).map((a) => a.value));
    for (const a of rules.dangerouslyAllow ?? []) {
      if (forbiddenFor(a.value)) continue;
      errors.push(
        new TsjailError(
          `${a.source.file}:${a.source.line}: dbus.${bus}.dangerouslyAllow: ${JSON.stringify(a.value)} is not a name tsjail refuses; nothing to allow`,
        ),
      );
    }
    for (const kind of DBUS_RULE_KINDS) {
      rules[kind].forEach((value, i) => {
        const name = ruleName(kind, value);
        const bad = forbiddenFor(name);
        if (!bad || allowed.has(name)) return;
        const at = rules.sources?.[kind]?.[i] ?? rules.source;
        errors.push(
          new TsjailError(
            `${at.file}:${at.line}: dbus.${bus}.${kind}: ${JSON.stringify(value)} would reach ${bad.name}: ${bad.why}` +
              (name.endsWith('.*')
                ? ''
                : ` (dbus.${bus}.dangerouslyAllow: [${JSON.stringify(name)}] lets a profile that truly needs it)`),
          ),
        );
      });
    }
  }
  return errors;
}

/** One line per refused name a bus's rules reach through dangerouslyAllow, said on stderr at every run. */
export function dangerousGrants(bus: 'session' | 'system', rules: BusRules): string[] {
  return (rules.dangerouslyAllow ?? []).flatMap((a) => {
    const used = DBUS_RULE_KINDS.some((kind) => rules[kind].some((v) => ruleName(kind, v) === a.value));
    const bad = forbiddenFor(a.value);
    if (!used || !bad) return [];
    return [
      `dbus.${bus}.dangerouslyAllow (${a.source.file}:${a.source.line}): the sandbox may reach ${a.value}: ${bad.why}`,
    ];
  });
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
  const out: DbusPlan = { buses: [], env: {}, notes: [], warnings: [] };
  if (dbus.session) {
    const origin = `${dbus.session.source.file}:${dbus.session.source.line}`;
    const rules = proxyRules('session', dbus.session);
    out.warnings.push(...dangerousGrants('session', dbus.session));
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
    out.warnings.push(...dangerousGrants('system', dbus.system));
    const address = env.DBUS_SYSTEM_BUS_ADDRESS || `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.buses.push({ bus: 'system', address, inside: SYSTEM_BUS_SOCKET, rules });
    out.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${SYSTEM_BUS_SOCKET}`;
    out.notes.push(`dbus: system bus ${address} through xdg-dbus-proxy ${rules.join(' ') || '(no name allowed)'}`);
  }
  return out;
}
