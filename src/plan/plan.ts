/**
 * The launch plan: everything the C shim needs to build the sandbox and
 * exec the program, as plain data. TypeScript fills it in (src/launch/build.ts),
 * `encodePlan` turns it into the wire format of shim-c/PLAN.md, and
 * `planToJson` is what `--dry-run` prints. This folder is the leaf every
 * stage may import: it imports no other folder of src/ and touches nothing
 * of the system.
 */

export type MountFlag = 'ro' | 'nosuid' | 'nodev' | 'noexec';

export type MountOp =
  | { op: 'tmpfs'; dest: string; mode: number; size: number; flags: MountFlag[]; why?: string }
  | {
      op: 'bind';
      src: string;
      dest: string;
      dev: bigint;
      ino: bigint;
      kind: 'dir' | 'file';
      flags: MountFlag[];
      why?: string;
    }
  | { op: 'mkdir'; dest: string; mode: number; why?: string }
  | { op: 'symlink'; target: string; dest: string; why?: string }
  /** `over`: bound read-only over the existing regular file dest (a system tree's) instead of created (FILEOVER). */
  | { op: 'file'; dest: string; mode: number; content: Uint8Array; why?: string; over?: boolean }
  | { op: 'proc'; dest: string; why?: string }
  | { op: 'devbind'; src: string; dest: string; rdev: bigint; why?: string }
  | { op: 'devpts'; dest: string; why?: string }
  | { op: 'remount'; dest: string; flags: MountFlag[]; why?: string }
  | { op: 'bindself'; dest: string; flags: MountFlag[]; why?: string }
  | { op: 'deny'; dest: string; kind: 'dir' | 'file'; why?: string };

export interface RlimitOp {
  name: string;
  resource: number;
  soft: bigint;
  hard: bigint;
}

/**
 * The sandbox's cgroups (CGROUP and CGWRITE records), applied by the shim's
 * monitor in this order before the clone (src/cgroup decides them at launch):
 *   - cgroup: create the directory `path` (it must not exist); `procs`: the
 *     sandbox's init is moved into it before it unshares its cgroup namespace;
 *     `self`: the monitor moves itself into it (the supervisor leaf of a
 *     systemd scope) and leaves its removal to systemd; `oom`: after the
 *     sandbox, the monitor reads the OOM-kill count of this memory cgroup
 *     (v1 memory.oom_control, v2 memory.events) and, when it rose, prints
 *     `message` and exits 137. Every directory not `self` is removed when the
 *     sandbox is over, also when the monitor is killed (its cleaner).
 *     `named`: the directory is `path/sb-PID-START`, PID and START (field 22
 *     of /proc/PID/stat) the monitor's own, which the monitor names itself;
 *     the plan is then the same at every launch (a cached plan's too).
 *   - write: write `value` into the file `path` (a cgroup's control file);
 *     a bare file name is a file of the nearest earlier cgroup's directory
 *     (how a `named` one's files are named).
 */
export type CgroupOp =
  | {
      op: 'cgroup';
      path: string;
      procs: boolean;
      self: boolean;
      oom?: 'v1' | 'v2';
      message?: string;
      named?: boolean;
    }
  | { op: 'write'; path: string; value: string };

export interface LandlockPlan {
  abi: number;
  fs: bigint;
  net: bigint;
  scoped: bigint;
  flags: number;
  paths: { path: string; access: bigint }[];
  ports: { port: number; access: bigint }[];
}

export interface SeccompPlan {
  arch: string;
  flags: number;
  program: Uint8Array;
  instructions: number;
}

/** One bus xdg-dbus-proxy filters (src/desktop/dbus.ts); started at the hand-over. */
export interface DbusBusPlan {
  bus: 'session' | 'system';
  /** The host bus address the proxy connects to. */
  address: string;
  /** Where the sandbox finds the proxy's socket. */
  inside: string;
  /** xdg-dbus-proxy's policy options for this bus. */
  rules: string[];
}

