/**
 * The one way from a merged profile to a launch plan, for `run` and for
 * `profile check`: check plans the sandbox exactly as run does, and leaves
 * out only what depends on the machine at launch time.
 *
 * What check accepts is what run accepts on this machine, for this user,
 * in this directory, whatever the state of the desktop session and the
 * kernel's features:
 *   - the same planning (policy, mount view on this host's files, Landlock,
 *     seccomp compiled for this machine's architecture, limits) and the
 *     plan's encoding, which refuses what the shim would;
 *   - without the caller's environment: the desktop sockets and buses are
 *     taken as absent (run skips an absent one), so a DISPLAY that is not
 *     local or a broken Xauthority does not fail check;
 *   - on a kernel taken to have the newest Landlock ABI tsjail knows: that
 *     a kernel lacks Landlock (required, TCP port lists) is doctor's to say;
 *   - not checked at all: user namespaces, the shim, xdg-dbus-proxy, the
 *     program itself (run's launch-time checks), and the command-line
 *     options (check has none).
 * Every error of the profile's syscalls and D-Bus rules is reported; of the
 * rest of the planning, the first (as run would stop at it).
 */
import { TsjailError } from '../errors.js';
import { forbiddenRules } from '../desktop/dbus.js';
import { LATEST_ABI } from '../landlock/abi.js';
import { encodePlan, PlanEncodeError } from '../plan/encode.js';
import { buildPolicy, type CliOverrides, type Policy } from '../policy/build.js';
import { checkProfileSeccomp, seccompNetwork } from '../policy/seccomp.js';
import type { PrivateSupport } from '../net/plan.js';
import { ProfileError, type MergedProfile } from '../profile/index.js';
import { hostArch } from '../seccomp/compile.js';
import { buildLaunchPlan, type BuildResult } from './build.js';
import type { FilterCache } from '../policy/seccomp.js';

export interface SandboxRequest {
  program: string;
  args: string[];
  cli: CliOverrides;
  verbose: boolean;
  /** A real launch: missing state directories are created (src/mounts/state.ts). */
  createState?: boolean;
  /** Report refusals (src/policy/report.ts): on the caller's descriptor `fd`, and/or summed up at exit. */
  report?: { fd?: number; summary: boolean; learn?: boolean };
}

/** Who launches, where, and what the kernel offers. */
export interface LaunchHost {
  uid: number;
  gid: number;
  home: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The kernel's Landlock ABI (0: none) and, when none, why. */
  landlockAbi: number;
  landlockUnavailable?: string;
  /** What "private" can use here (src/net/plan.ts probePrivateNetwork); absent: taken as available. */
  privateNet?: PrivateSupport;
  /** Compiled filters kept between launches (src/cache/seccomp.ts). */
  filterCache?: FilterCache;
}

export interface Sandbox {
  policy: Policy;
  built: BuildResult;
}

/** Profile + command line -> policy -> launch plan. Throws the first refusal. */
export function planSandbox(profile: MergedProfile, req: SandboxRequest, host: LaunchHost): Sandbox {
  const policy = buildPolicy(profile, req.program, req.args, req.cli, {
    env: host.env,
    cwd: host.cwd,
    home: host.home,
    uid: host.uid,
    privateNet: host.privateNet,
  });
  const built = buildLaunchPlan(policy, {
    uid: host.uid,
    gid: host.gid,
    verbose: req.verbose,
    landlockAbi: host.landlockAbi,
    landlockUnavailable: host.landlockUnavailable,
    createState: req.createState,
    ...(req.report ? { report: req.report } : {}),
    ...(host.filterCache ? { filterCache: host.filterCache } : {}),
  });
  return { policy, built };
}

const NO_OPTIONS: CliOverrides = { ro: [], rw: [], tmpfs: [], deny: [], env: [] };

/** Every refusal of `run` that the profile causes (see the header); [] when run would plan it. */
export function checkSandbox(
  profile: MergedProfile,
  caller: { uid: number; gid: number; home: string; cwd: string },
): Error[] {
  let first: Error;
  try {
    const { built } = planSandbox(
      profile,
      { program: 'true', args: [], cli: NO_OPTIONS, verbose: false },
      { ...caller, env: {}, landlockAbi: LATEST_ABI },
    );
    try {
      encodePlan(built.plan);
      return [];
    } catch (e) {
      if (!(e instanceof PlanEncodeError)) throw e;
      throw new TsjailError(`${profile.name}: the launch plan cannot be encoded: ${e.message}`);
    }
  } catch (e) {
    if (!(e instanceof TsjailError || e instanceof ProfileError)) throw e;
    first = e;
  }
  // The planning stops at its first error; the syscalls and D-Bus rules are
  // checked whole, so that every error of theirs is said at once.
  const errors: Error[] = [
    ...checkProfileSeccomp(profile, seccompNetwork(profile.network), hostArch()).errors,
    ...forbiddenRules(profile.dbus),
  ];
  if (!errors.some((x) => x.message === first.message)) errors.unshift(first);
  return errors;
}
