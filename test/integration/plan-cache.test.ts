// The compiled-plan cache and the C entry point (shim-c/fast.c, issue 13).
// Every launch goes through shim-c/tsjail as the unprivileged test user;
// TSJAIL_CACHE_DEBUG=1 makes it say whether it ran a cached plan ("hit") or
// why not, and a re-plan shows as a new entry file (a new inode: the Node
// CLI renames a fresh file over the old one). Each change the issue lists
// must re-plan, and what the new plan does must show at once.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  IS_ROOT,
  asUser,
  makeUserDir,
  mkUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailAsync,
  tsjailFastArgv,
  tsjailRoot,
  userEnv,
  writeUserFile,
  type RunOptions,
  type RunResult,
} from '../helpers/sandbox.js';
import { cacheDirOf, decodeEntry, entries } from '../helpers/plan-cache.js';

// About 160 launches, half of them planned by Node: 135 s at a load of 10
// and past tap's 300 s at 15, where it ran out of time near its end.
t.setTimeout(900_000);

const DEBUG = { TSJAIL_CACHE_DEBUG: '1' };
const HIT = 'tsjail: plan cache: hit';

interface Env {
  home: string;
  work: string;
  run(args: string[], o?: RunOptions): RunResult;
}

/** A fresh home (with a profile directory) and a work directory, for one test. */
function fresh(t: Test, name: string): Env {
  const home = makeUserDir(`plan-cache-${name}`);
  const work = path.join(home, 'work');
  mkUserDir(work);
  t.teardown(() => removeDir(home));
  return {
    home,
    work,
    run: (args, o = {}) => tsjail(args, { home, cwd: work, ...o, env: { ...DEBUG, ...(o.env ?? {}) }, fast: true }),
  };
}

const hit = (r: RunResult): boolean => r.stderr.split('\n').includes(HIT);
const withoutDebug = (s: string): string =>
  s
    .split('\n')
    .filter((l) => !l.startsWith('tsjail: plan cache: '))
    .join('\n');

/** The inode of the only entry, or undefined. */
function entryIno(home: string): bigint | undefined {
  const e = entries(cacheDirOf(home));
  return e[0] ? fs.statSync(e[0], { bigint: true }).ino : undefined;
}

/** Launch once to cache, once to see it used; returns the entry's inode. */
function primed(t: Test, env: Env, args: string[], o: RunOptions = {}): bigint {
  const first = env.run(args, o);
  t.equal(first.status, 0, `first launch plans: ${first.stderr}`);
  const second = env.run(args, o);
  t.ok(hit(second), `the second launch runs the cached plan: ${second.stderr}`);
  t.equal(second.status, 0);
  return entryIno(env.home)!;
}

t.test(
  'a launch caches its plan (0600 in a 0700 directory) and the next one runs it with its own arguments',
  async (t) => {
    const env = fresh(t, 'basic');
    const script = 'echo "$0" "$@"';
    const a = env.run(['/bin/sh', '-c', script, 'zero', 'one']);
    t.equal(a.status, 0, a.stderr);
    t.equal(a.stdout, 'zero one\n');
    t.notOk(hit(a), 'nothing cached yet');
    const dir = cacheDirOf(env.home);
    const st = fs.statSync(dir);
    t.equal(st.mode & 0o777, 0o700, 'the directory is 0700');
    t.equal(st.uid, testUser().uid, "the directory is the user's");
    const [file] = entries(dir);
    t.ok(file, 'one entry');
    const fst = fs.lstatSync(file!);
    t.ok(fst.isFile());
    t.equal(fst.mode & 0o777, 0o600, 'the entry is 0600');
    t.equal(fst.uid, testUser().uid);
    const e = decodeEntry(fs.readFileSync(file!));
    t.ok(e.deps.length > 10, `the entry lists what the plan depends on (${e.deps.length} dependencies)`);
    const b = env.run(['/bin/sh', '-c', script, 'other', 'args', 'here']);
    t.ok(hit(b), b.stderr);
    t.equal(b.stdout, 'other args here\n', 'the cached plan runs with the new arguments');
    t.equal(b.status, 0);
  },
);

