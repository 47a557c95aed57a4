/**
 * Folding a profile's layers into one MergedProfile.
 *
 * Contract: mergeLayers(name, layers, vars) is pure apart from what `vars`
 * already holds; it expands variables and applies the precedence rules, and
 * returns every expansion error (unknown variable, a path that does not
 * expand to an absolute one) located at FILE:LINE of its entry.
 *   scalars (description, network, syscalls.action/multiarch, hostname,
 *   nestedSandbox, landlock, uid,
 *   root's path and writable)       the later layer wins; a layer that sets
 *                                   `network` replaces it whole (mode and tcp);
 *                                   landlock's mode and logDenials each on
 *                                   their own (a string sets the mode only)
 *   lists (command, devices, sockets, env.keep, dbus lists, syscalls
 *   allow/deny, capabilities)       union, first occurrence kept, in order
 *   env.set, limits                 per key, the later layer wins
 *   filesystem.protect              the built-in list, then each layer's
 *                                   entries; `unprotect` (any layer) removes
 *                                   built-in entries only
 *   filesystem.args                 the later layer wins
 *   filesystem                      not resolved here: every entry is kept
 *                                   with its layer and source, for the mount
 *                                   planner's rule (deny wins over an allow of
 *                                   the same or a parent path; else the most
 *                                   specific path; at one path the later layer)
 * description and command come from the profile and its locals only: a
 * snippet's description describes the snippet. syscalls.allow is
 * ["@default"] (SPEC) when no layer declares an allow list; a snippet that
 * declares one should therefore list "@default" itself.
 * Entries whose variable is known but has no value are left out and listed in
 * `skipped` with the reason.
 */
import { ProfileError, errorAt, type SourceRef } from './errors.js';
import { sourceOf, type Layer } from './include.js';
import { formatKeyPath, type PathSegment } from './positions.js';
import {
  DBUS_BUSES,
  DBUS_RULE_KINDS,
  FILESYSTEM_KINDS,
  type FileArgs,
  type DbusRuleKind,
  type DbusRules,
  type FilesystemKind,
  type LandlockMode,
  type LimitValue,
  type NetworkMode,
  type SyscallAction,
  type SyscallEntry,
} from './types.js';
import { expandPath, expandText, type VarContext } from './vars.js';
import { DEFAULT_PROTECT, PROTECT_GLOB } from './protect.js';

export interface PathEntry {
  /** Expanded absolute path; a minimatch pattern when `glob` is true. */
  path: string;
  /** As written in the profile. */
  declared: string;
  source: SourceRef;
  layer: number;
  /** The profile wrote glob characters: expand `path` at launch (variable values in it are escaped). */
  glob: boolean;
}

/** A `filesystem.protect` entry (built-in or declared); see src/profile/protect.ts. */
export interface ProtectEntry {
  /** Relative to each writable directory, or (relative false) an expanded absolute path. */
  path: string;
  relative: boolean;
  declared: string;
  source: SourceRef;
  layer: number;
  glob: boolean;
  /** Part of the built-in list. */
  builtin: boolean;
}

export interface Tagged<T> {
  value: T;
  source: SourceRef;
  layer: number;
}

export interface SkippedEntry {
  entry: string;
  source: SourceRef;
  keyPath: string;
  reason: string;
}

export interface MergedNetwork {
  mode: NetworkMode;
  /**
   * Allowed TCP ports. A list restricts only when its `restrict*` flag is
   * true (the profile wrote the list, even empty); otherwise TCP is open.
   */
  tcp: { connect: number[]; bind: number[]; restrictConnect: boolean; restrictBind: boolean };
  /** network.udp: inet sockets other than TCP allowed (default: unless a tcp list is given). */
  udp: boolean;
  /** The profile accepts the host's abstract sockets in reach where Landlock cannot scope them. */
  unscopedAbstractSockets: boolean;
  /** network.allow: egress only to these hosts through the proxy (mode "private"); empty: no such list. */
  allow: string[];
  /** network.fallback: the mode where "private" cannot be had. */
  fallback?: 'host' | 'none';
  source?: SourceRef;
}

