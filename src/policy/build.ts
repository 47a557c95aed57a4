/**
 * One merged model of what the sandbox allows: the merged profile with the
 * command line folded in on top. Launch planning (src/launch/build.ts and
 * the stages it calls: mounts, Landlock, seccomp, limits) reads only this,
 * never a profile. Building it reads the caller's files where the desktop
 * integrations look for sockets and cookies, and checks that command-line
 * paths exist.
 *
 * Command-line paths form the top layer; unlike profile paths they must
 * exist, and relative ones are taken from the current directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { USER_DIR_DEFAULTS, type MergedProfile, type PathEntry, type SourceRef } from '../profile/index.js';
import type { LandlockMode, LimitValue } from '../profile/types.js';
import type { DeviceRequest, FsAccess, FsRequest } from '../mounts/plan.js';
import type { ProtectRequest } from '../mounts/protect.js';
import { secretPaths, type SecretPath } from '../mounts/secrets.js';
import { coversTreeFile, loadRootTree, type RootTree } from '../mounts/tree.js';
import { callerSubids } from '../sys/subid.js';
import { TsjailError } from '../errors.js';
import { devicePaths } from './devices.js';
import { envMatching } from '../cache/record.js';
import type { ProfileSyscalls } from './seccomp.js';
import { planDesktop } from '../desktop/index.js';
import { planPrivate, PROXY_PORT, type PrivateSupport } from '../net/plan.js';
import { formatAllowEntry, parseAllowEntry, type AllowEntry } from '../profile/allow.js';
import type { DbusBusPlan, MountOp, NestedXPlan, PulsePlan } from '../plan/plan.js';

export const CLI_LAYER = 1_000_000;
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface NetworkPolicy {
  mode: 'none' | 'host' | 'private';
  /** "private" only: egress only to these hosts, through tsjail-net-proxy (empty: pasta's user-mode network). */
  allow?: AllowEntry[];
  /** "private" without allow: pasta, found by the probe. */
  pasta?: string;
  /** "private" with allow: the proxy's port on the sandbox's loopback. */
  proxyPort?: number;
  /** Port lists, and whether the profile restricts that direction at all. */
  tcp: { connect: number[]; bind: number[]; restrictConnect: boolean; restrictBind: boolean };
  /** network.udp: with "host", inet sockets other than TCP allowed unless false (then seccomp refuses them). */
  udp?: boolean;
  /**
   * What of the host's desktop the profile reaches through sockets it is
   * given (desktop sockets, D-Bus): with the host's network and no Landlock
   * scoping, the same services' abstract sockets would be in reach past them.
   */
  hostServices?: string[];
  /** The profile's network.unscopedAbstractSockets: start anyway where they cannot be scoped. */
  unscopedAbstractSockets?: boolean;
  /** Where the profile's network key was written, for messages. */
  origin?: string;
}

export interface CliOverrides {
  ro: string[];
  rw: string[];
  tmpfs: string[];
  deny: string[];
  /** Writable paths that stay executable (tsjail learn's widening; no option of run). */
  exec?: string[];
  net?: 'none' | 'host' | 'private';
  /** --allow-host: added to the profile's network.allow; implies "private". */
  allowHost?: string[];
  env: string[];
  /** --log-denials: the kernel logs what Landlock refuses (as the profile's landlock.logDenials). */
  logDenials?: boolean;
  /** --memory, --pids, --cpu: on top of the profile's limits. */
  limits?: Record<string, LimitValue>;
  /** --root DIR: the system tree (relative to the current directory). */
  root?: string;
  /** --uid 0|caller. */
  uid?: 0 | 'caller';
}