/** The nested X server of `x11-isolated` (src/desktop/xephyr.ts), started at the hand-over. */
export interface NestedXPlan {
  /** The Xephyr binary. */
  server: string;
  /** The host display it opens its window on, and that display's Xauthority. */
  hostDisplay: string;
  hostXauthority: string;
  /** The host's XDG_RUNTIME_DIR, where its private directory (auth file) goes. */
  hostRuntime?: string;
  /** Display number inside the sandbox. */
  inside: string;
  /** Where the sandbox finds its cookie. */
  xauthority: string;
}

/**
 * The sound server through tsjail-pulse-filter (src/desktop/pulseaudio.ts),
 * started at the hand-over: the filter connects to `server` for each client
 * and shows its own socket at `inside`.
 */
export interface PulsePlan {
  /** The host's PulseAudio native socket (its real path). */
  server: string;
  /** The host's cookie file, which only the filter reads. */
  cookie?: string;
  /** Where the sandbox finds the filter's socket. */
  inside: string;
  /** The host's XDG_RUNTIME_DIR, where the filter's private directory goes. */
  hostRuntime?: string;
}

/**
 * The IPC namespace's System V limits, each > 0: shared memory in bytes
 * (kernel.shmmax; shmall is it in pages), message queues (kernel.msgmax,
 * msgmnb in bytes, msgmni queues) and semaphores (kernel.sem: per set, in
 * all, per semop, sets).
 */
export interface IpcLimits {
  shm: number;
  msgmax: number;
  msgmnb: number;
  msgmni: number;
  semmsl: number;
  semmns: number;
  semopm: number;
  semmni: number;
}

/** A routing policy rule of the sandbox's own network namespace (NETRULE). */
export interface NetRule {
  family: 4 | 6;
  prefix: number;
  /** The network address, 4 or 16 bytes. */
  addr: Uint8Array;
  action: 'unreachable' | 'pass';
  why?: string;
}

/** tsjail-net-proxy (src/net/proxy.ts), started at the hand-over for a "private" network with an allow list. */
export interface NetProxyPlan {
  /** KIND HOST PORT triples (src/net/plan.ts proxyArgs). */
  allow: string[];
  /** The profile's name, for the refusals it writes. */
  profile: string;
  /** Where it listens inside the sandbox (127.0.0.1). */
  port: number;
}

/**
 * A syscall the filter refuses through its listener (SECCOMP_RET_USER_NOTIF)
 * when refusals are reported: the shim's reporter answers it with `errno`,
 * exactly what the filter's own refusal would have returned, and writes
 * `json` (a JSON object without its closing brace, completed with the
 * call's arguments) as one line; `hint` is the summary's text.
 */
export interface ReportedSyscall {
  nr: number;
  errno: number;
  json: string;
  hint: string;
}

/**
 * A call with a path argument the filter allows but hands to the reporter
 * (REPORT_PATH): it goes on, and its path is reported when the sandbox does
 * not show it and the host has it. Argument indexes of the path, of the
 * directory it is relative to and of the open flags (absent: none).
 */
export interface ReportedPath {
  nr: number;
  pathArg: number;
  dirfdArg?: number;
  flagsArg?: number;
  json: string;
  hint: string;
}

/** REPORT and REPORT_SYSCALL: refusals said on a descriptor (a lifeline) and/or summed up on stderr. */
export interface ReportPlan {
  /** The caller's descriptor for the JSON lines (`--report-fd`); absent: the summary only. */
  fd?: number;
  summary: boolean;
  /**
   * Learning (tsjail learn; REPORT flag 2): syscalls with errno 0 are calls
   * the filter allows, let go on and said once; every observed path is said.
   */
  learn?: boolean;
  syscalls: ReportedSyscall[];
  /**
   * REPORT_DBUS: xdg-dbus-proxy's --log on descriptor `fd` (a lifeline, set
   * at the hand-over); `talk` and `own` start the JSON object of a refused
   * message (the reporter adds name, add and member).
   */
  dbus?: { fd: number; talk: string; own: string };
  /** Opens and execs whose paths are looked at (REPORT_PATH); absent: none. */
  paths?: ReportedPath[];
  /** What a refusal of the Landlock rules means, by path (REPORT_LANDLOCK, src/policy/report.ts). */
  landlock?: ReportedLandlock[];
}

