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
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { plantSecrets } from './browser.js';
import {
  asUser,
  makeUserDir,
  mkUserDir,
  removeDir,
  tsjailArgv,
  tsjailAsync,
  userEnv,
  type AsyncRunResult,
} from './sandbox.js';
import { countColour, type Image } from './png.js';
import { decodeXwd } from './xwd.js';
import { greenVideo } from './media.js';
import { ensureX11Dir, startXvfb, type Xvfb } from './xvfb.js';

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

/**
 * The derivation run of the profiles' syscall lists (scripts/derive-syscalls.mjs):
 * with TSJAIL_LEARN_DIR set, each job (not the denials) runs under `tsjail
 * learn -p PROFILE` instead, writing the learned profile into that folder
 * (which the test user may write), and the cases' checks then only tell
 * what went wrong. Never set in CI: the suite tests the shipped profiles.
 */
const LEARN_DIR = process.env.TSJAIL_LEARN_DIR;

/** tsjail's arguments for a job: `-v ARGS`, or the learning run of it. */
function jobArgs(profile: string, args: string[]): string[] {
  if (LEARN_DIR === undefined) return ['-v', ...args];
  const rest = args[0] === '-p' ? args.slice(2) : args;
  const out = path.join(LEARN_DIR, `${profile}.${crypto.randomBytes(4).toString('hex')}.json5`);
  return ['learn', '-p', profile, '-o', out, '--', ...rest];
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

/**
 * One subtest per case, in the table's order: skipped with the package's
 * name when the program is not installed, else `body` with the case's index
 * among the installed ones.
 */
function eachCase<C extends { program: string; pkg: string }>(
  t: Test,
  cases: C[],
  ready: C[],
  titleOf: (c: C) => string,
  body: (t: Test, c: C, i: number) => Promise<void>,
): void {
  for (const c of cases) {
    const i = ready.indexOf(c);
    if (i < 0)
      t.skip(
        `${titleOf(c)}: ${c.program} is not installed here (Debian package ${c.pkg}; .ci/run installs it)`,
        async () => {},
      );
    else t.test(titleOf(c), (t) => body(t, c, i));
  }
}

/**
 * tsjail's lines (under -v) that say how the display, the sound server and
 * the bus were passed, or why not, and whether the launch was planned again.
 */
const DESKTOP_LINE =
  /^tsjail(-shim)?: (warning: )?(.*\b(x11|X11-unix|Xauthority|display|wayland|pulse|dbus|re-planning|stale)\b.*|network: .*)$/i;
/** tsjail's own lines: the header, mount records, notes (what DESKTOP_LINE picks from). */
const TSJAIL_LINE = /^tsjail(-shim)?: /;

/**
 * What a failed run's stderr says, kept whole however long it is: tsjail's
 * lines about the display and the other desktop services, the first lines
 * the program printed (a client that cannot reach its display says why
 * there, before the noise of its exit), and the end. A plain tail of a
 * verbose run is mostly mount records and cuts off both.
 */
export function stderrDigest(stderr: string, first = 15, tail = 1500): string {
  const lines = stderr.split('\n');
  const desktop = lines.filter((l) => DESKTOP_LINE.test(l)).map((l) => l.slice(0, 400));
  const program = lines.filter((l) => l !== '' && !TSJAIL_LINE.test(l)).slice(0, first);
  const parts = [
    `tsjail's desktop lines: ${desktop.length > 0 ? `\n${desktop.join('\n')}` : 'none'}`,
    `the program's first lines: ${program.length > 0 ? `\n${program.join('\n')}` : 'none'}`,
    `the end: ${stderr.slice(-tail)}`,
  ];
  return parts.join('\n');
}

/** One comment line of a failed run's stderr and stdout, for the log. */
function tell(t: Test, what: string, r: AsyncRunResult): void {
  t.comment(`${what}: status ${r.status} signal ${r.signal}`);
  if (r.stderr) t.comment(`stderr: ${stderrDigest(r.stderr)}`);
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
  const start = (c: AppCase, r: AppRun, job: boolean) => () => {
    const cx = contexts.get(c)!;
    return tsjailAsync(job ? jobArgs(c.profile, r.args(cx)) : r.args(cx), {
      home: cx.home,
      cwd: cx.work,
      env: cx.env,
      timeout: r.timeout ?? 60_000,
    });
  };
  // The job runs with -v, which names the profile tsjail chose. A case's
  // job and denial share its home, so they run one after the other: two
  // LibreOffices creating one user profile side by side (each sandbox has a
  // /tmp of its own, so neither hands over to the other) failed under load.
  const tasks = ready.map((c) => async () => ({
    job: await start(c, c.run, true)(),
    denial: await start(c, c.denial, false)(),
  }));
  const results = pool(tasks, opts.jobs ?? 3);
  eachCase(
    t,
    cases,
    ready,
    (c) => `${c.profile}: ${c.job}; ${c.denies}`,
    async (t, c, i) => {
      const cx = contexts.get(c)!;
      const { job, denial } = await results[i]!;
      t.match(
        job.stderr,
        new RegExp(`profile ${c.profile}: `),
        `tsjail ${c.run.args(cx).join(' ').slice(0, 40)} chose the ${c.profile} profile`,
      );
      await c.run.check(t, job, cx);
      await c.denial.check(t, denial, cx);
      if (t.passing()) return;
      tell(t, 'job', job);
      tell(t, 'denial', denial);
    },
  );
}

/** Every planted secret is still there, unchanged (the sandbox wrote nothing into them). */
export function secretsIntact(t: Test, c: AppContext): void {
  for (const s of c.secrets)
    t.match(fs.readFileSync(s, 'utf8'), /^PROBE-SECRET/, `${path.relative(c.home, s)} unchanged`);
}

/**
 * A graphical application's case: started by name on an Xvfb display of its
 * own (so windows of cases running side by side never overlap), its job is
 * to show `title` in a window name within the time limit, with pixels of
 * the app in a screenshot: at least `share` of them `colour` (a document or
 * picture the test made in that colour), else at least `share` of them not
 * the black of the empty root window. The denial runs the profile (`-p`)
 * with a probe that tries the planted secret and the loopback server.
 */
export interface GuiCase {
  profile: string;
  program: string;
  pkg: string;
  job: string;
  setup?: (c: AppContext) => void;
  args: (c: AppContext) => string[];
  title: RegExp;
  colour?: [number, number, number];
  share: number;
  /** The profile grants the network: the probe then checks the secret only. */
  network?: boolean;
  /** Time for the window to appear (default 45 s). */
  timeout?: number;
  /**
   * A session bus of its own (dbus-daemon, as on a desktop) for the run:
   * the profile's D-Bus rules are then exercised through the proxy. GTK and
   * KDE applications register their name there and quit when the proxy
   * refuses it.
   */
  bus?: boolean;
  /**
   * Once the window is shown: what a user does in it, as a shell script
   * of xdotool commands run as the test user on the display (its
   * window found by name: no window manager here), waited for.
   */
  act?: (c: AppContext) => string;
  /** Checked after the program ended: what the act left behind (a saved file). */
  acted?: (t: Test, c: AppContext) => void;
  /**
   * Windows that must not appear on the test's display (a program of an
   * isolated X server, whose windows live on that server only).
   */
  absent?: RegExp;
}

/** A window of the display whose name matches, as `xwininfo -root -tree` lists it. */
function windowNames(display: number, env: Record<string, string>, home: string): string {
  const argv = asUser(['xwininfo', '-root', '-tree', '-display', `:${display}`], userEnv({ home, env }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  return r.stdout ?? '';
}

/** The display's screenshot (xwd -root). */
export function screenshot(display: number, env: Record<string, string>, home: string): Image {
  const argv = asUser(['xwd', '-root', '-silent', '-display', `:${display}`], userEnv({ home, env }));
  const r = spawnSync(argv[0]!, argv.slice(1), { timeout: 20_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`xwd failed: ${r.stderr}`);
  return decodeXwd(r.stdout);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface GuiResult {
  /** The matching line of xwininfo, or undefined when no window came. */
  window?: string;
  /** Every window name of the display when the shot was taken. */
  names?: string;
  image?: Image;
  stderr: string;
  exited?: number | null;
  /** The act's status and stderr. */
  acted?: string;
}

/** Starts the case's program under tsjail -v on display :n, waits for its window, takes the shot, stops it. */
async function showWindow(c: GuiCase, cx: AppContext, n: number): Promise<GuiResult> {
  const argv = asUser(tsjailArgv(jobArgs(c.profile, c.args(cx))), userEnv({ home: cx.home, env: cx.env }));
  const child = spawn(argv[0]!, argv.slice(1), { cwd: cx.work, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    child.on('close', (code) => {
      exited = code;
      resolve();
    }),
  );
  const out: GuiResult = { stderr: '' };
  // Learning hands every call to the reporter: the window takes longer.
  const end = Date.now() + (c.timeout ?? 45_000) * (LEARN_DIR === undefined ? 1 : 3);
  while (Date.now() < end && exited === undefined) {
    const names = windowNames(n, cx.env, cx.home);
    const line = names
      .split('\n')
      // Not the 10x10 (or 1x1) leader windows GTK and Qt map before the real one.
      .find((l) => c.title.test(l) && !/\s(1x1|10x10)\+/.test(l));
    if (line !== undefined) {
      out.window = line.trim();
      if (c.act) {
        const argv = asUser(['/bin/sh', '-c', c.act(cx)], userEnv({ home: cx.home, env: cx.env }));
        const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
        out.acted = `status ${r.status}: ${r.stderr}`;
      }
      // Let it finish drawing what it just mapped: a big program fills its
      // window seconds after naming it (a canvas, a GL view, a dialog), so
      // the shot is taken again until it shows what the case asks for, for
      // the rest of the time limit and at least 30 s.
      const drawn = Math.max(end, Date.now() + 30_000);
      do {
        await sleep(2000);
        out.image = screenshot(n, cx.env, cx.home);
      } while (share(out.image, c.colour) < c.share && Date.now() < drawn && exited === undefined);
      out.names = windowNames(n, cx.env, cx.home);
      break;
    }
    await sleep(500);
  }
  child.kill('SIGTERM');
  // A learning run writes its profile once the program ended: it gets longer.
  const killer = setTimeout(() => child.kill('SIGKILL'), LEARN_DIR === undefined ? 5000 : 60_000);
  await gone;
  clearTimeout(killer);
  return { ...out, stderr, exited };
}

/** A probe run with python3 under the profile: the secret, then the loopback server. */
const GUI_PROBE = (secret: string, url: string) => `
import socket, urllib.parse
try:
    print("read", open(${JSON.stringify(secret)}).read())
except OSError as e:
    print("secret:", e.__class__.__name__)
u = urllib.parse.urlsplit(${JSON.stringify(url)})
try:
    socket.create_connection((u.hostname, u.port), timeout=5).close()
    print("connected")
except OSError as e:
    print("network:", e.__class__.__name__)
`;

/**
 * A session bus of the test user (dbus-daemon --session) on a socket in
 * HOME/run, stopped at teardown: the variables that name it.
 */
async function startBus(t: Test, home: string): Promise<Record<string, string>> {
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  const env = { XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(runtime, 'bus')}` };
  const argv = asUser(
    ['dbus-daemon', '--session', `--address=${env.DBUS_SESSION_BUS_ADDRESS}`, '--nofork', '--print-address'],
    userEnv({ home, env }),
  );
  const bus = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => {
    bus.kill('SIGTERM');
  });
  // It prints its address once it listens.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address within 30 s')), 30_000);
    bus.stdout.on('data', () => {
      clearTimeout(timer);
      resolve();
    });
    bus.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited (${code}) before it listened`));
    });
  });
  return env;
}