t.test('exit statuses and errors are the same from a cached plan', async (t) => {
  const env = fresh(t, 'status');
  for (const [args, code] of [
    [['/bin/sh', '-c', 'exit 7'], 7],
    [['/bin/sh', '-c', 'kill -TERM $$'], 128 + 15],
    // Refused before a plan is made (src/cli/run.ts): said by the Node CLI each time.
    [['/no/such/program'], 127],
  ] as const) {
    const cold = env.run([...args]);
    const warm = env.run([...args]);
    t.equal(cold.status, code, `${args.join(' ')}: ${cold.stderr}`);
    if (code !== 127) t.ok(hit(warm), `cached: ${warm.stderr}`);
    t.equal(warm.status, code, 'the same status from the cached plan');
    t.equal(withoutDebug(warm.stderr), withoutDebug(cold.stderr), 'the same words on stderr');
  }
});

t.test('-v says the same from a cached plan', async (t) => {
  const env = fresh(t, 'verbose');
  const cold = env.run(['-v', '/bin/true']);
  const warm = env.run(['-v', '/bin/true']);
  t.equal(cold.status, 0, cold.stderr);
  t.ok(hit(warm), warm.stderr);
  t.match(warm.stderr, /tsjail: profile default: /);
  t.match(warm.stderr, /tsjail-shim: pivoted into the sandbox root/);
  // tsjail's own lines in order; the shim's as a set, since its monitor (the
  // record) and init (the mounts) print side by side, with the record's ID new each time.
  const lines = (s: string, shim: boolean): string[] =>
    withoutDebug(s)
      .split('\n')
      .filter((l) => l.startsWith('tsjail-shim: ') === shim)
      .map((l) => l.replace(/[0-9a-f]{12}\.json$/, 'ID.json'));
  t.same(lines(warm.stderr, false), lines(cold.stderr, false), "tsjail's lines, in order");
  t.same(lines(warm.stderr, true).sort(), lines(cold.stderr, true).sort(), "the shim's lines");
});

t.test('editing the profile re-plans: a new deny takes effect at once', async (t) => {
  const env = fresh(t, 'profile');
  const data = path.join(env.home, 'data');
  writeUserFile(path.join(data, 'secret.txt'), 'SECRET\n');
  const prof = path.join(env.home, '.config/tsjail/profiles/p.json5');
  writeUserFile(prof, `{ filesystem: { ro: ["${data}"] } }\n`);
  const args = ['-p', 'p', '/bin/cat', path.join(data, 'secret.txt')];
  const ino = primed(t, env, args);
  writeUserFile(prof, `{ filesystem: { ro: ["${data}"], deny: ["${data}/secret.txt"] } }\n`);
  const r = env.run(args);
  t.notOk(hit(r), 'the edited profile is not served from the cache');
  t.not(r.status, 0, 'the new deny holds at once');
  t.notMatch(r.stdout, /SECRET/);
  t.not(entryIno(env.home), ino, 're-planned');
});

t.test('editing a snippet re-plans', async (t) => {
  const env = fresh(t, 'snippet');
  const data = path.join(env.home, 'data');
  writeUserFile(path.join(data, 'f'), 'F\n');
  writeUserFile(
    path.join(env.home, '.config/tsjail/profiles/include/s.json5'),
    `{ filesystem: { ro: ["${data}"] } }\n`,
  );
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/p.json5'), '{ include: ["s"] }\n');
  const args = ['-p', 'p', '/bin/cat', path.join(data, 'f')];
  primed(t, env, args);
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/include/s.json5'), '{ filesystem: { ro: [] } }\n');
  const r = env.run(args);
  t.notOk(hit(r), r.stderr);
  t.not(r.status, 0, 'the directory the snippet no longer grants is gone');
});