/**
 * REPORT_LANDLOCK: a REPORT_PATH call that needs a right of `access` the
 * Landlock rules do not grant at `path` or below it is reported as `json`
 * (the deepest such record; the reporter adds path, access and syscall).
 */
export interface ReportedLandlock {
  path: string;
  access: bigint;
  json: string;
  hint: string;
}

export interface LaunchPlan {
  version: 1;
  /** A new network namespace, with `lo` up (network "none" and "private"). */
  net: boolean;
  /** The user-mode network helper the monitor starts with the namespace's descriptors (NETARG; "private"). */
  netHelper?: string[];
  /** Routing policy rules of that namespace, in order (NETRULE). */
  netRules?: NetRule[];
  /** The filtering proxy to start at the hand-over ("private" with allow). */
  netProxy?: NetProxyPlan;
  /** The proxy's listening socket: made on 127.0.0.1:port inside, sent over LIFELINE fd (NETLISTEN); set at the hand-over. */
  netListen?: { port: number; fd: number };
  uid: number;
  gid: number;
  hostname: string;
  verbose: number;
  mounts: MountOp[];
  cwd: string;
  /**
   * Private tmpfs mount points (paths inside) whose files, made by the
   * program and about to be discarded, the shim reports when it exits.
   */
  discard?: string[];
  rlimits: RlimitOp[];
  env: string[];
  argv: string[];
  exec: { program: string; path: string };
  landlock?: LandlockPlan;
  seccomp?: SeccompPlan;
  /** Refusals reported (`--report-fd`, `-v`): the seccomp filter's through its listener (shim-c/report.c). */
  report?: ReportPlan;
  /**
   * Descriptors the shim's monitor keeps open for the sandbox's lifetime
   * (LIFELINE records); filled in at the hand-over.
   */
  lifelines?: number[];
  /**
   * Which of the caller's descriptors 0-2 are terminals: the program gets a
   * private pty of the devpts instance at `devpts` in their place, relayed
   * by the shim's monitor (TTY record); `raw` puts the caller's terminal in
   * raw mode while the job is in the foreground. Filled in by src/launch/tty.ts.
   */
  tty?: { devpts: string; fds: number[]; raw: boolean };
  /**
   * The sandbox's cgroups and their limits (src/cgroup, at launch: the
   * directory names hold the monitor's pid, so they are never cached).
   */
  cgroups?: CgroupOp[];
  /** The System V IPC limits of the sandbox's IPC namespace (IPC record); absent: the kernel's defaults. */
  ipc?: IpcLimits;
  /**
   * The sandbox's record for `tsjail ps`, `enter` and `stop` (RECORD): the
   * monitor keeps `dir/ID.json` and `dir/ID.plan` for its lifetime, and
   * `dir/NAME.name` when `name` is not empty; `meta` is the JSON object
   * that describes the sandbox (src/session/record.ts).
   */
  record?: { dir: string; name: string; meta: string };
  /** The monitor dies with this process, its parent (PARENT): the library's caller. */
  parent?: number;
  /**
   * Capabilities (numbers, capabilities(7)) the program keeps inside its
   * user namespace, as ambient capabilities (CAPS record); absent: none.
   */
  caps?: number[];
  /**
   * Id maps written from outside by the setuid helpers newuidmap and
   * newgidmap (IDMAP record) instead of the one-id map of IDS: each map
   * "INSIDE OUTSIDE COUNT" triples, the first mapping IDS's ids to the
   * caller's, the next a range of /etc/subuid (subgid).
   */
  idmap?: { newuidmap: string; newgidmap: string; uid: number[]; gid: number[] };
  /** The D-Bus proxy to start at the hand-over, and where its sockets go. */
  dbus?: { buses: DbusBusPlan[]; hostRuntime?: string };
  /** The nested X server to start at the hand-over, whose socket and cookie the sandbox gets. */
  nestedX?: NestedXPlan;
  /** The PulseAudio filter to start at the hand-over. */
  pulse?: PulsePlan;
}

export const RLIM_INFINITY = 0xffffffffffffffffn;
