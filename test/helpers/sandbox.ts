/**
 * Running tsjail in tests the way a user does: as an unprivileged user.
 * CI runs as root, so there the tests stage the built tree where the test
 * user can read it (test/setup.ts) and drop to that user with setpriv;
 * a developer who is not root runs the repository's own build directly.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const IS_ROOT = process.getuid!() === 0;
export const TEST_USER = 'tsjailtest';
/** Where every staged tree lives; one name per checkout below it. */
export const STAGE_PREFIX = '/var/tmp/tsjail-test-stage';
/**
 * This checkout's staged tree (test/setup.ts): its own name, so that test
 * runs of other checkouts on the same machine, at the same time, cannot
 * swap their build in under this one.
 */
export const STAGE =
  process.env.TSJAIL_TEST_STAGE ??
  `${STAGE_PREFIX}-${crypto.createHash('sha256').update(REPO).digest('hex').slice(0, 12)}`;

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function idOf(flag: '-u' | '-g', name: string): number {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`test user ${name} is missing: run test/setup.ts (tap does, as its "before" step)`);
  return Number(r.stdout.trim());
}

export function testUser(): TestUser {
  if (!IS_ROOT) {
    const u = os.userInfo();
    return { name: u.username, uid: u.uid, gid: u.gid, home: u.homedir };
  }
  return { name: TEST_USER, uid: idOf('-u', TEST_USER), gid: idOf('-g', TEST_USER), home: `/home/${TEST_USER}` };
}

/** The tree the test user runs: the staged copy under root, else the repository. */
export function tsjailRoot(): string {
  return IS_ROOT ? STAGE : REPO;
}

/** A fresh directory owned by the test user, to serve as HOME or as a work area. */
export function makeUserDir(prefix: string): string {
  const u = testUser();
  const base = IS_ROOT ? u.home : '/var/tmp';
  const dir = fs.mkdtempSync(path.join(base, `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  if (IS_ROOT) fs.chownSync(dir, u.uid, u.gid);
  return dir;
}

/** Write a file as the test user would own it (creating parents). */
export function writeUserFile(file: string, content: string | Buffer, mode = 0o644): void {
  const u = testUser();
  const parts: string[] = [];
  for (let d = path.dirname(file); !fs.existsSync(d); d = path.dirname(d)) parts.unshift(d);
  for (const d of parts) {
    fs.mkdirSync(d, { mode: 0o755 });
    if (IS_ROOT) fs.chownSync(d, u.uid, u.gid);
  }
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
  if (IS_ROOT) fs.chownSync(file, u.uid, u.gid);
}

export function mkUserDir(dir: string, mode = 0o755): void {
  const u = testUser();
  fs.mkdirSync(dir, { recursive: true, mode });
  if (IS_ROOT) fs.chownSync(dir, u.uid, u.gid);
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface RunOptions {
  cwd?: string;
  home?: string;
  env?: Record<string, string>;
  input?: string | Buffer;
  timeout?: number;
  /** Extra fds, e.g. to check they are not inherited. */
  stdio?: ('pipe' | 'ignore' | 'inherit' | number)[];
  /**
   * Keep tsjail's line about limits it cannot enforce on this machine
   * (limits.required: false, e.g. default's pids where no cgroup is
   * delegated). Dropped otherwise: it depends on the machine, not on what a
   * test checks; test/integration/limits.test.ts checks it.
   */
  keepLimitsWarning?: boolean;
}

const LIMITS_WARNING = /^tsjail: warning: not enforced here: limits\.[^\n]*\n/gm;

/** stderr without the machine-dependent line about unenforced limits, unless asked to keep it. */
export function dropLimitsWarning(stderr: string, opts: RunOptions = {}): string {
  return opts.keepLimitsWarning ? stderr : stderr.replace(LIMITS_WARNING, '');
}

export type RunResult = SpawnSyncReturns<string>;

/** The environment a login session of the test user would have. */
export function userEnv(opts: RunOptions): Record<string, string> {
  const u = testUser();
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: opts.home ?? u.home,
    USER: u.name,
    LOGNAME: u.name,
    LANG: 'C.UTF-8',
    ...(opts.env ?? {}),
  };
}

/** argv that runs `cmd` as the test user with exactly `env`. */
export function asUser(cmd: string[], env: Record<string, string>): string[] {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  if (!IS_ROOT) return ['env', '-i', ...envArgs, ...cmd];
  return [
    'setpriv',
    `--reuid=${TEST_USER}`,
    `--regid=${TEST_USER}`,
    '--init-groups',
    '--reset-env',
    'env',
    '-i',
    ...envArgs,
    ...cmd,
  ];
}

export function tsjailArgv(args: string[]): string[] {
  return [process.execPath, path.join(tsjailRoot(), 'bin', 'tsjail.js'), ...args];
}

/** The C entry point (shim-c/fast.c): a launch from the plan cache, else the Node CLI. */
export function tsjailFastArgv(args: string[]): string[] {
  return [path.join(tsjailRoot(), 'shim-c', 'tsjail'), ...args];
}

/** Run `tsjail ARGS...` as the test user and wait for it (`fast`: through the C entry point). */
export function tsjail(args: string[], opts: RunOptions & { fast?: boolean } = {}): RunResult {
  const env = userEnv(opts);
  const argv = asUser(opts.fast ? tsjailFastArgv(args) : tsjailArgv(args), env);
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: opts.cwd ?? opts.home ?? testUser().home,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    stdio: opts.stdio,
    killSignal: 'SIGKILL',
  });
  if (typeof r.stderr === 'string') r.stderr = dropLimitsWarning(r.stderr, opts);
  return r;
}

export interface AsyncRunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * tsjail() without blocking the test, so that independent launches (one per
 * Landlock ABI, say) run side by side; no stdin, same timeout.
 */
export function tsjailAsync(args: string[], opts: RunOptions & { fast?: boolean } = {}): Promise<AsyncRunResult> {
  const argv = asUser(opts.fast ? tsjailFastArgv(args) : tsjailArgv(args), userEnv(opts));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? opts.home ?? testUser().home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr: dropLimitsWarning(stderr, opts) });
    });
  });
}

/** Shell snippet inside the sandbox: `tsjail [opts] sh -c SCRIPT`. */
export function inSandbox(script: string, tsjailOpts: string[] = [], opts: RunOptions = {}): RunResult {
  return tsjail([...tsjailOpts, '--', '/bin/sh', '-c', script], opts);
}
