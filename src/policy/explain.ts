/**
 * `tsjail profile explain`: the merged profile in plain words, grouped by
 * what a user worries about (files, devices, network, desktop, system
 * calls), each line naming the profile file and line it comes from.
 */
import type { MergedProfile, PathEntry } from '../profile/index.js';
import { hostArch, resolveSeccompPolicy, type Arch } from '../seccomp/compile.js';
import { DEVICE_CLASSES } from './devices.js';
import { seccompInput, seccompNetwork } from './seccomp.js';

const PULSE_FILTERED =
  "through a filter: its own streams and their volume only; may not load modules, change devices or defaults, or touch other applications' streams; sees the names of sound devices and of other applications using sound";

/** What a `sockets` entry lets the application do, in plain words. */
const SOCKET_WORDS: Record<string, string> = {
  wayland: "may open windows on your Wayland desktop (only the compositor's socket)",
  x11: 'may open windows on your X11 display (its socket and cookie only), and only where there is no Wayland socket; X11 lets it read every keystroke and window of the display and type into other applications',
  'x11-isolated':
    "may open windows on a nested X server of its own (Xephyr), shown as one window on your display; it sees no other application's windows or keystrokes",
  pulseaudio: `may play and record sound through PulseAudio, ${PULSE_FILTERED}`,
  pipewire: `may play and record sound through PipeWire's PulseAudio server (pipewire-pulse), ${PULSE_FILTERED}; never gets PipeWire's own socket, whose clients reach every application's sound and screen-cast video`,
};

function where(e: { source: { file: string; line: number } }): string {
  return `${e.source.file.replace(/^.*\/profiles\//, '')}:${e.source.line}`;
}