t.test('a granted path removed, or replaced by a symlink, re-plans', async (t) => {
  const env = fresh(t, 'paths');
  const data = path.join(env.home, 'data');
  const other = path.join(env.home, 'other');
  writeUserFile(path.join(data, 'f'), 'OLD\n');
  writeUserFile(path.join(other, 'f'), 'OTHER\n');
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/p.json5'), `{ filesystem: { ro: ["${data}"] } }\n`);
  const args = ['-p', 'p', '/bin/sh', '-c', `cat ${data}/f 2>&1 || echo none`];
  primed(t, env, args);
  removeDir(data);
  let r = env.run(args);
  t.notOk(hit(r), `removed: ${r.stderr}`);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /none|No such file/, 'the removed directory is not shown');
  primed(t, env, args);
  fs.symlinkSync(other, data);
  if (IS_ROOT) fs.lchownSync(data, testUser().uid, testUser().gid);
  r = env.run(args);
  t.notOk(hit(r), `now a symlink: ${r.stderr}`);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'OTHER\n', 'the symlink is planned as it is now');
});

t.test('DISPLAY, WAYLAND_DISPLAY, HOME, the working directory and TSJAIL_LANDLOCK_ABI each re-plan', async (t) => {
  const env = fresh(t, 'env');
  const args = ['/bin/sh', '-c', 'echo "$HOME"; pwd'];
  // The display variables are read for a profile with display sockets (default has none, and passes neither).
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/disp.json5'), '{ sockets: ["wayland", "x11"] }\n');
  const display = ['-p', 'disp', ...args];
  primed(t, env, args);
  primed(t, env, display);
  const changes: [string[], Record<string, string>][] = [
    [display, { DISPLAY: ':93' }],
    [display, { WAYLAND_DISPLAY: 'wayland-93' }],
    [args, { TSJAIL_LANDLOCK_ABI: '1' }],
  ];
  for (const [a, v] of changes) {
    const r = env.run(a, { env: v });
    t.notOk(hit(r), `${Object.keys(v)[0]} set: ${r.stderr}`);
    t.equal(r.status, 0, r.stderr);
    const again = env.run(a, { env: v });
    t.ok(hit(again), `and cached as such: ${again.stderr}`);
  }
  const abi = env.run(['-v', '/bin/true'], { env: { TSJAIL_LANDLOCK_ABI: '1' } });
  t.match(abi.stderr, /landlock ABI 1/, 'the lowered ABI is the one planned');
  const other = path.join(env.home, 'work2');
  mkUserDir(other);
  const cwd = env.run(args, { cwd: other });
  t.notOk(hit(cwd), `another working directory: ${cwd.stderr}`);
  t.match(cwd.stdout, /work2/);
  const home2 = makeUserDir('plan-cache-home2');
  t.teardown(() => removeDir(home2));
  const h = env.run(args, { home: home2 });
  t.notOk(hit(h), `another HOME: ${h.stderr}`);
  t.match(h.stdout, new RegExp(home2));
});