/** One bus's rules: the union over the layers, each rule with where it was written (sources[kind][i] for kind[i]). */
export interface MergedDbusBus extends DbusRules {
  /** The last layer's `dbus.BUS` key. */
  source: SourceRef;
  sources: Record<DbusRuleKind, SourceRef[]>;
  /** dbus.BUS.dangerouslyAllow: refused names (src/desktop/dbus.ts) this profile may reach anyway. */
  dangerouslyAllow: Tagged<string>[];
}

export interface MergedProfile {
  name: string;
  /** The files merged, in layer order (index = layer number). */
  files: string[];
  description?: string;
  command: string[];
  filesystem: Record<FilesystemKind, PathEntry[]>;
  /** The built-in protect list minus `unprotect`, then every layer's own `protect`. */
  protect: ProtectEntry[];
  /** Built-in entries a layer switched off (`filesystem.unprotect`): said on stderr at launch. */
  unprotected: Tagged<string>[];
  /** filesystem.args of the last layer that sets it; "none" (layer -1, no source) when none does. */
  fileArgs: { value: FileArgs; layer: number; source?: SourceRef };
  devices: Tagged<string>[];
  sockets: Tagged<string>[];
  dbus: { session?: MergedDbusBus; system?: MergedDbusBus };
  network: MergedNetwork;
  syscalls: {
    allow: Tagged<SyscallEntry>[];
    deny: Tagged<SyscallEntry>[];
    action: SyscallAction;
    multiarch: boolean;
  };
  env: { keep: string[]; set: Record<string, string> };
  limits: Record<string, LimitValue>;
  hostname: string;
  nestedSandbox: boolean;
  landlock: LandlockMode;
  /** landlock.logDenials: the kernel logs what Landlock refuses the program. */
  landlockLogDenials: boolean;
  /** root: the system tree (path expanded; absent when only `writable` was said) and where it was written. */
  root?: { path?: string; writable: boolean; source: SourceRef };
  uid: 0 | 'caller';
  /** Capabilities kept inside the user namespace (union of the layers). */
  capabilities: Tagged<string>[];
  skipped: SkippedEntry[];
}

export const DEFAULT_HOSTNAME = 'tsjail';
export const DEFAULT_SYSCALL_ALLOW: SyscallEntry = '@default';
/** The source given to values no file wrote (the SPEC's defaults). */
export const BUILTIN_SOURCE: SourceRef = { file: '<built-in default>', line: 0 };

export interface MergeResult {
  profile: MergedProfile;
  errors: ProfileError[];
}

