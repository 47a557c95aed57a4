/**
 * `tsjail learn [-p BASE] -o FILE [--merge] [--] PROGRAM [ARGS...]` (SPEC v2):
 * run PROGRAM in a recording sandbox and write a JSON5 profile, based on
 * BASE (default `default`), that allows what the run used and nothing more.
 *
 * The recording sandbox is BASE widened so that the program can do its job
 * (the home read-write with its secrets still hidden, the current directory
 * read-write, /opt read-only, the host's network, every
 * desktop socket the session has) under BASE's own syscall rules, whose every
 * allowed call goes to the shim's reporter, which lets it go on and records
 * it (seccomp user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE,
 * shim-c/report.c: unprivileged, no ptrace). The grants are then derived
 * from the record (src/learn/derive.ts). Unlike `run`, this Node process
 * stays beside the sandbox (the shim is its child) to read the record at
 * the end; the sandbox dies with it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import JSON5 from 'json5';
import { Command, Option, UsageError } from 'clipanion';
import { TsjailError } from '../errors.js';
import { encodePlan } from '../plan/encode.js';
import { planSandbox, type LaunchHost } from '../launch/sandbox.js';
import { spawnPlan, startBeside } from '../launch/exec.js';
import { findShim } from '../launch/shim-path.js';
import { findOnPath } from '../desktop/proxy.js';
import { locateProgram } from '../launch/program.js';
import { nodeAt, type MountPlan } from '../mounts/plan.js';
import { SOCKET_NAMES, loadProfile, type MergedProfile } from '../profile/index.js';
import { LOCAL_EXT } from '../profile/locate.js';
import { hostArch } from '../seccomp/compile.js';
import { syscallTable } from '../seccomp/tables/index.js';
import { checkUserns } from '../sys/userns.js';
import { landlockAbi } from '../sys/features.js';
import { expandEntries, learn, renderProfile, type Host, type Observation } from '../learn/derive.js';
import { BUSES, learningTalk, parseNameList, parseProxyLog, type Bus, type DbusUse } from '../learn/dbus.js';
import { SYSTEM_BUS_SOCKET } from '../desktop/dbus.js';
import { hostSocket } from '../desktop/types.js';
import type { MergedDbusBus } from '../profile/merge.js';
import { currentCaller, loadOptions, type Caller } from './context.js';
import { BaseCommand } from './base.js';
import { say } from './output.js';

/** Shown read-only while learning when the host has them (besides the base's). */
const WIDEN_RO = ['/opt'];

export class LearnCommand extends BaseCommand {
  static override paths = [['learn']];

  static override usage = Command.Usage({
    description: 'run a program in a recording sandbox and write a profile that allows what it used',
    details: `
      The program runs under BASE (default \`default\`) widened so that it can do its job: your home read-write (its secrets stay hidden), the current directory read-write, the host's network and the desktop sockets. Every system call, path, socket and address it uses is recorded, and FILE gets a JSON5 profile, commented, that allows those and nothing more, based on BASE.
      With \`--merge\`, FILE gets only what BASE does not already allow: write it as BASE.local.json5 to have it merged on top of BASE.
      Learn only a program you would run outside tsjail: while learning it may write anywhere in your home.
    `,
    examples: [
      ['Learn a profile for a script', '$0 learn -o ~/.config/tsjail/profiles/report.json5 -- ./report.sh'],
      [
        'Add what a new version needs to an existing profile',
        '$0 learn --merge -p vim -o ~/.config/tsjail/profiles/vim.local.json5 -- vim',
      ],
    ],
  });