t.test(
  'of the mount table only the cgroup lines are a dependency: a mount elsewhere keeps the plan, a cgroup mount or one over a cgroup directory re-plans',
  { skip: IS_ROOT ? false : 'mounting needs root (a mount namespace of its own, so nothing outside sees the mounts)' },
  async (t) => {
    const env = fresh(t, 'mounts');
    const args = ['/bin/sh', '-c', 'echo ran'];
    primed(t, env, args);
    const entry = decodeEntry(fs.readFileSync(entries(cacheDirOf(env.home))[0]!));
    const table = entry.deps.find((d) => d.kind === 13 && d.path === '/proc/self/mountinfo');
    t.ok(table, 'the cgroup layout (default caps processes) depends on the mount table');
    t.same(table?.fstypes, ['cgroup', 'cgroup2'], 'on its cgroup lines');
    const types = (table?.lines ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' - ')[1]!.split(' ')[0]);
    t.ok(
      types.every((x) => x === 'cgroup' || x === 'cgroup2'),
      `and on no other line: ${types.join(' ')}`,
    );
    t.notOk(
      entry.deps.some((d) => d.kind === 5 && d.path === '/proc/self/mountinfo'),
      'not on the whole table',
    );
    // Every launch and mount in one mount namespace of root's (private propagation): the machine sees none of it.
    const dir = fs.mkdtempSync('/var/tmp/tsjail-plan-mounts-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (const d of ['elsewhere', 'cg']) fs.mkdirSync(path.join(dir, d));
    const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const launch = asUser(tsjailFastArgv(args), userEnv({ home: env.home, env: DEBUG }))
      .map(q)
      .join(' ');
    const cg2 = "awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo";
    const script = [
      'set -u',
      `cd ${q(env.work)}`,
      `step() { echo "@@$1"; ${launch} 2>&1; }`,
      'step first',
      'step again',
      `mount -t tmpfs tsjail-test ${q(path.join(dir, 'elsewhere'))} && step elsewhere`,
      `mount -t cgroup2 none ${q(path.join(dir, 'cg'))} && step cgroup && step cgroup-again`,
      `umount ${q(path.join(dir, 'cg'))} && step cgroup-gone && step cgroup-gone-again`,
      `c=$(${cg2}); [ -n "$c" ] && mount -t tmpfs tsjail-test "$c" && step over`,
      'echo @@end',
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    t.equal(r.status, 0, r.stderr);
    const steps = new Map<string, string>();
    for (const part of r.stdout.split('@@').slice(1)) {
      const nl = part.indexOf('\n');
      steps.set(part.slice(0, nl), part.slice(nl + 1));
    }
    if (!t.ok(steps.has('end'), 'the script ran to its end')) t.comment(r.stdout + r.stderr);
    const said = (name: string): string => steps.get(name) ?? '';
    const ran = (name: string): boolean => said(name).split('\n').includes('ran');
    const cached = (name: string): boolean => said(name).split('\n').includes(HIT);
    for (const name of steps.keys()) if (name !== 'end') t.ok(ran(name), `${name}: the sandbox ran: ${said(name)}`);
    // The namespace's own table numbers its mounts anew: its first launch plans.
    t.ok(cached('again'), `cached in the namespace: ${said('again')}`);
    t.ok(
      cached('elsewhere'),
      `a file system mounted where the planner never looked keeps the plan: ${said('elsewhere')}`,
    );
    t.notOk(cached('cgroup'), `a new cgroup mount re-plans: ${said('cgroup')}`);
    t.match(said('cgroup'), /changed: dependency \d+ of \d+ \(kind 13 \/proc\/self\/mountinfo\)/);
    t.ok(cached('cgroup-again'), `then cached: ${said('cgroup-again')}`);
    t.notOk(cached('cgroup-gone'), `a cgroup mount gone re-plans: ${said('cgroup-gone')}`);
    t.ok(cached('cgroup-gone-again'), said('cgroup-gone-again'));
    if (steps.has('over'))
      t.notOk(cached('over'), `a file system over the cgroup directory it read re-plans: ${said('over')}`);
    else t.skip('no cgroup2 mount on this machine to mount over', async () => {});
  },
);

t.test('only the variables env.keep passes through are dependencies: others change without re-planning', async (t) => {
  const env = fresh(t, 'envkeep');
  const args = ['/bin/sh', '-c', 'echo "${LC_TSJAIL_TEST-unset}"; echo "${NOISE-unset}"'];
  primed(t, env, args, { env: { NOISE: 'a' } });
  // hyperfine's HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET, OLDPWD, SHLVL: not passed through, not read.
  const noise: Record<string, string>[] = [{ NOISE: 'bb' }, { NOISE: 'a', OTHER_NOISE: 'x' }, {}];
  for (const v of noise) {
    const r = env.run(args, { env: v });
    t.ok(hit(r), `${JSON.stringify(v)}: a variable the plan does not pass is no dependency: ${r.stderr}`);
    t.equal(r.stdout, 'unset\nunset\n', 'and it is not passed');
  }
  // default keeps LC_*: a new one, or a new value, is planned again and passed at once.
  for (const value of ['one', 'two']) {
    const r = env.run(args, { env: { LC_TSJAIL_TEST: value } });
    t.notOk(hit(r), `LC_TSJAIL_TEST=${value} (matching LC_*) re-plans: ${r.stderr}`);
    t.equal(r.stdout, `${value}\nunset\n`, 'and is passed');
    const again = env.run(args, { env: { LC_TSJAIL_TEST: value, NOISE: value } });
    t.ok(hit(again), `then cached: ${again.stderr}`);
    t.equal(again.stdout, `${value}\nunset\n`);
  }
  const gone = env.run(args);
  t.notOk(hit(gone), 'a kept variable removed re-plans');
  t.equal(gone.stdout, 'unset\nunset\n');
  // Names minimatch and the fast path's match could see differently: never trusted, always planned.
  for (const name of ['LC_TSJAIL/X', '.LC_TSJAIL', 'LC_TSJAIL\u00e9']) {
    const r = env.run(args, { env: { [name]: '1' } });
    t.notOk(hit(r), `${JSON.stringify(name)} in the environment: planned by Node: ${r.stderr}`);
    t.equal(r.status, 0, r.stderr);
  }
});

t.test('a new tsjail (the planner changed) re-plans', async (t) => {
  // A copy of the tree whose bundle then changes, as an upgrade replaces it.
  const root = fs.mkdtempSync('/var/tmp/tsjail-upgrade-');
  t.teardown(() => removeDir(root));
  for (const item of ['package.json', 'bin', 'dist', 'profiles', 'shim-c/tsjail', 'shim-c/tsjail-shim']) {
    fs.mkdirSync(path.dirname(path.join(root, item)), { recursive: true });
    spawnSync('cp', ['-a', path.join(tsjailRoot(), item), path.join(root, item)]);
  }
  fs.symlinkSync(path.join(tsjailRoot(), 'node_modules'), path.join(root, 'node_modules'));
  spawnSync('chmod', ['-R', 'a+rX', root]);
  fs.chmodSync(root, 0o755);
  const env = fresh(t, 'upgrade');
  const argv = asUser([path.join(root, 'shim-c/tsjail'), '/bin/true'], {
    HOME: env.home,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...DEBUG,
  });
  const launch = (): RunResult => spawnSync(argv[0]!, argv.slice(1), { cwd: env.work, encoding: 'utf8' });
  t.equal(launch().status, 0);
  t.ok(hit(launch()), 'cached');
  fs.appendFileSync(path.join(root, 'dist/tsjail.cjs'), '\n// a new version\n');
  const r = launch();
  t.notOk(hit(r), `the changed planner is not bypassed: ${r.stderr}`);
  t.equal(r.status, 0, r.stderr);
});

t.test('a damaged or untrustworthy entry is ignored and replaced, never run', async (t) => {
  const env = fresh(t, 'damage');
  const args = ['/bin/sh', '-c', 'echo ran "$@"', 'sh', 'x', 'y'];
  const damages: [string, (f: string) => void][] = [
    [
      'a byte changed',
      (f) => {
        const b = fs.readFileSync(f);
        b[Math.floor(b.length / 2)]! ^= 0x20;
        fs.writeFileSync(f, b);
      },
    ],
    ['truncated', (f) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))],
    ['group-writable', (f) => fs.chmodSync(f, 0o620)],
    ['world-readable', (f) => fs.chmodSync(f, 0o604)],
    [
      'a symlink to a good copy',
      (f) => {
        fs.copyFileSync(f, `${f}.copy`);
        if (IS_ROOT) fs.chownSync(`${f}.copy`, testUser().uid, testUser().gid);
        fs.unlinkSync(f);
        fs.symlinkSync(`${f}.copy`, f);
      },
    ],
  ];
  if (IS_ROOT) damages.push(['of another owner', (f) => fs.chownSync(f, 0, 0)]);
  else t.comment('another owner: only root can give the test user a file of someone else (run as root, as CI does)');
  for (const [what, damage] of damages) {
    primed(t, env, args);
    const [file] = entries(cacheDirOf(env.home));
    damage(file!);
    const r = env.run(args);
    t.notOk(hit(r), `${what}: not used (${r.stderr.trim()})`);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'ran x y\n', `${what}: the launch still runs, planned afresh`);
    const st = fs.lstatSync(file!);
    t.ok(st.isFile() && (st.mode & 0o777) === 0o600 && st.uid === testUser().uid, `${what}: replaced by a good entry`);
    const next = env.run(args);
    t.ok(hit(next), `${what}: which the next launch uses: ${next.stderr}`);
  }
  // The directory itself made group-writable: nothing in it is trusted until it is 0700 again.
  fs.chmodSync(cacheDirOf(env.home), 0o770);
  const r = env.run(args);
  t.notOk(hit(r), 'a group-writable cache directory is not read');
  t.equal(fs.statSync(cacheDirOf(env.home)).mode & 0o777, 0o700, 'and is made 0700 again');
});

