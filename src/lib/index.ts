/**
 * The library (SPEC v2): `import { spawn, plan } from 'tsjail'`.
 *
 * `spawn` starts `tsjail run` as a child process of the caller and returns
 * node:child_process's ChildProcess for it: tsjail plans the sandbox in that
 * child, which then becomes the shim's monitor (execve), so the process the
 * caller holds is the sandbox's monitor, its pipes are the program's stdio
 * and its exit code and signal follow SPEC's table. Nothing runs in the
 * caller's event loop but the ChildProcess's own pipes. The caller's pid
 * goes along (TSJAIL_PARENT_PID), and the monitor dies with the caller
 * (the plan's PARENT): when the caller dies, however, the whole sandbox
 * dies with it.
 *
 * `plan` returns the launch plan `tsjail --dry-run` prints, as an object.
 */
import * as child_process from 'node:child_process';
import * as path from 'node:path';
import { packageRoot } from '../sys/package-root.js';

export interface SandboxOptions {
  /** Profile NAME or PATH (`-p`); default: the profile named after the program, else "default". */
  profile?: string;
  /** Paths shown read-only, writable, as empty private directories, or hidden (each must exist). */
  ro?: string[];
  rw?: string[];
  tmpfs?: string[];
  deny?: string[];
  /** Override the profile's network. */
  net?: 'none' | 'host';
  /** Variables set inside the sandbox (`--env NAME=VALUE`), after the profile's. */
  env?: Record<string, string>;
  /** A name for `tsjail ps`, `enter` and `stop`. */
  name?: string;
  /** Say on stderr what is mounted, allowed and skipped. */
  verbose?: boolean;
}

export interface SpawnOptions extends SandboxOptions {
  /** The directory tsjail starts in (the sandbox's working directory follows the profile). */
  cwd?: string;
  /** As node:child_process's; default "pipe" for all three. */
  stdio?: child_process.StdioOptions;
  /** Aborting sends `killSignal` (default SIGTERM) to the sandbox, which passes it to the program. */
  signal?: AbortSignal;
  killSignal?: NodeJS.Signals | number;
  /**
   * The environment tsjail itself runs in (default: process.env). It is not
   * the program's: the profile decides what of it reaches the sandbox.
   */
  callerEnv?: NodeJS.ProcessEnv;
}

/** The launch plan as `tsjail --dry-run` prints it. */
export type LaunchPlanDocument = Record<string, unknown>;

function tsjailBin(): string {
  const root = packageRoot();
  if (!root) throw new Error('tsjail: the package directory was not found');
  return path.join(root, 'bin', 'tsjail.js');
}

/** `run [OPTIONS] -- PROGRAM ARGS...` for these options. */
function runArgs(program: string, args: readonly string[], o: SandboxOptions, extra: string[] = []): string[] {
  const argv = ['run', ...extra];
  if (o.profile !== undefined) argv.push('--profile', o.profile);
  for (const [flag, list] of [
    ['--ro', o.ro],
    ['--rw', o.rw],
    ['--tmpfs', o.tmpfs],
    ['--deny', o.deny],
  ] as const)
    for (const p of list ?? []) argv.push(flag, p);
  if (o.net !== undefined) argv.push('--net', o.net);
  for (const [k, v] of Object.entries(o.env ?? {})) argv.push('--env', `${k}=${v}`);
  if (o.name !== undefined) argv.push('--name', o.name);
  if (o.verbose) argv.push('--verbose');
  return [...argv, '--', program, ...args];
}

/**
 * Run `program` with `args` in a sandbox. The ChildProcess is the sandbox's
 * monitor: write to its stdin, read its stdout and stderr, wait for 'exit'
 * (code: the program's status, 128+N when a signal N killed it, 125 when
 * tsjail refused to start it, with one line on stderr).
 */
export function spawn(
  program: string,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): child_process.ChildProcess {
  const env = { ...(options.callerEnv ?? process.env), TSJAIL_PARENT_PID: String(process.pid) };
  return child_process.spawn(process.execPath, [tsjailBin(), ...runArgs(program, args, options)], {
    cwd: options.cwd,
    env,
    stdio: options.stdio ?? 'pipe',
    signal: options.signal,
    killSignal: options.killSignal,
  });
}

/** The launch plan tsjail would run `program` with; rejects with tsjail's one-line error (and its exit code). */
export function plan(
  program: string,
  args: readonly string[] = [],
  options: SandboxOptions & { cwd?: string; callerEnv?: NodeJS.ProcessEnv } = {},
): Promise<LaunchPlanDocument> {
  return new Promise((resolve, reject) => {
    child_process.execFile(
      process.execPath,
      [tsjailBin(), ...runArgs(program, args, options, ['--dry-run'])],
      { cwd: options.cwd, env: options.callerEnv ?? process.env, maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const e = new Error(stderr.trim().split('\n')[0] || err.message) as Error & { exitCode?: number | null };
          e.exitCode = typeof err.code === 'number' ? err.code : null;
          reject(e);
          return;
        }
        try {
          resolve(JSON.parse(stdout) as LaunchPlanDocument);
        } catch (e) {
          reject(e as Error);
        }
      },
    );
  });
}