export interface Policy {
  /** The profile's name (messages of the helpers beside the sandbox). */
  profileName: string;
  program: string;
  args: string[];
  fs: FsRequest[];
  /** filesystem.protect, the built-in list included, for every writable directory (--rw ones too). */
  protect: ProtectRequest[];
  /** Built-in protect entries a profile switched off (filesystem.unprotect), said on stderr. */
  unprotected: { path: string; origin: string }[];
  devices: DeviceRequest[];
  /** Mount records of the desktop integrations (src/desktop) beside the planner's. */
  extraOps: MountOp[];
  /** The D-Bus proxy to start at the hand-over (src/desktop/dbus.ts), if the profile has a dbus key. */
  dbus?: { buses: DbusBusPlan[]; hostRuntime?: string };
  /** The nested X server of x11-isolated (src/desktop/xephyr.ts), started at the hand-over. */
  nestedX?: NestedXPlan;
  /** The PulseAudio filter to start at the hand-over (src/desktop/pulseaudio.ts). */
  pulse?: PulsePlan;
  network: NetworkPolicy;
  /** The syscall rules, each entry with where it was written (for FILE:LINE errors). */
  seccomp: ProfileSyscalls;
  landlock: { mode: LandlockMode; logDenials: boolean };
  /** setrlimit(2) values by resource name (src/launch/limits.ts). */
  limits: Record<string, LimitValue>;
  hostname: string;
  /** root / --root: the system tree in place of the host's /usr and /etc (src/mounts/tree.ts). */
  root?: RootTree;
  /** uid: 0 / --uid 0: the program sees uid and gid 0 (its files stay the caller's outside). */
  rootInside: boolean;
  /** Capabilities kept inside the user namespace, by name, with where each was written. */
  capabilities: { name: string; origin: string }[];
  /** The program's whole environment, in order. */
  env: string[];
  /** PATH inside, used to find the program. */
  searchPath: string;
  home: string;
  cwd: string;
  /** The caller's secret paths (src/mounts/secrets.ts), for the mount planner. */
  secrets: SecretPath[];
  notes: string[];
  /** Said always, once, on stderr. */
  warnings: string[];
}

export function where(src: SourceRef): string {
  return `${src.file}:${src.line}`;
}

const CWD_VAR = /\$\{CWD(?:_RO)?\}/;
const USER_DIR_VAR = new RegExp(`\\$\\{(${Object.keys(USER_DIR_DEFAULTS).join('|')})\\}`);

/**
 * What makes a profile entry implicit (it does not name the path it reaches,
 * so it never shows a secret or denied path): the current directory, a
 * user directory (its value comes from user-dirs.dirs, not from the profile)
 * or a glob.
 */
export function implicitIn(e: PathEntry): string | undefined {
  if (CWD_VAR.test(e.declared)) return 'the current directory';
  const dir = USER_DIR_VAR.exec(e.declared);
  if (dir) return `\${${dir[1]}} (a user directory, set in user-dirs.dirs)`;
  if (e.glob) return `a match of the glob ${e.declared}`;
  return undefined;
}

/**
 * Where a writable profile path is the application's state, created when
 * missing (src/mounts/state.ts): strictly inside the home or an XDG base
 * directory.
 */
export function stateRoots(env: NodeJS.ProcessEnv, home: string): string[] {
  const xdg = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']
    .map((k) => env[k])
    .filter((v): v is string => v !== undefined && v.startsWith('/') && path.posix.normalize(v) === v);
  return [...new Set([home, ...xdg])].filter((r) => r !== '/');
}

function fromProfile(
  entries: PathEntry[],
  access: FsAccess,
  cwd: string,
  pwd: string,
  stateIn: readonly string[] = [],
): FsRequest[] {
  return entries.map((e) => {
    const req: FsRequest = {
      path: e.path,
      access,
      layer: e.layer,
      origin: where(e.source),
      required: false,
      glob: e.glob,
    };
    if (!e.glob && stateIn.some((r) => e.path.startsWith(`${r}/`))) req.create = true;
    const implicit = implicitIn(e);
    if (implicit === undefined) return req;
    // ${CWD} is the physical directory; say it as the user's shell does.
    const under = !e.glob && pwd !== cwd && (e.path === cwd || e.path.startsWith(`${cwd}/`));
    return under ? { ...req, implicit, spelled: pwd + e.path.slice(cwd.length) } : { ...req, implicit };
  });
}

/**
 * The current directory as the caller's shell spells it: $PWD when it is an
 * absolute, normalised name of the same directory as the physical `cwd`.
 */