t.test('concurrent launches never see a half-written plan', async (t) => {
  const env = fresh(t, 'concurrent');
  const args = ['/bin/sh', '-c', 'echo ok'];
  const round = () =>
    Promise.all(
      Array.from({ length: 8 }, () =>
        tsjailAsync(args, { home: env.home, cwd: env.work, env: DEBUG, fast: true, timeout: 120_000 }),
      ),
    );
  // First all plan and write at once, then half hit while the rest (another environment) rewrite it.
  for (const results of [await round(), await round()]) {
    for (const r of results) {
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stdout, 'ok\n');
      t.notMatch(r.stderr, /damaged|another command line/, 'no partial entry was ever read');
    }
  }
  t.same(
    fs.readdirSync(cacheDirOf(env.home)).filter((f) => !/^(plan-[0-9a-f]{16}|seccomp-[0-9a-f]{32})$/.test(f)),
    [],
    'no temporary file is left',
  );
});

t.test('a sandbox granted ~/.cache or the whole home writable can neither see nor change the cache', async (t) => {
  const env = fresh(t, 'hidden');
  const args = ['/bin/true'];
  // Everything the sandboxes use is made first: a new profile would rightly re-plan `true` (its lookup lists them).
  const grants = ['~/.cache', '~'];
  grants.forEach((g, i) =>
    writeUserFile(path.join(env.home, `.config/tsjail/profiles/w${i}.json5`), `{ filesystem: { rw: ["${g}"] } }\n`),
  );
  mkUserDir(path.join(env.home, '.cache'));
  mkUserDir(path.join(env.home, '.cache/other'));
  primed(t, env, args);
  const dir = cacheDirOf(env.home);
  const [file] = entries(dir);
  const before = fs.readFileSync(file!);
  const ino = fs.statSync(file!).ino;
  for (const [i, grant] of grants.entries()) {
    const attack = [
      `ls -A ${dir} && echo LISTED`,
      `cat ${file} > /dev/null && echo READ`,
      `echo x > ${file} && echo WROTE`,
      `touch ${dir}/new && echo CREATED`,
      `mv ${dir} ${dir}.old && echo MOVED`,
      `mv ${env.home}/.cache ${env.home}/.cache.old && echo MOVED-PARENT`,
      // The control: renaming and writing work in the same grant elsewhere.
      `mv ${env.home}/.cache/other ${env.home}/.cache/other2 && mv ${env.home}/.cache/other2 ${env.home}/.cache/other && echo CONTROL`,
    ].join('; ');
    const r = env.run([`-p`, `w${i}`, '/bin/sh', '-c', attack]);
    t.match(r.stdout, /CONTROL/, `${grant} rw: the sandbox can rename and write in the grant (control): ${r.stderr}`);
    for (const w of ['LISTED', 'READ', 'WROTE', 'CREATED', 'MOVED\n', 'MOVED-PARENT'])
      t.notMatch(r.stdout, w, `${grant} rw: not ${w.trim().toLowerCase()}`);
  }
  t.same(fs.readFileSync(file!), before, 'the entry is as it was');
  t.equal(fs.statSync(file!).ino, ino, 'the same file');
  t.ok(hit(env.run(args)), 'and still used');
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/n.json5'), `{ filesystem: { ro: ["${dir}"] } }\n`);
  const named = env.run(['-p', 'n', '/bin/true']);
  t.equal(named.status, 125, 'a profile naming the cache is refused');
  t.match(named.stderr, /plan cache.*no sandbox may see it/);
});

