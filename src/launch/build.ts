/**
 * Policy -> LaunchPlan, the last step before the hand-over. Its only input
 * is the Policy (and the kernel's facts in BuildContext): it asks the mount
 * planner for the filesystem view, the seccomp compiler for the filter and
 * the Landlock module for the ruleset, and decides the few things that
 * depend on the finished view (the working directory). It reads the host
 * only through the mount planner (lstat, readlink, readdir) and
 * /proc/self/limits (the caller's hard limits).
 */
import { planMounts, visibleDir, type MountPlan } from '../mounts/plan.js';
import type { Policy } from '../policy/build.js';
import { buildLandlock } from '../landlock/ruleset.js';
import { landlockReports } from '../landlock/report.js';
import { profileFilter, seccompNetwork, type FilterCache } from '../policy/seccomp.js';
import {
  OBSERVED_PATH_CALLS,
  LEARNED_WRITE_CALLS,
  learnedCalls,
  learnedPaths,
  learnedSyscalls,
  reportedPaths,
  reportedSyscalls,
} from '../policy/report.js';
import { hostArch } from '../seccomp/compile.js';
import { syscallTable } from '../seccomp/tables/index.js';
import type { LaunchPlan } from '../plan/plan.js';
import { MAX_DISCARDS } from '../plan/encode.js';
import { pastaArgv, privateRules, proxyArgs } from '../net/plan.js';
import { capTmpfs, currentHardLimits, ipcLimits, planLimits, shmLimit, tmpfsLimit } from './limits.js';
import { CAPABILITY_NUMBERS, planIds } from './ids.js';
import type { CapabilityName } from '../profile/types.js';

export interface BuildResult {
  plan: LaunchPlan;
  mounts: MountPlan;
  notes: string[];
  warnings: string[];
}

export interface BuildContext {
  uid: number;
  gid: number;
  verbose: boolean;
  /** The kernel's Landlock ABI (0: none) and, when none, why. */
  landlockAbi: number;
  landlockUnavailable?: string;
  /** Create missing state directories (a real launch); false for --dry-run and profile check. */
  createState?: boolean;
  /** Report refusals (REPORT): as JSON lines on `fd` (--report-fd), and/or summed up on stderr at exit (-v). */
  report?: { fd?: number; summary: boolean; learn?: boolean };
  /** Compiled filters kept between launches (src/cache/seccomp.ts), for a real launch. */
  filterCache?: FilterCache;
}

const REFUSED: Record<Policy['seccomp']['syscalls']['action'], string> = {
  errno: 'fail with EPERM',
  kill: 'kill the program',
  log: 'are logged',
};

