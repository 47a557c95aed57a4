/**
 * `tsjail [OPTIONS] PROGRAM [ARGS...]` and `tsjail run [OPTIONS] [--] PROGRAM [ARGS...]`:
 * load the program's profile, fold in the options, plan the sandbox, and hand
 * over to the shim (or print the plan with --dry-run).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isatty } from 'node:tty';
import { discardPaths } from '../launch/build.js';
import { Command, Option, UsageError } from 'clipanion';
import { TsjailError } from '../errors.js';
import { placeLimits } from '../cgroup/index.js';
import { handOver, replanOf } from '../launch/exec.js';
import { cgroupLimits, currentHardLimits, withProcessLimit } from '../launch/limits.js';
import { planSandbox } from '../launch/sandbox.js';
import { findInTree } from '../mounts/tree.js';
import { planToJson } from '../plan/json.js';
import { findShim } from '../launch/shim-path.js';
import { terminalRelay } from '../launch/tty.js';
import { findProfileForProgram, loadProfile } from '../profile/index.js';
import { isSandboxName } from '../plan/encode.js';
import { recordDir, type SandboxMeta } from '../session/records.js';
import { DEFAULT_PATH } from '../policy/build.js';
import type { FilterCache } from '../policy/seccomp.js';
import { hostProgram, locateProgram, optionToShow } from '../launch/program.js';
import { checkUserns } from '../sys/userns.js';
import { landlockAbi } from '../sys/features.js';
import { startRecording, stopRecording, noteUncacheable, type Recording } from '../cache/record.js';
import {
  cacheableHead,
  cacheDir,
  cacheKey,
  encodeEntry,
  entryPath,
  prepareCacheDir,
  recordTemplate,
  storeEntry,
  withoutArgv,
} from '../cache/store.js';
import { encodePlan } from '../plan/encode.js';
import { describeAllow, probePrivateNetwork } from '../net/plan.js';
import { currentCaller, loadOptions } from './context.js';
import { VERSION } from './version.js';
import { BaseCommand } from './base.js';
import { out, say } from './output.js';
import { verbTypo } from './hints.js';

export class RunCommand extends BaseCommand {
  static override paths = [['run'], Command.Default];

  static override usage = Command.Usage({
    description: 'run a program in a sandbox built from its profile',
    details: `
      The profile is the one named after PROGRAM's basename (or listing it in its \`command\`), else \`default\`.
      Options add to the profile's filesystem view; a PATH given here must exist.
      Everything after PROGRAM is passed to it untouched; use \`--\` before a PROGRAM whose name starts with \`-\`.
    `,
    examples: [
      ['Run Firefox under its profile', '$0 firefox'],
      ['Run a downloaded binary with nothing but the current directory', '$0 -p untrusted ./tool --help'],
      ['Show what would be mounted, without running anything', '$0 --dry-run -v ls'],
    ],
  });

  profile = Option.String('-p,--profile', { description: 'profile NAME, or PATH (contains a / or ends in .json5)' });
  ro = Option.Array('--ro', [], { description: 'show PATH read-only (repeatable)' });
  rw = Option.Array('--rw', [], { description: 'show PATH writable (repeatable)' });
  tmpfs = Option.Array('--tmpfs', [], { description: 'an empty private directory at PATH (repeatable)' });
  deny = Option.Array('--deny', [], { description: 'hide PATH (repeatable)' });
  net = Option.String('--net', { description: "none|host|private: override the profile's network" });
  allowHost = Option.Array('--allow-host', [], {
    description: "HOST[:PORT]: egress only to these hosts, through tsjail's proxy (repeatable; implies --net private)",
  });
  env = Option.Array('--env', [], { description: 'NAME=VALUE set inside (repeatable)' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'print the launch plan as JSON; run nothing' });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'say what is mounted, allowed and skipped' });
  socket = Option.Array('--socket', [], {
    description: 'add socket NAME to the profile: wayland, x11, x11-isolated, pulseaudio, pipewire (repeatable)',
  });
  include = Option.Array('--include', [], {
    description: 'merge snippet NAME (profiles/include/NAME.json5) on top of the profile (repeatable)',
  });
  quiet = Option.Boolean('-q,--quiet', false, {
    description: 'say nothing of the profile chosen or of files left in the private tmpfs',
  });
  memory = Option.String('--memory', {
    description: 'SIZE: the sandbox may use this much memory, e.g. 512M (a cgroup: limits.memory)',
  });
  pids = Option.String('--pids', { description: 'N: at most N processes and threads (limits.pids)' });
  cpu = Option.String('--cpu', { description: 'CPUS: at most this many CPUs worth of time, e.g. 0.5 (limits.cpu)' });
  logDenials = Option.Boolean('--log-denials', false, {
    description: 'have the kernel log what Landlock refuses the program (audit log; Landlock ABI 7)',
  });
  name = Option.String('--name', { description: 'a name for ps, enter and stop (unique among your sandboxes)' });
  root = Option.String('--root', { description: "DIR is the system tree (its /usr, /etc, ...) instead of the host's" });
  uid = Option.String('--uid', { description: '0|caller: the uid and gid the program sees (files stay yours)' });
  reportFd = Option.String('--report-fd', {
    description:
      'N: one JSON object per line on descriptor N for each refusal tsjail sees, naming the key that allows it',
  });
  program = Option.String({ name: 'PROGRAM' });
  args = Option.Proxy({ name: 'ARGS' });

  /** Set by main() when tsjail was started through a symlink named after the program. */
  static dispatchedFrom?: string;
  /** The command line up to PROGRAM as typed (src/cli/main.ts), for the plan cache's key. */
  static head: string[] | undefined;

  /** Where compiled seccomp filters are kept (src/cache/seccomp.ts): the plan cache's directory. */
  private filterCache: FilterCache | undefined;

  async execute(): Promise<number> {
    this.filterCache = this.filterCacheOf();
    const cache = this.cacheTarget();
    if (!cache) return this.launch(undefined);
    startRecording();
    let rec: Recording | undefined;
    try {
      return await this.launch(() => (rec = stopRecording()));
    } finally {
      if (!rec) stopRecording();
    }
  }

  /**
   * Where this launch's plan goes in the plan cache (src/cache/store.ts), if
   * it is one the C entry point can repeat: only -p and -v before PROGRAM,
   * read the same way by clipanion and by the fast path's grammar.
   */
  private cacheTarget(): { file: string; key: string } | undefined {
    const env = process.env;
    if (env.TSJAIL_PLAN_CACHE === 'off' || env.TSJAIL_SHIM !== undefined || this.dryRun) return undefined;
    const h = RunCommand.head ? cacheableHead(RunCommand.head) : undefined;
    if (!h || h.program !== this.program || h.profile !== this.profile || h.verbose !== this.verbose) return undefined;
    const uid = process.getuid!();
    const dir = cacheDir(env);
    if (!dir || prepareCacheDir(dir, uid) !== undefined) return undefined;
    const key = cacheKey(VERSION, uid, h.head);
    return { file: entryPath(dir, key), key };
  }

  /** The plan cache's directory, made ready before anything is recorded, unless TSJAIL_PLAN_CACHE=off. */
  private filterCacheOf(): FilterCache | undefined {
    const env = process.env;
    if (env.TSJAIL_PLAN_CACHE === 'off' || env.TSJAIL_SHIM !== undefined) return undefined;
    const uid = process.getuid!();
    const dir = cacheDir(env);
    if (!dir || prepareCacheDir(dir, uid) !== undefined) return undefined;
    return { dir, uid, version: VERSION };
  }

  private async launch(stop: (() => Recording) | undefined): Promise<number> {
    if (this.net !== undefined && this.net !== 'none' && this.net !== 'host' && this.net !== 'private') {
      throw new UsageError(`--net: expected "none", "host" or "private", got ${JSON.stringify(this.net)}`);
    }
    if (this.program === '') throw new UsageError('PROGRAM is empty');
    if (this.name !== undefined && !isSandboxName(this.name))
      throw new UsageError(
        `--name: ${JSON.stringify(this.name)} is not 1 to 64 of A-Z a-z 0-9 . _ - starting with a letter or digit`,
      );
    const limits = this.limitOptions();
    if (this.uid !== undefined && this.uid !== '0' && this.uid !== 'caller')
      throw new UsageError(`--uid: expected 0 or "caller", got ${JSON.stringify(this.uid)}`);
    const reportFd = this.reportFdOption();
    const caller = currentCaller();
    const opts = { ...loadOptions(caller), includes: this.include, sockets: this.socket };
    const name = path.basename(this.program);
    if (RunCommand.dispatchedFrom !== undefined) this.program = dispatchTarget(name, caller.env.PATH);
    const profileRef = this.profile ?? findProfileForProgram(name, opts).name;
    const profile = loadProfile(profileRef, opts);
    const ll = landlockAbi(caller.env);
    const { policy, built } = planSandbox(
      profile,
      {
        program: this.program,
        args: this.args,
        cli: {
          ro: this.ro,
          rw: this.rw,
          tmpfs: this.tmpfs,
          deny: this.deny,
          net: this.net as 'none' | 'host' | 'private' | undefined,
          allowHost: this.allowHost,
          env: this.env,
          logDenials: this.logDenials,
          limits,
          root: this.root,
          uid: this.uid === undefined ? undefined : this.uid === '0' ? 0 : 'caller',
        },
        verbose: this.verbose,
        createState: !this.dryRun,
        // Refusals are reported on --report-fd, and summed up on stderr at exit with -v.
        ...(reportFd !== undefined || this.verbose
          ? { report: { ...(reportFd !== undefined ? { fd: reportFd } : {}), summary: this.verbose } }
          : {}),
      },
      {
        ...caller,
        landlockAbi: ll.abi,
        landlockUnavailable: ll.unavailable,
        ...(this.filterCache ? { filterCache: this.filterCache } : {}),
        // Probed only when asked for: a plan of another network reads nothing for it.
        ...(this.net === 'private' || this.allowHost.length || profile.network.mode === 'private'
          ? { privateNet: probePrivateNetwork(caller.env) }
          : {}),
      },
    );
    if (policy.root && findInTree(policy.root, this.program, policy.searchPath) === null)
      throw new TsjailError(
        `${this.program}: not found in the system tree ${policy.root.dir} (PATH ${policy.searchPath})`,
      );
    built.plan.tty = terminalRelay(built.plan);
    if (built.plan.tty) {
      const { fds, raw } = built.plan.tty;
      built.notes.push(
        `terminal: descriptors ${fds.join(', ')} are a private pty relayed by tsjail${raw ? ' (the terminal in raw mode while in the foreground)' : ''}`,
      );
    }
    // SPEC: files left in the private tmpfs are said at exit on a terminal, or with -v; never with -q.
    if (!this.quiet && (this.verbose || isatty(2))) built.plan.discard = discardPaths(built.plan);
    // Recorded like the planning: the administrator's file and the hierarchies are dependencies.
    const cg = placeLimits(cgroupLimits(policy.limits), {
      required: policy.limits.required !== false,
      dryRun: this.dryRun,
      host: { uid: caller.uid, env: caller.env },
      description: `tsjail: ${this.program} (profile ${profile.name})`,
    });
    built.notes.push(...cg.notes);
    built.warnings.push(...cg.warnings);
    if (cg.nproc !== undefined)
      built.plan.rlimits = withProcessLimit(built.plan.rlimits, cg.nproc, currentHardLimits(), built.notes);
    // v1's records are the plan's (cached with it); a systemd scope's are made at the hand-over.
    if (this.dryRun || !cg.perLaunch) {
      const ops = cg.ops();
      if (ops.length > 0) built.plan.cgroups = ops;
    }
    for (const w of built.warnings) say(`warning: ${w}`);
    if (this.verbose) {
      say(`profile ${profile.name}: ${profile.files.join(', ')}`);
      for (const op of built.plan.mounts) say(`  ${describeOp(op)}`);
      for (const n of built.notes) say(`  note: ${n}`);
      const n = policy.network;
      const how =
        n.mode !== 'private'
          ? ''
          : n.allow?.length
            ? ` through tsjail-net-proxy to ${describeAllow(n.allow)}`
            : ` with ${n.pasta}`;
      say(`network: ${n.mode}${how}; cwd: ${built.plan.cwd}`);
    }
    const fallback = this.profile === undefined && profile.name === 'default' && name !== 'default';
    if (this.dryRun) {
      if (fallback && !this.quiet) say(fallbackNotice(name));
      out(JSON.stringify(planToJson(built.plan, { profile: profile.name, files: profile.files }), null, 2));
      return 0;
    }
    // With a system tree the program was looked up in the tree (above); the host's files say nothing.
    const where: ReturnType<typeof locateProgram> = policy.root
      ? { state: 'visible' }
      : locateProgram(policy.program, policy.searchPath, built.plan.cwd, built.mounts);
    if (where.state === 'hidden') {
      const by = where.by ? ` (${where.by.role} ${where.by.path}, ${where.by.origin})` : '';
      throw new TsjailError(
        `${this.program}: not found in the sandbox; it exists on the host as ${where.host}, which profile ${profile.name} does not show${by}: ${optionToShow(where.real, caller.home)} shows it`,
        { exitCode: 127 },
      );
    }
    if (where.state === 'absent') {
      const verb = verbTypo(this.program);
      throw new TsjailError(
        verb !== undefined
          ? `${this.program}: no such program, in the sandbox or on the host; did you mean the command \`tsjail ${verb}\`?`
          : `${this.program}: not found in the sandbox, nor on the host${this.program.includes('/') ? '' : ` (PATH ${policy.searchPath})`}`,
        { exitCode: 127 },
      );
    }
    if (fallback && !this.quiet) say(fallbackNotice(name));
    const meta: SandboxMeta = {
      name: this.name ?? '',
      profile: profile.name,
      program: this.program,
      argv: built.plan.argv,
      cwd: built.plan.cwd,
      layers: {
        namespaces: ['user', 'mnt', 'pid', 'ipc', 'uts', 'cgroup', ...(built.plan.net ? ['net'] : [])],
        landlock: built.plan.landlock?.abi ?? null,
        seccomp: built.plan.seccomp
          ? { arch: built.plan.seccomp.arch, instructions: built.plan.seccomp.instructions }
          : null,
        network: policy.network.mode,
      },
    };
    built.plan.record = { dir: recordDir(caller.env, caller.uid), name: meta.name, meta: JSON.stringify(meta) };
    const parent = process.env.TSJAIL_PARENT_PID;
    if (parent !== undefined) {
      // The library (src/lib): the sandbox must not outlive its caller.
      if (!/^\d+$/.test(parent) || Number(parent) !== process.ppid)
        throw new TsjailError(`TSJAIL_PARENT_PID=${parent} is not the parent of this process: the caller is gone`);
      built.plan.parent = Number(parent);
    }
    const shim = findShim();
    const userns = checkUserns(shim);
    if (!userns.ok) throw new TsjailError(userns.message!, { hint: userns.hint });
    if (stop) {
      // Helpers started at the hand-over (their sockets and lifelines are new each time) are not cacheable.
      if (built.plan.dbus || built.plan.nestedX || built.plan.pulse || built.plan.netProxy)
        noteUncacheable('helpers beside the sandbox');
      // The rules name the host's addresses of this moment.
      if (built.plan.netRules) noteUncacheable('a private network');
      // filesystem.args (SPEC v2) shows paths among the arguments: such a plan is the arguments'.
      if (profile.fileArgs.value !== 'none') noteUncacheable('the plan depends on the arguments');
      // A library caller's sandbox (PARENT) is bound to that caller's pid.
      if (built.plan.parent !== undefined) noteUncacheable('a PARENT record');
      const record = built.plan.record ? recordTemplate(built.plan.record, built.plan.argv) : undefined;
      if (built.plan.record && !record) noteUncacheable('the record does not hold the argv where expected');
      if (cg.perLaunch) noteUncacheable('a systemd scope (asked for at each launch)');
      const rec = stop();
      // As the C entry point says why it did not use the cache (after the recording: never replayed).
      if (rec.uncacheable !== undefined && process.env.TSJAIL_CACHE_DEBUG === '1')
        say(`plan cache: not cached: ${rec.uncacheable}`);
      const target = this.cacheTarget();
      const bare =
        rec.uncacheable === undefined && target
          ? withoutArgv(encodePlan({ ...built.plan, record: undefined }), built.plan.argv)
          : undefined;
      if (target && bare && built.plan.argv[0] === this.program)
        storeEntry(target.file, encodeEntry(target.key, rec, bare, record));
    }
    // Not recorded: it removes directories (and a cached launch does without it).
    const swept = cg.sweep();
    if (this.verbose) for (const d of swept) say(`  note: removed a dead sandbox's cgroup ${d}`);
    handOver(built.plan, shim, process.env, replanOf(), cg.perLaunch ? cg.ops : undefined);
  }

  /** --report-fd N: an open descriptor of the caller's, 3 or above (0-2 are the program's). */
  private reportFdOption(): number | undefined {
    if (this.reportFd === undefined) return undefined;
    const fd = Number(this.reportFd);
    if (!/^[0-9]+$/.test(this.reportFd) || fd < 3 || fd > 0x7fffffff)
      throw new UsageError(`--report-fd: expected a descriptor number from 3 up, got ${JSON.stringify(this.reportFd)}`);
    // Node's own descriptors (its event loop's epoll and eventfd) are open too, and
    // close-on-exec like the caller's (Node marks those at start-up): a kernel object
    // with no file behind it is never a caller's report file.
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new UsageError(`--report-fd: descriptor ${fd} is not open`);
    }
    if (target.startsWith('anon_inode:'))
      throw new UsageError(`--report-fd: descriptor ${fd} is not open (it is one of tsjail's own)`);
    return fd;
  }

  /** --memory, --pids, --cpu as profile limits; a bad value is a usage error. */
  private limitOptions(): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    if (this.memory !== undefined) {
      if (!/^[0-9]+[KMG]?$/i.test(this.memory) || /^0+[KMG]?$/i.test(this.memory))
        throw new UsageError(`--memory: expected a size such as 512M or 2G, got ${JSON.stringify(this.memory)}`);
      out.memory = this.memory;
    }
    if (this.pids !== undefined) {
      const n = Number(this.pids);
      if (!/^[0-9]+$/.test(this.pids) || n < 1 || n > 4194304)
        throw new UsageError(
          `--pids: expected a number of processes from 1 to 4194304, got ${JSON.stringify(this.pids)}`,
        );
      out.pids = n;
    }
    if (this.cpu !== undefined) {
      const n = Number(this.cpu);
      if (!/^[0-9]*\.?[0-9]+$/.test(this.cpu) || n < 0.01 || n > 1024)
        throw new UsageError(
          `--cpu: expected a number of CPUs from 0.01 to 1024 such as 0.5, got ${JSON.stringify(this.cpu)}`,
        );
      out.cpu = n;
    }
    return out;
  }
}