t.test('the plan of profile A is never used for profile B', async (t) => {
  const env = fresh(t, 'ab');
  const data = path.join(env.home, 'data');
  writeUserFile(path.join(data, 'f'), 'A-ONLY\n');
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/a.json5'), `{ filesystem: { ro: ["${data}"] } }\n`);
  writeUserFile(path.join(env.home, '.config/tsjail/profiles/b.json5'), '{}\n');
  const cat = ['/bin/sh', '-c', `cat ${data}/f 2>/dev/null || echo none`];
  primed(t, env, ['-p', 'a', ...cat]);
  const b = env.run(['-p', 'b', ...cat]);
  t.notOk(hit(b), 'B is planned for itself');
  t.equal(b.stdout, 'none\n', "B does not get A's grant");
  // A's entry put under B's name: its key says it is A's.
  const files = entries(cacheDirOf(env.home));
  t.equal(files.length, 2);
  const byKey = new Map(files.map((f) => [decodeEntry(fs.readFileSync(f)).key, f]));
  const aFile = [...byKey].find(([k]) => k.includes('\0a\0'))![1];
  const bFile = [...byKey].find(([k]) => k.includes('\0b\0'))![1];
  fs.copyFileSync(aFile, bFile);
  const b2 = env.run(['-p', 'b', ...cat]);
  t.notOk(hit(b2), b2.stderr);
  t.match(b2.stderr, /for another command line/);
  t.equal(b2.stdout, 'none\n');
});