export function logicalCwd(env: NodeJS.ProcessEnv, cwd: string): string {
  const pwd = env.PWD?.replace(/(.)\/+$/, '$1');
  if (!pwd?.startsWith('/') || pwd.includes('\0') || path.posix.normalize(pwd) !== pwd) return cwd;
  try {
    const a = fs.statSync(pwd, { bigint: true });
    const b = fs.statSync(cwd, { bigint: true });
    return a.dev === b.dev && a.ino === b.ino ? pwd : cwd;
  } catch {
    return cwd;
  }
}

function fromCli(paths: string[], access: FsAccess, option: string, cwd: string, pwd: string): FsRequest[] {
  return paths.map((p) => {
    if (p === '' || p.includes('\0'))
      throw new TsjailError(`${option}: empty path or NUL byte in ${JSON.stringify(p)}`);
    const abs = path.resolve(cwd, p);
    if (!fs.existsSync(abs)) throw new TsjailError(`${option} ${p}: no such file or directory`);
    const req: FsRequest = { path: abs, access, layer: CLI_LAYER, origin: option, required: true };
    // A relative path names what it names from where the user believes to be.
    const spelled = path.resolve(pwd, p);
    return spelled === abs ? req : { ...req, spelled };
  });
}

/** Where an argument never shows anything: the kernel's trees and device nodes. */
const ARGS_NEVER = ['/proc', '/sys', '/dev', '/run'];

/**
 * filesystem.args (SPEC v2): every argument, and the value of every
 * `--option=VALUE`, that names an existing regular file or directory of the
 * host (relative to the current directory) is shown at that path, read-only
 * or writable as the profile says. Such a grant is implicit: the mount
 * planner refuses it (125) where it is, or leads through a symlink into, a
 * secret or denied path. Never shown, with a note: `/`, the home folder or a
 * folder above it (they would show everything), anything under /proc, /sys,
 * /dev or /run, and what is neither a file nor a directory (device nodes,
 * sockets, FIFOs).
 */
function fromArgs(profile: MergedProfile, args: string[], cwd: string, home: string, notes: string[]): FsRequest[] {
  const mode = profile.fileArgs;
  if (mode.value === 'none') return [];
  const origin = `filesystem.args (${mode.source ? where(mode.source) : 'built-in'})`;
  const out: FsRequest[] = [];
  for (const arg of args) {
    const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
    const word = eq > 0 ? arg.slice(eq + 1) : arg;
    if (word === '' || word.includes('\0') || (arg.startsWith('-') && eq < 0)) continue;
    const abs = path.resolve(cwd, word);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      continue; // not a path of the host: an ordinary argument
    }
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      continue;
    }
    const whole = [abs, real].some((p) => p === '/' || p === home || home.startsWith(`${p}/`));
    const kernel = [abs, real].some((p) => ARGS_NEVER.some((d) => p === d || p.startsWith(`${d}/`)));
    if (whole || kernel || !(st.isFile() || st.isDirectory())) {
      notes.push(
        `${origin}: not shown: the argument ${JSON.stringify(arg)} (${whole ? 'it would show the home folder or all of /' : kernel ? 'a kernel or runtime tree' : 'neither a file nor a directory'})`,
      );
      continue;
    }
    if (out.some((r) => r.path === abs)) continue;
    out.push({
      path: abs,
      access: mode.value,
      layer: mode.layer,
      origin,
      required: false,
      implicit: 'the argument',
      argument: true,
    });
  }
  return out;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** SPEC: cleared, then PATH, env.keep, socket variables, then env.set and --env. */