/** SPEC: falling back to `default` is said once. */
function fallbackNotice(program: string): string {
  return `no profile for ${program}: using "default" (no display, no network, empty home); see \`tsjail profile list\`, or add --include SNIPPET / --socket NAME`;
}

/**
 * argv[0] dispatch: the real program behind a link named after it, found on
 * the caller's PATH past every link to tsjail itself (never the link again).
 */
function dispatchTarget(name: string, searchPath: string | undefined): string {
  const self = fs.realpathSync(RunCommand.dispatchedFrom!);
  const found = hostProgram(name, searchPath ?? DEFAULT_PATH, self);
  if (found === undefined) {
    throw new TsjailError(
      `${name}: tsjail was started through ${RunCommand.dispatchedFrom}, but no other program named ${name} is on PATH`,
      { exitCode: 127 },
    );
  }
  return found;
}

function describeOp(op: import('../plan/plan.js').MountOp): string {
  const why = op.why ? `  [${op.why}]` : '';
  switch (op.op) {
    case 'bind':
      return `bind ${op.src}${op.src !== op.dest ? ` -> ${op.dest}` : ''} (${op.flags.join(',')})${why}`;
    case 'tmpfs':
      return `tmpfs ${op.dest} (${op.flags.join(',')})${why}`;
    case 'symlink':
      return `symlink ${op.dest} -> ${op.target}`;
    case 'remount':
    case 'bindself':
      return `${op.op} ${op.dest} (${op.flags.join(',')})${why}`;
    case 'devbind':
      return `device ${op.dest}${why}`;
    case 'file':
      return `file ${op.dest}${op.over ? " (ro, over the system tree's)" : ''}${why}`;
    default:
      return `${op.op} ${op.dest}${why}`;
  }
}