t.test(
  'compiled filters are kept by policy hash: a cold launch reuses one, never a damaged or foreign one',
  async (t) => {
    const env = fresh(t, 'filters');
    const sha = (o: RunOptions = {}): string => {
      const r = env.run(['--dry-run', '/bin/true'], o);
      t.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { seccomp: { sha256: string } }).seccomp.sha256;
    };
    const compiled = sha({ env: { TSJAIL_PLAN_CACHE: 'off' } });
    const dir = cacheDirOf(env.home);
    t.same(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], 'TSJAIL_PLAN_CACHE=off keeps no filter');
    t.equal(sha(), compiled, 'the first plan compiles the filter');
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('seccomp-'));
    t.equal(files.length, 1, 'and keeps it');
    const file = path.join(dir, files[0]!);
    const st = fs.lstatSync(file);
    t.ok(st.isFile() && (st.mode & 0o777) === 0o600 && st.uid === testUser().uid, "0600, the user's");
    const ino = st.ino;
    t.equal(sha(), compiled, 'a cold plan of the same rules has the same filter');
    t.equal(fs.lstatSync(file).ino, ino, 'taken from the kept one (not rewritten)');
    // A filter that allows everything (RET ALLOW), in an entry with a wrong sum, another mode, or through a symlink.
    const good = fs.readFileSync(file);
    const text = good.toString('latin1');
    const at = text.indexOf('"bytes":"') + '"bytes":"'.length;
    const forged = Buffer.from(text.slice(0, at) + 'BgAAAAAA/38' + text.slice(at + 11), 'latin1');
    const damages: [string, () => void][] = [
      ['a changed filter', () => fs.writeFileSync(file, forged)],
      ['truncated', () => fs.writeFileSync(file, good.subarray(0, good.length - 9))],
      ['group-writable', () => fs.chmodSync(file, 0o620)],
      [
        'a symlink to a good copy',
        () => {
          fs.writeFileSync(`${file}.copy`, good, { mode: 0o600 });
          if (IS_ROOT) fs.chownSync(`${file}.copy`, testUser().uid, testUser().gid);
          fs.unlinkSync(file);
          fs.symlinkSync(`${file}.copy`, file);
        },
      ],
    ];
    if (IS_ROOT) damages.push(['of another owner', () => fs.chownSync(file, 0, 0)]);
    for (const [what, damage] of damages) {
      damage();
      if (what !== 'group-writable' && what !== 'of another owner' && what !== 'a symlink to a good copy') {
        if (IS_ROOT) fs.chownSync(file, testUser().uid, testUser().gid);
        fs.chmodSync(file, 0o600);
      }
      t.equal(sha(), compiled, `${what}: not used, the filter is compiled`);
      const now = fs.lstatSync(file);
      t.ok(now.isFile() && (now.mode & 0o777) === 0o600 && now.uid === testUser().uid, `${what}: replaced`);
      t.same(fs.readFileSync(file), good, `${what}: by the good entry`);
    }
  },
);