  profile = Option.String('-p,--profile', { description: 'BASE profile NAME or PATH (default: default)' });
  output = Option.String('-o,--output', {
    description: 'FILE: where the learned profile is written (never over a file)',
  });
  merge = Option.Boolean('--merge', false, {
    description: 'write only what BASE does not allow yet (a NAME.local.json5 diff)',
  });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'say what the learning sandbox shows' });
  program = Option.String({ name: 'PROGRAM' });
  args = Option.Proxy({ name: 'ARGS' });

  async execute(): Promise<number> {
    if (this.output === undefined) throw new UsageError('learn: -o FILE is required (where the profile goes)');
    if (this.program === '') throw new UsageError('PROGRAM is empty');
    const out = path.resolve(this.output);
    if (fs.existsSync(out))
      throw new TsjailError(`${out}: exists; learn never writes over a file: choose another name, or remove it`);
    if (!fs.existsSync(path.dirname(out))) throw new TsjailError(`${path.dirname(out)}: no such directory`);
    if (!out.endsWith('.json5')) throw new TsjailError(`${out}: a profile's name ends in .json5`);
    const caller = currentCaller();
    const opts = loadOptions(caller);
    const baseRef = this.profile ?? 'default';
    const base = loadProfile(baseRef, opts);
    if (this.merge && !path.basename(out).endsWith(`${base.name}${LOCAL_EXT}`))
      say(`note: ${out}: tsjail merges it on top of ${base.name} only as ${base.name}${LOCAL_EXT} on the profile path`);
    const ll = landlockAbi(caller.env);
    const host: LaunchHost = { ...caller, landlockAbi: ll.abi, landlockUnavailable: ll.unavailable };
    // The base as it is, for what it shows already (planned, never run).
    const basePlan = planSandbox(
      base,
      { program: this.program, args: this.args, cli: { ro: [], rw: [], tmpfs: [], deny: [], env: [] }, verbose: false },
      { ...host, env: caller.env },
    );
    // The learning sandbox: the base widened, every allowed call recorded.
    const widenRo = WIDEN_RO.filter((d) => isDir(d));
    const rw = [caller.home, ...(caller.cwd !== '/' && !under(caller.cwd, caller.home) ? [caller.cwd] : [])];
    const learnOpts = { ...opts, sockets: SOCKET_NAMES.filter((s) => s !== 'x11-isolated') };
    const widenedProfile = loadProfile(baseRef, learnOpts);
    // The record: a file only this process and the reporter hold (removed at once).
    const recordDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-learn-'));
    const record = fs.openSync(path.join(recordDir, 'record'), 'w+', 0o600);
    // Every bus the caller has, through a recording proxy of its own whose log goes to a file like it.
    const dbusLogs: Partial<Record<Bus, number>> = {};
    const learnBuses = learningBuses(caller.env, base);
    for (const b of learnBuses) {
      widenedProfile.dbus[b.bus] = b.rules;
      dbusLogs[b.bus] = fs.openSync(path.join(recordDir, `dbus-${b.bus}`), 'w+', 0o600);
    }
    fs.rmSync(recordDir, { recursive: true });
    const { policy, built } = planSandbox(
      widenedProfile,
      {
        program: this.program,
        args: this.args,
        cli: { ro: widenRo, rw, exec: rw, tmpfs: [], deny: [], env: [], net: 'host' },
        verbose: this.verbose,
        createState: true,
        report: { fd: record, summary: false, learn: true },
      },
      host,
    );
    const where = locateProgram(policy.program, policy.searchPath, built.plan.cwd, built.mounts);
    if (where.state !== 'visible')
      throw new TsjailError(`${this.program}: not found in the learning sandbox (PATH ${policy.searchPath})`, {
        exitCode: 127,
      });
    for (const w of built.warnings) say(`warning: ${w}`);
    if (this.verbose) for (const n of built.notes) say(`  note: ${n}`);
    const shim = findShim();
    const userns = checkUserns(shim);
    if (!userns.ok) throw new TsjailError(userns.message!, { hint: userns.hint });
    built.plan.parent = process.pid;
    const { final, abort } = startBeside(built.plan, shim, caller.env, undefined, dbusLogs);
    let status: number;
    // Entries made during the run are told from older ones by their birth (or change) time.
    const started = Date.now() - 1000;
    try {
      status = await spawnPlan(encodePlan(final), shim);
    } finally {
      abort();
    }
    const text = fs.readFileSync(`/proc/self/fd/${record}`, 'utf8');
    fs.closeSync(record);
    const lines = parseRecord(text);
    const dbusUse: Partial<Record<Bus, DbusUse>> = {};
    for (const [bus, fd] of Object.entries(dbusLogs) as [Bus, number][]) {
      dbusUse[bus] = parseProxyLog(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8'));
      fs.closeSync(fd);
    }
    const widened = [
      `${caller.home} read-write (secrets hidden)`,
      ...(rw.length > 1 ? [`${rw[1]} read-write`] : []),
      ...(widenRo.length > 0 ? [`${widenRo.join(', ')} read-only`] : []),
      'the host network',
      'the desktop sockets the session has',
      ...learnBuses.map(
        (b) =>
          `the ${b.bus} bus through a recording xdg-dbus-proxy (talk to the ${b.listed} names it had; owning not widened)`,
      ),
    ];
    const lh = learnHost(caller, base, basePlan.built.mounts, built.mounts, policy.secrets, started);
    const learned = learn(lines, lh, dbusUse);
    for (const [bus, add] of Object.entries(learned.dbus))
      if (add.talk.length + add.own.length > 0)
        say(`learned: D-Bus ${bus} bus: talk ${add.talk.join(' ') || '(none)'}, own ${add.own.join(' ') || '(none)'}`);
    // A local file adds to BASE: a bus BASE has already needs no empty entry.
    if (this.merge)
      for (const bus of BUSES) {
        const add = learned.dbus[bus];
        if (add && add.talk.length + add.own.length === 0 && base.dbus[bus]) delete learned.dbus[bus];
      }
    if (this.merge) learned.sockets = learned.sockets.filter((s) => !base.sockets.some((t) => t.value === s));
    const doc = this.merge ? {} : baseDoc(base);
    const rendered = renderProfile(
      learned,
      lh,
      {
        base: base.name,
        baseFiles: base.files,
        argv: [this.program, ...this.args],
        when: new Date().toISOString().slice(0, 10),
        widened,
        status,
      },
      doc,
      this.merge,
      base.network.mode,
    );
    fs.writeFileSync(out, rendered, { flag: 'wx', mode: 0o644 });
    const n = learned.ro.length + learned.rw.length + learned.exec.length;
    say(
      `learned: ${out}: ${n} path${n === 1 ? '' : 's'}, ${learned.sockets.length} socket${learned.sockets.length === 1 ? '' : 's'}, network ${learned.network.mode === 'none' ? 'none' : learned.network.allow.join(' ')}${this.merge ? '' : `, ${learned.syscalls.length} syscall entries`} (the program exited with ${status})`,
    );
    if (learned.notes.secrets.length > 0)
      say(
        `learned: the program touched secrets, not proposed: ${learned.notes.secrets.slice(0, 8).join(', ')}${learned.notes.secrets.length > 8 ? `, and ${learned.notes.secrets.length - 8} more (see ${out})` : ''}`,
      );
    return status === 0 ? 0 : status;
  }
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The reporter's JSON lines; a line cut short (the sandbox killed mid-write) is left out. */
function parseRecord(text: string): Observation[] {
  return text.split('\n').flatMap((l) => {
    if (l === '') return [];
    try {
      return [JSON.parse(l) as Observation];
    } catch {
      return [];
    }
  });
}

/** The base profile's own document (its file as written, variables unexpanded). */
function baseDoc(base: MergedProfile): Record<string, unknown> {
  const file = base.files.find((f) => path.basename(f) === `${base.name}.json5`);
  if (file === undefined) return {};
  try {
    return JSON5.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A bus address that names a socket path (unix:path=P) -> P, for the check that it exists. */
function socketPathOf(address: string): string | undefined {
  const m = /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(address);
  return m ? m[1] : undefined;
}

/** The well-known names on a bus and activatable there (dbus-send), or undefined when the bus does not answer. */
function busNames(address: string, env: NodeJS.ProcessEnv): string[] | undefined {
  const send = findOnPath('dbus-send', env);
  if (send === undefined) return undefined;
  const names: string[] = [];
  for (const method of ['ListNames', 'ListActivatableNames']) {
    const r = spawnSync(
      send,
      [
        `--bus=${address}`,
        '--print-reply',
        '--reply-timeout=2000',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        `org.freedesktop.DBus.${method}`,
      ],
      { encoding: 'utf8', timeout: 5000, env: { PATH: '/usr/bin:/bin' } },
    );
    if (r.status !== 0) return undefined;
    names.push(...parseNameList(r.stdout));
  }
  return names;
}

/**
 * The buses learning proxies: each bus the caller has (the session bus at
 * its address, the system bus where its socket is) and that answers, with
 * the base's rules widened by a talk rule for each name it has now.
 */
function learningBuses(
  env: NodeJS.ProcessEnv,
  base: MergedProfile,
): { bus: Bus; rules: MergedDbusBus; listed: number }[] {
  const runtime = env.XDG_RUNTIME_DIR;
  const addresses: Record<Bus, string | undefined> = {
    session:
      env.DBUS_SESSION_BUS_ADDRESS ||
      (runtime && hostSocket(path.join(runtime, 'bus')) ? `unix:path=${path.join(runtime, 'bus')}` : undefined),
    system: env.DBUS_SYSTEM_BUS_ADDRESS || `unix:path=${SYSTEM_BUS_SOCKET}`,
  };
  const out: { bus: Bus; rules: MergedDbusBus; listed: number }[] = [];
  for (const bus of BUSES) {
    const address = addresses[bus];
    if (address === undefined) continue;
    const sock = socketPathOf(address);
    if (sock !== undefined && !hostSocket(sock)) continue;
    // Without the proxy the sandbox gets no bus while learning (as under a base without "dbus").
    if (findOnPath('xdg-dbus-proxy', env) === undefined) {
      say(
        'note: xdg-dbus-proxy is not installed: the program gets no D-Bus bus while learning, and no name is learned',
      );
      return out;
    }
    const names = busNames(address, env);
    if (names === undefined) continue;
    const source = { file: 'tsjail learn', line: 0 };
    const had = base.dbus[bus];
    const rules: MergedDbusBus = had
      ? { ...had, talk: [...had.talk], sources: { ...had.sources, talk: [...had.sources.talk] } }
      : {
          talk: [],
          own: [],
          see: [],
          call: [],
          broadcast: [],
          source,
          sources: { talk: [], own: [], see: [], call: [], broadcast: [] },
          dangerouslyAllow: [],
        };
    const add = learningTalk(names, [...rules.talk, ...rules.own]);
    rules.talk.push(...add);
    rules.sources.talk.push(...add.map(() => source));
    out.push({ bus, rules, listed: add.length });
  }
  return out;
}

function learnHost(
  caller: Caller,
  base: MergedProfile,
  mounts: MountPlan,
  learnMounts: MountPlan,
  secrets: Host['secrets'],
  started: number,
): Host {
  const home = caller.home;
  const xdg = (name: string, dflt: string): string => {
    const v = caller.env[name];
    return v && v.startsWith('/') ? path.posix.normalize(v) : path.posix.join(home, dflt);
  };
  const runtime = caller.env.XDG_RUNTIME_DIR;
  return {
    home,
    cwd: caller.cwd,
    xdg: {
      config: xdg('XDG_CONFIG_HOME', '.config'),
      data: xdg('XDG_DATA_HOME', '.local/share'),
      cache: xdg('XDG_CACHE_HOME', '.cache'),
      state: xdg('XDG_STATE_HOME', '.local/state'),
      ...(runtime && runtime.startsWith('/') ? { runtime } : {}),
    },
    secrets,
    real(p) {
      try {
        return fs.realpathSync(p);
      } catch {
        return undefined;
      }
    },
    isDir,
    learnShows(p) {
      const n = nodeAt(learnMounts, p);
      return n !== undefined && (n.role === 'ro' || n.role === 'rw');
    },
    learnOwn(p) {
      const n = nodeAt(learnMounts, p);
      if (n === undefined) return '/';
      return n.role === 'tmpfs' ? n.path : undefined;
    },
    madeDuringRun(p) {
      try {
        const st = fs.lstatSync(p);
        const born = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
        return born >= started;
      } catch {
        return false;
      }
    },
    baseShows(p, access) {
      const n = nodeAt(mounts, p);
      if (n === undefined) return false;
      return access === 'ro' ? n.role === 'ro' || n.role === 'rw' : n.role === 'rw';
    },
    baseSyscalls(network) {
      const entries = base.syscalls.allow.map((t) => t.value);
      const denied = new Set(base.syscalls.deny.map((t) => (typeof t.value === 'string' ? t.value : t.value.name)));
      return expandEntries(entries, { network, nestedSandbox: base.nestedSandbox }).filter(
        (e) => !denied.has(typeof e === 'string' ? e : e.name),
      );
    },
    nativeNames: new Set(syscallTable(hostArch()).all.map((c) => c.name)),
    baseDbus(bus) {
      const b = base.dbus[bus];
      return b ? { talk: b.talk, own: b.own } : undefined;
    },
  };
}