export function mergeLayers(name: string, layers: readonly Layer[], vars: VarContext): MergeResult {
  const m = new Merger(vars);
  const out: MergedProfile = {
    name,
    files: layers.map((l) => l.loaded.file),
    command: [],
    filesystem: { ro: [], rw: [], exec: [], tmpfs: [], deny: [] },
    protect: DEFAULT_PROTECT.map((d) => ({
      path: d.path,
      relative: true,
      declared: d.path,
      source: BUILTIN_SOURCE,
      layer: -1,
      glob: PROTECT_GLOB.test(d.path),
      builtin: true,
    })),
    unprotected: [],
    fileArgs: { value: 'none', layer: -1 },
    devices: [],
    sockets: [],
    dbus: {},
    network: {
      mode: 'none',
      tcp: { connect: [], bind: [], restrictConnect: false, restrictBind: false },
      udp: true,
      unscopedAbstractSockets: false,
      allow: [],
    },
    syscalls: { allow: [], deny: [], action: 'errno', multiarch: false },
    // Null-prototype maps: a variable named __proto__ is an ordinary key
    // here, not a prototype assignment that would vanish without a word.
    env: { keep: [], set: Object.create(null) as Record<string, string> },
    limits: Object.create(null) as Record<string, LimitValue>,
    hostname: DEFAULT_HOSTNAME,
    nestedSandbox: false,
    landlock: 'best-effort',
    landlockLogDenials: false,
    uid: 'caller',
    capabilities: [],
    skipped: m.skipped,
  };
  let allowDeclared = false;

  for (const layer of layers) {
    const { doc } = layer;
    const src = (path: readonly PathSegment[]): SourceRef => sourceOf(layer.loaded, path);
    const own = layer.role !== 'snippet';

    if (own && doc.description !== undefined) out.description = doc.description;
    if (own) unionInto(out.command, doc.command ?? []);

    for (const kind of FILESYSTEM_KINDS) {
      (doc.filesystem?.[kind] ?? []).forEach((declared, i) => {
        const entry = m.path(layer, ['filesystem', kind, i], declared);
        if (entry !== undefined) out.filesystem[kind].push(entry);
      });
    }

    (doc.filesystem?.protect ?? []).forEach((declared, i) => {
      const keyPath = ['filesystem', 'protect', i];
      if (!declared.startsWith('/') && !declared.startsWith('$') && !declared.startsWith('~')) {
        const source = src(keyPath);
        out.protect.push({
          path: declared,
          relative: true,
          declared,
          source,
          layer: layer.layer,
          glob: PROTECT_GLOB.test(declared),
          builtin: false,
        });
        return;
      }
      const entry = m.path(layer, keyPath, declared);
      if (entry !== undefined) out.protect.push({ ...entry, relative: false, builtin: false });
    });
    (doc.filesystem?.unprotect ?? []).forEach((p, i) =>
      pushTagged(out.unprotected, p, src(['filesystem', 'unprotect', i]), layer.layer),
    );
    if (doc.filesystem?.args !== undefined)
      out.fileArgs = { value: doc.filesystem.args, layer: layer.layer, source: src(['filesystem', 'args']) };

    (doc.devices ?? []).forEach((declared, i) => {
      let value = declared;
      if (declared.startsWith('/') || declared.startsWith('$') || declared.startsWith('~')) {
        const entry = m.path(layer, ['devices', i], declared);
        if (entry === undefined) return;
        if (!/^\/dev\/[^/]/.test(entry.path)) {
          m.errors.push(
            errorAt(
              entry.source,
              `${JSON.stringify(declared)} is not a path under /dev/`,
              formatKeyPath(['devices', i]),
            ),
          );
          return;
        }
        value = entry.path;
      }
      pushTagged(out.devices, value, src(['devices', i]), layer.layer);
    });
    (doc.sockets ?? []).forEach((s, i) => pushTagged(out.sockets, s, src(['sockets', i]), layer.layer));

    for (const bus of DBUS_BUSES) {
      const rules = doc.dbus?.[bus];
      if (rules === undefined) continue;
      const merged: MergedDbusBus = out.dbus[bus] ?? {
        talk: [],
        own: [],
        see: [],
        call: [],
        broadcast: [],
        source: src(['dbus', bus]),
        sources: { talk: [], own: [], see: [], call: [], broadcast: [] },
        dangerouslyAllow: [],
      };
      for (const kind of DBUS_RULE_KINDS) {
        (rules[kind] ?? []).forEach((rule, i) => {
          if (merged[kind].includes(rule)) return;
          merged[kind].push(rule);
          merged.sources[kind].push(src(['dbus', bus, kind, i]));
        });
      }
      (rules.dangerouslyAllow ?? []).forEach((name, i) =>
        pushTagged(merged.dangerouslyAllow, name, src(['dbus', bus, 'dangerouslyAllow', i]), layer.layer),
      );
      merged.source = src(['dbus', bus]);
      out.dbus[bus] = merged;
    }

    if (doc.network !== undefined) {
      const n = typeof doc.network === 'string' ? { mode: doc.network } : doc.network;
      out.network = {
        mode: n.mode,
        tcp: {
          connect: [...new Set(n.tcp?.connect ?? [])],
          bind: [...new Set(n.tcp?.bind ?? [])],
          restrictConnect: n.tcp?.connect !== undefined,
          restrictBind: n.tcp?.bind !== undefined,
        },
        udp: 'udp' in n && n.udp !== undefined ? n.udp : n.tcp?.connect === undefined && n.tcp?.bind === undefined,
        unscopedAbstractSockets: 'unscopedAbstractSockets' in n && n.unscopedAbstractSockets === true,
        allow: 'allow' in n ? [...new Set(n.allow ?? [])] : [],
        ...('fallback' in n && n.fallback !== undefined ? { fallback: n.fallback } : {}),
        source: src(['network']),
      };
    }

    const sc = doc.syscalls;
    if (sc !== undefined) {
      if (sc.allow !== undefined) allowDeclared = true;
      (sc.allow ?? []).forEach((e, i) => pushTagged(out.syscalls.allow, e, src(['syscalls', 'allow', i]), layer.layer));
      (sc.deny ?? []).forEach((e, i) => pushTagged(out.syscalls.deny, e, src(['syscalls', 'deny', i]), layer.layer));
      if (sc.action !== undefined) out.syscalls.action = sc.action;
      if (sc.multiarch !== undefined) out.syscalls.multiarch = sc.multiarch;
    }

    unionInto(out.env.keep, doc.env?.keep ?? []);
    for (const [key, raw] of Object.entries(doc.env?.set ?? {})) {
      const r = expandText(raw, vars);
      const keyPath = ['env', 'set', key];
      if (r.kind === 'ok') out.env.set[key] = r.value;
      else if (r.kind === 'unset') {
        // This layer meant to replace the variable; leaving a lower layer's
        // value in place would be neither layer's intent.
        delete out.env.set[key];
        m.skip(raw, src(keyPath), keyPath, r.reason);
      } else m.errors.push(errorAt(src(keyPath), r.message, formatKeyPath(keyPath)));
    }

    Object.assign(out.limits, doc.limits ?? {});
    if (doc.hostname !== undefined) out.hostname = doc.hostname;
    if (doc.nestedSandbox !== undefined) out.nestedSandbox = doc.nestedSandbox;
    if (typeof doc.landlock === 'string') out.landlock = doc.landlock;
    else if (doc.landlock !== undefined) {
      if (doc.landlock.mode !== undefined) out.landlock = doc.landlock.mode;
      if (doc.landlock.logDenials !== undefined) out.landlockLogDenials = doc.landlock.logDenials;
    }
    if (doc.root !== undefined) {
      const r = typeof doc.root === 'string' ? { path: doc.root } : doc.root;
      const keyPath = typeof doc.root === 'string' ? ['root'] : ['root', 'path'];
      let expanded: string | undefined = out.root?.path;
      if (r.path !== undefined) {
        const e = m.path(layer, keyPath, r.path);
        if (e?.glob)
          m.errors.push(
            errorAt(src(keyPath), 'a system tree is one directory: no glob characters', formatKeyPath(keyPath)),
          );
        else expanded = e?.path;
      }
      out.root = { path: expanded, writable: r.writable ?? out.root?.writable ?? false, source: src(['root']) };
    }
    if (doc.uid !== undefined) out.uid = doc.uid;
    (doc.capabilities ?? []).forEach((c, i) => pushTagged(out.capabilities, c, src(['capabilities', i]), layer.layer));
  }

  const off = new Set(out.unprotected.map((u) => u.value));
  out.protect = out.protect.filter((e) => !(e.builtin && off.has(e.path)));
  if (!allowDeclared) out.syscalls.allow.push({ value: DEFAULT_SYSCALL_ALLOW, source: BUILTIN_SOURCE, layer: -1 });
  return { profile: out, errors: m.errors };
}