/** The case's X server once its program ran: still running, and what its socket is now. */
function describeXvfb(x: Xvfb): string {
  const socket = `/tmp/.X11-unix/X${x.n}`;
  const st = fs.lstatSync(socket, { bigint: true, throwIfNoEntry: false });
  const what = !st ? 'missing' : st.isSocket() ? `a socket, inode ${st.ino}` : 'not a socket';
  const state =
    x.process.exitCode === null && x.process.signalCode === null
      ? 'running'
      : `ended (${x.process.exitCode ?? x.process.signalCode})`;
  return `Xvfb :${x.n} (pid ${x.process.pid}, socket inode ${x.socketIno ?? 'unknown'} when it started): ${state}; ${socket} is ${what}; its stderr: ${x.log().trim() || 'empty'}`;
}

/** Share of the image's pixels that are `rgb`, or (without rgb) that are not black. */
function share(img: Image, rgb?: [number, number, number]): number {
  const all = img.width * img.height;
  if (rgb) return countColour(img, rgb) / all;
  return 1 - countColour(img, [0, 0, 0], 4) / all;
}

export async function runGuiCases(t: Test, cases: GuiCase[], opts: { jobs?: number; url: string }): Promise<void> {
  const ready = cases.filter((c) => onUserPath(c.program));
  const tasks = ready.map((c) => async () => {
    const home = makeUserDir(`gui-${c.profile}`);
    t.teardown(() => removeDir(home));
    const secrets = plantSecrets(home);
    const work = path.join(home, 'work');
    mkUserDir(work);
    const auth = path.join(home, '.Xauthority');
    const xvfb = await startXvfb(t, home, auth, crypto.randomBytes(16).toString('hex'));
    const { n } = xvfb;
    const env: Record<string, string> = { DISPLAY: `:${n}`, XAUTHORITY: auth };
    if (c.bus) Object.assign(env, await startBus(t, home));
    const cx: AppContext = { home, work, secrets, secret: secrets[0]!, url: opts.url, env };
    c.setup?.(cx);
    const shown = await showWindow(c, cx, n);
    const server = describeXvfb(xvfb);
    const probe = await tsjailAsync(['-p', c.profile, '/usr/bin/python3', '-c', GUI_PROBE(cx.secret, opts.url)], {
      home,
      cwd: work,
      env,
    });
    return { cx, shown, probe, server };
  });
  const results = pool(tasks, opts.jobs ?? 2);
  const titleOf = (c: GuiCase) => `${c.profile}: ${c.job}; sees no home secret${c.network ? '' : ' and no network'}`;
  eachCase(t, cases, ready, titleOf, async (t, c, i) => {
    const { cx, shown, probe, server } = await results[i]!;
    t.match(
      shown.stderr,
      new RegExp(`profile ${c.profile}: `),
      `tsjail ${c.args(cx)[0]} chose the ${c.profile} profile`,
    );
    t.ok(shown.window, `a window named ${c.title} appeared${shown.window ? `: ${shown.window}` : ''}`);
    if (shown.image) {
      const s = share(shown.image, c.colour);
      t.ok(
        s >= c.share,
        `${(s * 100).toFixed(1)}% of the screen ${c.colour ? `is ${c.colour.join(',')}` : 'is not black'} (at least ${c.share * 100}%)`,
      );
    }
    if (c.acted) c.acted(t, cx);
    if (c.absent && shown.names !== undefined)
      t.notMatch(shown.names, c.absent, `no window named ${c.absent} on the test's display`);
    t.match(probe.stdout, /^secret: (FileNotFoundError|PermissionError)$/m, 'the secret is not there');
    if (!c.network) t.match(probe.stdout, /^network: \w+Error$/m, 'the loopback server is out of reach');
    t.notMatch(probe.stdout, /^read /m, 'nothing was read');
    secretsIntact(t, cx);
    if (!t.passing()) {
      t.comment(`exit status before the end: ${shown.exited ?? 'none'}; ${server}`);
      t.comment(`stderr: ${stderrDigest(shown.stderr)}`);
      if (shown.acted) t.comment(`act: ${shown.acted.slice(-1000)}`);
      t.comment(`probe: ${probe.status} ${probe.stdout} ${probe.stderr.slice(-1000)}`);
    }
  });
}