function section(title: string, lines: string[]): string {
  return lines.length === 0 ? '' : `${title}\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

const fromBase = (e: PathEntry): boolean => /(^|\/)include\/base\.json5$/.test(e.source.file);

function paths(entries: PathEntry[], verb: string): string[] {
  return entries
    .filter((e) => !fromBase(e))
    .map((e) => `${verb} ${e.path}${e.declared !== e.path ? `  (${e.declared})` : ''}  [${where(e)}]`);
}

/** filesystem.protect in plain words: what stays read-only inside writable folders. */
function protectLines(p: MergedProfile): string[] {
  const builtin = p.protect.filter((e) => e.builtin).map((e) => e.path);
  const own = p.protect.filter((e) => !e.builtin).map((e) => `${e.path}  [${where(e)}]`);
  return [
    `inside every folder it may change (--rw ones too), keeps read-only what programs outside run or trust later: ${builtin.join(', ') || 'nothing of the built-in list'}`,
    ...own.map((o) => `also keeps read-only inside them: ${o}`),
    ...p.unprotected.map(
      (u) => `WARNING: may change ${u.value} inside the folders it may change (protection switched off)  [${where(u)}]`,
    ),
  ];
}

/** What a filter does with one system call: every call, some argument values only, or none. */
export type Verdict = 'all' | 'some' | 'none';

/** The profile's filter, call by call, for an architecture (a name it never allows is absent). */
export function verdicts(
  p: Pick<MergedProfile, 'syscalls' | 'nestedSandbox' | 'network'>,
  arch: Arch,
): Map<string, Verdict> {
  const input = seccompInput(p, seccompNetwork(p.network));
  const out = new Map<string, Verdict>();
  const native = resolveSeccompPolicy(input, arch)[0]!;
  for (const r of native.rules.values()) {
    const blocked = [...r.deny, ...r.hardDeny];
    const v: Verdict =
      r.allow.length === 0 || blocked.some((e) => e.conds.length === 0)
        ? 'none'
        : r.allow.some((e) => e.conds.length === 0) && blocked.length === 0
          ? 'all'
          : 'some';
    out.set(r.sys.name, v);
  }
  return out;
}

/**
 * What the profile's filter allows beyond `@default` alone (under the same
 * network and nestedSandbox), and what of `@default` it refuses, by name,
 * for the machine's architecture: the profile's own syscall list in effect.
 */
export function syscallsAgainstDefault(
  p: Pick<MergedProfile, 'syscalls' | 'nestedSandbox' | 'network'>,
  arch: Arch = hostArch(),
): { added: string[]; removed: string[]; narrowed: string[]; widened: string[] } {
  const mine = verdicts(p, arch);
  const base = verdicts(
    {
      ...p,
      syscalls: {
        ...p.syscalls,
        allow: [{ value: '@default', source: { file: '@default', line: 0 }, layer: -1 }],
        deny: [],
      },
    },
    arch,
  );
  const names = [...new Set([...mine.keys(), ...base.keys()])].sort();
  const get = (m: Map<string, Verdict>, n: string): Verdict => m.get(n) ?? 'none';
  return {
    added: names.filter((n) => get(base, n) === 'none' && get(mine, n) !== 'none'),
    removed: names.filter((n) => get(base, n) !== 'none' && get(mine, n) === 'none'),
    narrowed: names.filter((n) => get(base, n) === 'all' && get(mine, n) === 'some'),
    widened: names.filter((n) => get(base, n) === 'some' && get(mine, n) === 'all'),
  };
}

function syscallDiffLines(p: MergedProfile): string[] {
  const d = syscallsAgainstDefault(p);
  const lines = [
    d.added.length ? `adds to @default: ${d.added.join(', ')}` : 'adds nothing to @default',
    d.removed.length ? `removes from @default: ${d.removed.join(', ')}` : 'removes nothing from @default',
  ];
  if (d.narrowed.length) lines.push(`allows only some arguments of: ${d.narrowed.join(', ')}`);
  if (d.widened.length) lines.push(`allows every argument of (@default checks them): ${d.widened.join(', ')}`);
  return lines;
}

export function explainProfile(p: MergedProfile, caller: { home: string }): string {
  const f = p.filesystem;
  const out: string[] = [];
  out.push(`${p.name}${p.description ? `: ${p.description}` : ''}`);
  out.push(`from ${p.files.join(', ')}\n`);
  out.push(
    section('Files (nothing else of this computer is visible):', [
      ...(f.ro.some(fromBase)
        ? ['may read the system runtime: /usr and the parts of /etc programs need  [include/base.json5]']
        : []),
      ...paths(f.ro, 'may read'),
      ...paths(f.rw, 'may read and change'),
      ...paths(f.exec, 'may run programs it wrote in'),
      ...paths(f.tmpfs, 'gets an empty private folder at'),
      ...paths(f.deny, 'can never see'),
      ...(p.fileArgs.value !== 'none'
        ? [
            `may ${p.fileArgs.value === 'ro' ? 'read' : 'read and change'} the files and folders named among its arguments (not your home folder or / whole, no secret or denied path)  [${p.fileArgs.source ? where({ source: p.fileArgs.source }) : 'built-in'}]`,
          ]
        : []),
      ...(f.rw.some((e) => e.path === caller.home) ? ['WARNING: may change everything in your home folder'] : []),
      ...protectLines(p),
    ]),
  );
  out.push(
    section(
      'Devices:',
      p.devices.map((d) => `${DEVICE_CLASSES[d.value]?.what ?? d.value}  [${where(d)}]`),
    ),
  );
  const net = p.network;
  out.push(
    section('Network:', [
      net.mode === 'none'
        ? 'no network at all (only its own loopback)'
        : net.mode === 'private' && net.allow.length
          ? `only ${net.allow.join(', ')} (each port as listed, any port where none is), through tsjail's proxy, which resolves the names; nothing else, not even DNS, and a program that ignores the proxy variables reaches nothing`
          : net.mode === 'private'
            ? `the internet through its own network namespace (pasta): TCP, UDP and DNS; not your computer's own services, its other addresses, your LAN (10/8, 172.16/12, 192.168/16, fc00::/7), link-local addresses or your abstract unix sockets${net.fallback ? `; where pasta cannot run, network "${net.fallback}" instead (network.fallback)` : '; where pasta cannot run, it does not start'}`
            : net.tcp.restrictConnect || net.tcp.restrictBind
              ? `TCP connections ${net.tcp.restrictConnect ? `only to ports ${net.tcp.connect.join(', ') || 'none'}` : 'to any port'}; listening ${net.tcp.restrictBind ? `only on ${net.tcp.bind.join(', ') || 'no port'}` : 'on any port'}`
              : 'the same network access as you have',
      ...(net.mode === 'host'
        ? [
            net.udp
              ? net.tcp.restrictConnect || net.tcp.restrictBind
                ? 'UDP (and ICMP echo, SCTP) to any host and port: network.udp'
                : 'UDP to any host and port'
              : 'no UDP, ICMP echo or SCTP: its inet sockets are TCP only (network.udp is false), so no DNS over UDP either',
          ]
        : []),
      ...(net.mode === 'host'
        ? [
            "shares this computer's network namespace: it may take abstract unix socket names (@/tmp/.X11-unix/X*, D-Bus) before a service of yours does, and clients of yours would then talk to it",
            net.unscopedAbstractSockets
              ? 'where Landlock cannot scope abstract unix sockets (before Linux 6.12) it may also connect to yours (X11, the session bus past its D-Bus proxy): network.unscopedAbstractSockets'
              : p.sockets.length || p.dbus.session || p.dbus.system
                ? 'where Landlock cannot scope abstract unix sockets (before Linux 6.12) it does not start, since it could reach your X11 and D-Bus sockets directly'
                : 'where Landlock cannot scope abstract unix sockets (before Linux 6.12) it may also connect to yours',
          ]
        : []),
    ]),
  );
  const seenSockets = new Set<string>();
  const desktop = p.sockets
    .filter((s) => !seenSockets.has(s.value) && seenSockets.add(s.value))
    .map((s) => `${SOCKET_WORDS[s.value] ?? `talks to ${s.value}`}  [${where(s)}]`);
  out.push(section('Desktop:', desktop));
  const dbus: string[] = [];
  for (const bus of ['session', 'system'] as const) {
    const b = p.dbus[bus];
    if (!b) continue;
    const rules = [
      ...(b.talk ?? []).map((n) => `may call and hear ${n}`),
      ...(b.own ?? []).map((n) => `may offer the service ${n}`),
      ...(b.see ?? []).map((n) => `may see that ${n} exists`),
      ...(b.call ?? []).map((n) => `may make the call ${n}`),
      ...(b.broadcast ?? []).map((n) => `may hear the signals ${n}`),
    ];
    dbus.push(
      ...(rules.length
        ? rules.map((r) => `${r} on the ${bus} bus  [${where(b)}]`)
        : [`the ${bus} bus, but no name on it  [${where(b)}]`]),
    );
  }
  for (const bus of ['session', 'system'] as const) {
    for (const a of p.dbus[bus]?.dangerouslyAllow ?? []) {
      dbus.push(`DANGEROUS: may reach ${a.value} on the ${bus} bus, a name tsjail otherwise refuses  [${where(a)}]`);
    }
  }
  if (dbus.length) dbus.push('nothing else on D-Bus: no terminal, no systemd, no other application');
  else dbus.push('no D-Bus at all');
  out.push(section('D-Bus (through a filtering proxy):', dbus));
  const allow = p.syscalls.allow.map((e) =>
    typeof e.value === 'string' ? e.value : `${e.value.name} (with conditions)`,
  );
  const deny = p.syscalls.deny.map((e) =>
    typeof e.value === 'string' ? e.value : `${e.value.name} (with conditions)`,
  );
  out.push(
    section('System calls:', [
      `allowed: ${allow.join(', ') || '@default'}`,
      ...(deny.length ? [`refused: ${deny.join(', ')}`] : []),
      ...syscallDiffLines(p),
      `anything else ${p.syscalls.action === 'kill' ? 'kills the program' : p.syscalls.action === 'log' ? 'is allowed but logged' : 'fails with EPERM'}`,
      ...(p.nestedSandbox
        ? [
            'may build its own sandbox inside this one (user namespaces), still under these rules',
            'System V IPC (shmget, msgget, semget) is refused: an IPC namespace it made would have no limits',
          ]
        : []),
    ]),
  );
  const lim = Object.entries(p.limits).map(([k, v]) => `${k} = ${v}`);
  out.push(section('Limits:', lim));
  out.push(
    section('Environment:', [
      `keeps ${p.env.keep.join(', ') || 'nothing'} (and PATH)`,
      ...Object.entries(p.env.set).map(([k, v]) => `sets ${k}=${v}`),
    ]),
  );
  return out
    .filter((s) => s !== '')
    .join('\n')
    .trimEnd();
}