export function buildLaunchPlan(policy: Policy, ctx: BuildContext): BuildResult {
  const notes = [...policy.notes];
  const mounts = planMounts({
    requests: policy.fs,
    devices: policy.devices,
    extraOps: policy.extraOps,
    protect: policy.protect,
    secrets: policy.secrets,
    createState: ctx.createState,
    tree: policy.root,
  });
  notes.push(...mounts.notes);
  const warnings = [...mounts.warnings];
  if (policy.unprotected.length > 0 && mounts.nodes.some((n) => n.role === 'rw' && n.stat?.kind === 'dir')) {
    const off = policy.unprotected.map((u) => `${u.path} (${u.origin})`).join(', ');
    warnings.push(`filesystem.unprotect: not kept read-only inside writable directories: ${off}`);
  }

  // The caller's directory when the sandbox shows it, else home, else the root.
  let cwd = '/';
  if (visibleDir(mounts, policy.cwd)) cwd = policy.cwd;
  else if (visibleDir(mounts, policy.home)) cwd = policy.home;
  if (cwd !== policy.cwd) notes.push(`working directory ${policy.cwd} is not visible in the sandbox; using ${cwd}`);

  const landlock = buildLandlock(mounts, {
    mode: policy.landlock.mode,
    abi: ctx.landlockAbi,
    unavailable: ctx.landlockUnavailable,
    network: policy.network,
    logDenials: policy.landlock.logDenials,
  });
  notes.push(...landlock.notes);

  const arch = hostArch();
  const scNet = seccompNetwork(policy.network);
  // Learning hands every call the filter allows to the reporter; reporting, the opens and execs.
  const learn = ctx.report?.learn === true;
  const filter = profileFilter(
    policy.seccomp,
    scNet,
    arch,
    ctx.report !== undefined,
    learn
      ? learnedCalls(syscallTable(arch).all.map((c) => c.name))
      : ctx.report
        ? // With Landlock, the calls that make or remove entries too: their refusals are attributed.
          [...Object.keys(OBSERVED_PATH_CALLS), ...(landlock.plan ? Object.keys(LEARNED_WRITE_CALLS) : [])]
        : undefined,
    ctx.filterCache,
    learn,
  );
  notes.push(
    `seccomp: ${filter.instructions} BPF instructions for ${arch}; refused calls ${REFUSED[policy.seccomp.syscalls.action]}`,
  );

  const shm = shmLimit(policy.limits);
  const ids = planIds(policy.rootInside, ctx, policy.root);
  const idWarnings: string[] = [];
  if (ids.single) {
    const msg = `uid 0: only uid and gid 0 are mapped (${ids.single}); files of other users show as nobody and chown to them fails`;
    if (policy.capabilities.some((c) => ['chown', 'setuid', 'setgid'].includes(c.name))) idWarnings.push(msg);
    else notes.push(msg);
  } else if (ids.subordinateRoot)
    notes.push(
      `uid 0 inside is ${ids.idmap!.uid[1]}, the first of your subordinate ids, who owns the system tree: files it makes in host paths belong to that id`,
    );
  else if (ids.idmap) notes.push(`uid 0 inside, with ids 1..${ids.idmap.uid[5]} mapped to /etc/subuid's range`);
  if (policy.capabilities.length > 0)
    notes.push(
      `capabilities kept inside the user namespace: ${policy.capabilities.map((c) => `${c.name} (${c.origin})`).join(', ')}`,
    );
  const plan: LaunchPlan = {
    version: 1,
    net: policy.network.mode !== 'host',
    ...networkPlan(policy),
    uid: ids.uid,
    gid: ids.gid,
    ...(ids.idmap ? { idmap: ids.idmap } : {}),
    ...(policy.capabilities.length > 0
      ? { caps: policy.capabilities.map((c) => CAPABILITY_NUMBERS[c.name as CapabilityName]) }
      : {}),
    hostname: policy.hostname,
    verbose: ctx.verbose ? 1 : 0,
    mounts: capTmpfs(mounts.ops, tmpfsLimit(policy.limits)),
    cwd,
    rlimits: planLimits(policy.limits, currentHardLimits(), notes),
    ...(shm > 0 ? { ipc: ipcLimits(shm) } : {}),
    env: policy.env,
    argv: [policy.program, ...policy.args],
    exec: { program: policy.program, path: policy.searchPath },
    landlock: landlock.plan,
    seccomp: { arch, flags: 0, program: filter.bytes, instructions: filter.instructions },
    ...(ctx.report
      ? {
          report: {
            ...(ctx.report.fd !== undefined ? { fd: ctx.report.fd } : {}),
            summary: ctx.report.summary,
            ...(learn ? { learn } : {}),
            syscalls: [
              ...reportedSyscalls(filter.notified ?? [], policy.seccomp, scNet),
              ...(learn ? learnedSyscalls(filter.observed ?? []) : []),
            ],
            paths: learn ? learnedPaths(filter.observed ?? []) : reportedPaths(filter.observed ?? []),
            ...(learn ? {} : { landlock: landlockReports(mounts, landlock.plan) }),
          },
          lifelines: ctx.report.fd !== undefined ? [ctx.report.fd] : [],
        }
      : {}),
    dbus: policy.dbus,
    nestedX: policy.nestedX,
    pulse: policy.pulse,
  };
  return { plan, mounts, notes, warnings: [...policy.warnings, ...warnings, ...landlock.warnings, ...idWarnings] };
}

/** The records of a "private" network: pasta and its rules, or the proxy and its port. */
function networkPlan(policy: Policy): Pick<LaunchPlan, 'netHelper' | 'netRules' | 'netProxy'> {
  const n = policy.network;
  if (n.mode !== 'private') return {};
  if (n.proxyPort !== undefined)
    return { netProxy: { allow: proxyArgs(n.allow ?? []), profile: policy.profileName, port: n.proxyPort } };
  if (n.pasta === undefined) return {};
  return { netHelper: pastaArgv(n.pasta), netRules: privateRules() };
}

/**
 * The private tmpfs whose new files are discarded at exit and said so
 * (shim-c/discard.c): every writable tmpfs of the plan but /dev and
 * /dev/shm (devices, shared memory segments) and the runtime directory
 * ($XDG_RUNTIME_DIR: sockets, locks, dconf's change flag; runtime state that
 * the XDG spec has removed at logout, never work to keep), unless a bind
 * covers it whole.
 */
export function discardPaths(plan: Pick<LaunchPlan, 'mounts' | 'env'>): string[] {
  const runtime = plan.env.find((e) => e.startsWith('XDG_RUNTIME_DIR='))?.slice('XDG_RUNTIME_DIR='.length);
  const covered = new Set(plan.mounts.filter((m) => m.op === 'bind').map((m) => m.dest));
  return plan.mounts
    .filter((m) => m.op === 'tmpfs' && !m.flags.includes('ro') && m.dest !== '/dev' && m.dest !== '/dev/shm')
    .map((m) => m.dest)
    .filter((d) => !covered.has(d) && d !== runtime)
    .slice(0, MAX_DISCARDS);
}