class Merger {
  readonly errors: ProfileError[] = [];
  readonly skipped: SkippedEntry[] = [];

  constructor(private readonly vars: VarContext) {}

  path(layer: Layer, keyPath: readonly PathSegment[], declared: string): PathEntry | undefined {
    const source = sourceOf(layer.loaded, keyPath);
    const r = expandPath(declared, this.vars);
    if (r.kind === 'ok') return { path: r.value, declared, source, layer: layer.layer, glob: r.glob };
    if (r.kind === 'unset') this.skip(declared, source, keyPath, r.reason);
    else this.errors.push(errorAt(source, r.message, formatKeyPath(keyPath)));
    return undefined;
  }

  skip(entry: string, source: SourceRef, keyPath: readonly PathSegment[], reason: string): void {
    this.skipped.push({ entry, source, keyPath: formatKeyPath(keyPath), reason });
  }
}

function unionInto<T>(into: T[], items: readonly T[]): void {
  for (const item of items) if (!into.includes(item)) into.push(item);
}

/** Appends unless an equal value is already there (objects compared by content). */
function pushTagged<T>(into: Tagged<T>[], value: T, source: SourceRef, layer: number): void {
  const key = canonical(value);
  if (into.some((t) => canonical(t.value) === key)) return;
  into.push({ value, source, layer });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