/**
 * A whole test file of graphical cases: skipped, saying what is missing,
 * without Xvfb and the X tools that find and photograph a window; else the
 * cases, with a loopback server serving `files` (context.url).
 */
export async function runGuiFile(
  t: Test,
  cases: GuiCase[],
  files: Record<string, string | Buffer> = {},
  opts: { jobs?: number } = {},
): Promise<void> {
  const tools = ['Xvfb', 'xauth', 'xwd', 'xwininfo', ...(cases.some((c) => c.bus) ? ['dbus-daemon'] : [])];
  const missing = tools.filter((p) => !onUserPath(p));
  if (missing.length > 0) {
    t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
    return;
  }
  ensureX11Dir();
  const server = await serve(t, files);
  await runGuiCases(t, cases, { ...opts, url: server.url });
}

/** A path in the case's home folder. */
export const inHome = (c: AppContext, ...p: string[]) => path.join(c.home, ...p);

/**
 * ~/Videos/NAME (green.mkv unless named): a minute of green video in the
 * case's Videos folder (Theora in Ogg for a name ending .ogv).
 */
export function videos(c: AppContext, name = 'green.mkv'): void {
  mkUserDir(inHome(c, 'Videos'));
  greenVideo(c, inHome(c, 'Videos', name), 60);
}

/** A file of the case's current directory. */
export const file = (c: AppContext, name: string) => path.join(c.work, name);
/** Its text, or undefined when it is not there. */
export const read = (c: AppContext, name: string) =>
  fs.existsSync(file(c, name)) ? fs.readFileSync(file(c, name), 'utf8') : undefined;

/** The run failed and nothing it printed holds a planted secret. */
export function refused(t: Test, r: AsyncRunResult, c: AppContext, message?: RegExp): void {
  t.not(r.status, 0, 'the attempt failed');
  t.notMatch(r.stdout + r.stderr, /PROBE-SECRET/, 'no secret in what it printed');
  if (message) t.match(r.stderr, message, 'because the file is not there');
  secretsIntact(t, c);
}
