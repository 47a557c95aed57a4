/**
 * The profile library's acceptance tests (issue 12), table-driven: each
 * entry names a shipped profile, the program it is found by (`tsjail
 * PROGRAM`, the profile chosen by its `command`), the Debian package that
 * holds the program, a real job with its expected result, and one denial
 * the profile must show. Every entry runs in its own home folder holding
 * the same planted secrets; the jobs run side by side (a few at a time) and
 * each subtest then checks its own.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { plantSecrets } from './browser.js';
import { makeUserDir, mkUserDir, removeDir, tsjailAsync, userEnv, type AsyncRunResult } from './sandbox.js';

export interface AppContext {
  /** The entry's home folder (HOME). */
  home: string;
  /** The current directory of the run: HOME/work, owned by the test user. */
  work: string;
  /** Planted files of the user no profile of the library shows, each holding "PROBE-SECRET". */
  secrets: string[];
  /** ~/.ssh/id_probe, the first of them. */
  secret: string;
  /** A loopback HTTP server of the test (see serve()): its base URL, no slash at the end. */
  url: string;
  /** Extra environment of the run (DISPLAY, XAUTHORITY, ...), given by the category's file. */
  env: Record<string, string>;
}

export interface AppRun {
  /** tsjail's arguments: the program by name, then its own. */
  args: (c: AppContext) => string[];
  /** What the result must show. */
  check: (t: Test, r: AsyncRunResult, c: AppContext) => void | Promise<void>;
  timeout?: number;
}

export interface AppCase {
  /** The profile under test; `tsjail PROGRAM` must choose it. */
  profile: string;
  /** The program looked up on PATH outside (to skip when it is missing). */
  program: string;
  /** The Debian package holding it (.ci/run installs it). */
  pkg: string;
  /** The job, in words, for the test's title. */
  job: string;
  /** Input files in c.work and c.home, written as the test user. */
  setup?: (c: AppContext) => void;
  run: AppRun;
  /** The denial, in words. */
  denies: string;
  denial: AppRun;
}

const TYPES: Record<string, string> = { mp4: 'video/mp4', html: 'text/html', txt: 'text/plain', png: 'image/png' };

/**
 * Serves `files` (name -> content) on 127.0.0.1 for the test's duration;
 * `hits` lists every name asked for, so a test can show that a sandbox
 * without network never reached it.
 */
export async function serve(t: Test, files: Record<string, string | Buffer>): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!).slice(1);
    hits.push(name);
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const type = TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-length': Buffer.byteLength(body), 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** Is `program` on the PATH the sandboxes get (the test user's, /usr/local/bin:/usr/bin:/bin)? */
export function onUserPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { env: { PATH: userEnv({}).PATH } }).status === 0;
}

/** Runs `tasks` with at most `n` at a time; each result as its own promise, in order. */
function pool<T>(tasks: (() => Promise<T>)[], n: number): Promise<T>[] {
  let next = 0;
  const out: Promise<T>[] = [];
  const gates: ((v: void) => void)[] = [];
  let running = 0;
  const acquire = () =>
    running < n ? (running++, Promise.resolve()) : new Promise<void>((resolve) => gates.push(resolve));
  const release = () => {
    const g = gates.shift();
    if (g) g();
    else running--;
  };
  for (const task of tasks) {
    const i = next++;
    out[i] = acquire().then(async () => {
      try {
        return await task();
      } finally {
        release();
      }
    });
  }
  return out;
}

/** One comment line of a failed run's stderr and stdout, for the log. */
function tell(t: Test, what: string, r: AsyncRunResult): void {
  t.comment(`${what}: status ${r.status} signal ${r.signal}`);
  if (r.stderr) t.comment(`stderr: ${r.stderr.slice(-2500)}`);
  if (r.stdout) t.comment(`stdout: ${r.stdout.slice(-1000)}`);
}

/**
 * One subtest per case: skipped with the package's name when the program is
 * not installed, else the job and the denial, run by the pool (`jobs` runs
 * at a time) and checked. `env` (DISPLAY, ...) is given to every run.
 */
export async function runAppCases(
  t: Test,
  cases: AppCase[],
  opts: { jobs?: number; env?: Record<string, string>; url?: string } = {},
): Promise<void> {
  const ready = cases.filter((c) => onUserPath(c.program));
  const contexts = new Map<AppCase, AppContext>();
  for (const c of ready) {
    const home = makeUserDir(`app-${c.profile}`);
    t.teardown(() => removeDir(home));
    const secrets = plantSecrets(home);
    const work = path.join(home, 'work');
    mkUserDir(work);
    const cx: AppContext = { home, work, secrets, secret: secrets[0]!, url: opts.url ?? '', env: opts.env ?? {} };
    c.setup?.(cx);
    contexts.set(c, cx);
  }
  const start = (c: AppCase, r: AppRun, flags: string[]) => () => {
    const cx = contexts.get(c)!;
    return tsjailAsync([...flags, ...r.args(cx)], {
      home: cx.home,
      cwd: cx.work,
      env: cx.env,
      timeout: r.timeout ?? 60_000,
    });
  };
  // The job runs with -v, which names the profile tsjail chose.
  const tasks = ready.flatMap((c) => [start(c, c.run, ['-v']), start(c, c.denial, [])]);
  const results = pool(tasks, opts.jobs ?? 3);
  for (const c of cases) {
    const title = `${c.profile}: ${c.job}; ${c.denies}`;
    const i = ready.indexOf(c);
    if (i < 0) {
      t.skip(
        `${title}: ${c.program} is not installed here (Debian package ${c.pkg}; .ci/run installs it)`,
        async () => {},
      );
      continue;
    }
    t.test(title, async (t) => {
      const cx = contexts.get(c)!;
      const job = await results[2 * i]!;
      const denial = await results[2 * i + 1]!;
      t.match(
        job.stderr,
        new RegExp(`profile ${c.profile}: `),
        `tsjail ${c.run.args(cx)[0]} chose the ${c.profile} profile`,
      );
      await c.run.check(t, job, cx);
      await c.denial.check(t, denial, cx);
      if (t.passing()) return;
      tell(t, 'job', job);
      tell(t, 'denial', denial);
    });
  }
}

/** Every planted secret is still there, unchanged (the sandbox wrote nothing into them). */
export function secretsIntact(t: Test, c: AppContext): void {
  for (const s of c.secrets)
    t.match(fs.readFileSync(s, 'utf8'), /^PROBE-SECRET/, `${path.relative(c.home, s)} unchanged`);
}