export function buildEnv(
  caller: NodeJS.ProcessEnv,
  keep: string[],
  socketVars: Record<string, string>,
  set: Record<string, string>,
  cliEnv: string[],
): string[] {
  const env = new Map<string, string>();
  env.set('PATH', caller.PATH && caller.PATH !== '' ? caller.PATH : DEFAULT_PATH);
  for (const [name, value] of envMatching(caller, keep)) if (name !== 'PATH') env.set(name, value);
  for (const [k, v] of Object.entries(socketVars)) env.set(k, v);
  for (const [k, v] of Object.entries(set)) env.set(k, v);
  for (const kv of cliEnv) {
    const eq = kv.indexOf('=');
    const name = eq > 0 ? kv.slice(0, eq) : '';
    if (!ENV_NAME.test(name))
      throw new TsjailError(`--env ${JSON.stringify(kv)}: expected NAME=VALUE with a valid variable name`);
    if (kv.includes('\0')) throw new TsjailError(`--env ${name}: the value contains a NUL byte`);
    env.set(name, kv.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

export function buildPolicy(
  profile: MergedProfile,
  program: string,
  args: string[],
  cli: CliOverrides,
  ctx: { env: NodeJS.ProcessEnv; cwd: string; home: string; uid?: number; privateNet?: PrivateSupport },
): Policy {
  const notes: string[] = profile.skipped.map((s) => `skipped ${s.entry} (${where(s.source)}): ${s.reason}`);
  const warnings: string[] = [];
  const f = profile.filesystem;
  const pwd = logicalCwd(ctx.env, ctx.cwd);
  if (pwd !== ctx.cwd) notes.push(`current directory: $PWD is ${pwd}, physically ${ctx.cwd}`);
  const fsReq: FsRequest[] = [
    ...fromProfile(f.ro, 'ro', ctx.cwd, pwd),
    ...fromProfile(f.rw, 'rw', ctx.cwd, pwd, stateRoots(ctx.env, ctx.home)),
    ...fromProfile(f.exec, 'exec', ctx.cwd, pwd, stateRoots(ctx.env, ctx.home)),
    ...fromProfile(f.tmpfs, 'tmpfs', ctx.cwd, pwd),
    ...fromProfile(f.deny, 'deny', ctx.cwd, pwd),
    ...fromCli(cli.ro, 'ro', '--ro', ctx.cwd, pwd),
    ...fromCli(cli.rw, 'rw', '--rw', ctx.cwd, pwd),
    ...fromCli(cli.exec ?? [], 'exec', 'learn', ctx.cwd, pwd),
    ...fromCli(cli.tmpfs, 'tmpfs', '--tmpfs', ctx.cwd, pwd),
    ...fromCli(cli.deny, 'deny', '--deny', ctx.cwd, pwd),
  ];
  fsReq.push(...fromArgs(profile, args, ctx.cwd, ctx.home, notes));
  const devices: DeviceRequest[] = [];
  for (const d of profile.devices) {
    for (const p of devicePaths(d.value)) devices.push({ path: p, origin: where(d.source) });
  }
  const wantsDbus = profile.dbus.session !== undefined || profile.dbus.system !== undefined;
  const network: NetworkPolicy = {
    ...networkMode(profile, cli, ctx.privateNet ?? { pasta: '/usr/bin/pasta' }, notes, warnings),
    tcp: profile.network.tcp,
    udp: profile.network.udp,
    hostServices: [
      ...(profile.sockets.length ? [`sockets (${[...new Set(profile.sockets.map((s) => s.value))].join(', ')})`] : []),
      ...(wantsDbus ? ['D-Bus'] : []),
    ],
    unscopedAbstractSockets: profile.network.unscopedAbstractSockets,
    origin: profile.network.source ? where(profile.network.source) : undefined,
  };
  const uid = ctx.uid ?? process.getuid!();
  const desktop = planDesktop(profile, { env: ctx.env, uid, home: ctx.home });
  fsReq.push(...desktop.fs);
  notes.push(...desktop.notes);
  const rootDir = cli.root !== undefined ? path.resolve(ctx.cwd, cli.root) : profile.root?.path;
  const writable = profile.root?.writable ?? false;
  const rootOrigin = cli.root !== undefined ? '--root' : profile.root ? where(profile.root.source) : '';
  const root =
    rootDir === undefined
      ? undefined
      : loadRootTree(rootDir, writable, rootOrigin, { uid, subuid: callerSubids(uid).uid });
  if (root) notes.push(`system tree ${root.dir} (${rootOrigin}), ${writable ? 'writable' : 'read-only'}`);
  else if (profile.root?.writable)
    notes.push(
      `root: ${rootOrigin} lets a system tree be writable, but none is given (--root DIR): the host's system, read-only`,
    );
  const netOut =
    network.mode === 'private'
      ? planPrivate(
          network.allow ?? [],
          fsReq,
          !network.allow?.length && root !== undefined && coversTreeFile(root, '/etc/resolv.conf', 'network "private"'),
        )
      : { env: {}, ops: [] };
  let env = buildEnv(ctx.env, profile.env.keep, { ...desktop.env, ...netOut.env }, profile.env.set, cli.env);
  if (network.allow?.length) {
    // The proxy is the only way out: a bypass list would only make clients fail.
    const bypass = env.filter((e) => /^no_proxy=/i.test(e));
    if (bypass.length)
      notes.push(`dropped ${bypass.map((e) => e.split('=')[0]).join(', ')}: the proxy is the only way out`);
    env = env.filter((e) => !/^no_proxy=/i.test(e));
  }
  const searchPath = env.find((e) => e.startsWith('PATH='))!.slice(5);
  return {
    profileName: profile.name,
    program,
    args,
    fs: fsReq,
    protect: profile.protect.map((e) => ({
      path: e.path,
      relative: e.relative,
      glob: e.glob,
      origin: e.builtin ? 'built-in' : where(e.source),
      builtin: e.builtin,
    })),
    unprotected: profile.unprotected.map((u) => ({ path: u.value, origin: where(u.source) })),
    devices,
    extraOps: [...desktop.ops, ...netOut.ops],
    dbus: desktop.dbus.length ? { buses: desktop.dbus, hostRuntime: desktop.hostRuntime } : undefined,
    nestedX: desktop.nestedX,
    pulse: desktop.pulse,
    network,
    seccomp: { syscalls: profile.syscalls, nestedSandbox: profile.nestedSandbox },
    landlock: { mode: profile.landlock, logDenials: (cli.logDenials ?? false) || profile.landlockLogDenials },
    limits: { ...profile.limits, ...cli.limits },
    hostname: profile.hostname,
    root,
    rootInside: (cli.uid ?? profile.uid) === 0,
    capabilities: profile.capabilities.map((c) => ({ name: c.value, origin: where(c.source) })),
    env,
    searchPath,
    home: ctx.home,
    cwd: ctx.cwd,
    secrets: secretPaths({ home: ctx.home, env: ctx.env, uid }),
    notes,
    warnings: [...warnings, ...desktop.warnings],
  };
}

/**
 * The network mode after the command line and this machine: --allow-host
 * implies "private" (it cannot go with --net none or host); "private"
 * without allow needs pasta and a tun device this user may open, else the
 * profile's network.fallback is used (said on stderr) or tsjail refuses.
 */
function networkMode(
  profile: MergedProfile,
  cli: CliOverrides,
  support: PrivateSupport,
  notes: string[],
  warnings: string[],
): Pick<NetworkPolicy, 'mode' | 'allow' | 'pasta' | 'proxyPort'> {
  const cliAllow = cli.allowHost ?? [];
  if (cliAllow.length && (cli.net === 'none' || cli.net === 'host'))
    throw new TsjailError(
      `--allow-host goes through tsjail's proxy in a private network; it cannot go with --net ${cli.net}`,
    );
  const allow: AllowEntry[] = [];
  const fromProfile = cli.net === undefined || cli.net === 'private' ? profile.network.allow : [];
  for (const raw of [...fromProfile, ...cliAllow]) {
    const e = parseAllowEntry(raw);
    if (typeof e === 'string') throw new TsjailError(`--allow-host ${e}`);
    if (!allow.some((a) => formatAllowEntry(a) === formatAllowEntry(e))) allow.push(e);
  }
  let mode = cliAllow.length ? 'private' : (cli.net ?? profile.network.mode);
  if (mode !== 'private') return { mode, allow: [] };
  if (allow.length) return { mode, allow, proxyPort: PROXY_PORT };
  if (support.unavailable === undefined) return { mode, allow, pasta: support.pasta };
  const fallback = cli.net === undefined ? profile.network.fallback : undefined;
  const at = profile.network.source ? ` (${where(profile.network.source)})` : '';
  if (fallback === undefined)
    throw new TsjailError(`network "private"${cli.net ? ' (--net private)' : at} cannot start: ${support.unavailable}`);
  mode = fallback;
  warnings.push(
    `network "private"${at} is not available, using network.fallback "${fallback}": ${support.unavailable}`,
  );
  notes.push(`network: ${fallback} in place of private`);
  return { mode, allow: [] };
}
