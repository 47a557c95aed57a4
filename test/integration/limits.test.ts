// limits.memory, pids and cpu: the sandbox's own cgroup, for real, as the
// unprivileged test user. They need a cgroup delegated to that user: on this
// project's machines (cgroup v1 controllers) `.ci/run` runs
// `tsjail setup-limits tsjailtest --parent self` as root first; each part
// says why it is skipped when its controller is not delegated.
//
// A memory hog (heap, memfd, a tmpfs file) is killed at the limit with one
// line and exit 137, and the memory is back afterwards; a bounded fork bomb
// stops at pids with EAGAIN; a busy loop under cpu 0.5 is measured (and
// reported, not asserted); nothing stays in the cgroup tree after the
// sandbox ends, after SIGKILL of tsjail, or after SIGKILL of tsjail and its
// cleaner (the next launch sweeps); the sandbox sees its own cgroup as the
// namespace root and cannot reach the cgroup files; `tsjail ps` shows the
// use the kernel counts against each limit, and `tsjail enter` puts the
// entered command into the sandbox's cgroups, where the limit kills it with
// the sandbox.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { chooseCgroups, nprocPerUserns, startTime } from '../../src/cgroup/place.js';
import type { Subtree } from '../../src/cgroup/config.js';
import { readLimitsConfig } from '../../src/cgroup/config.js';
import {
  asUser,
  inSandbox,
  makeUserDir,
  mkUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailArgv,
  tsjailFastArgv,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const user = testUser();
const work = makeUserDir('tsjail-limits');
t.teardown(() => removeDir(work));

let subtrees: Subtree[] = [];
try {
  subtrees = readLimitsConfig().subtrees;
} catch {
  // reported by the skips below
}
const decision = chooseCgroups({ memory: 1, pids: 1, cpu: 1 }, { uid: user.uid, env: {}, subtrees });
const v1 = decision.choice.kind === 'v1' ? decision.choice.subtree : undefined;
const why = (c: 'memory' | 'pids' | 'cpu'): string | false =>
  decision.choice.enforced.includes(c as never)
    ? false
    : `the ${c} controller is not delegated to ${user.name} here: ${decision.missing.find((m) => m.controller === c)?.reason ?? decision.choice.kind}`;

// limits.pids without a pids cgroup: the user namespace's process limit (Linux 5.14+, not for uid 0).
const nproc = nprocPerUserns(user.uid, os.release());
const byRlimit = why('pids') !== false && nproc.ok;
/** Why limits.pids holds in neither way here (false: it holds, by a cgroup or by RLIMIT_NPROC). */
const pidsWhy: string | false =
  why('pids') === false || nproc.ok ? false : `${why('pids')}; ${nproc.ok ? '' : nproc.reason}`;

/** The sandboxes' cgroups now in the user's subtree (v1). */
function spawnSyncText(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

function sandboxDirs(): string[] {
  if (!v1) return [];
  return Object.values(v1.dirs).flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((n) => n.startsWith('sb-'))
      .map((n) => `${d}/${n}`),
  );
}

async function until(what: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

function memUsage(dir: string): number {
  return Number(fs.readFileSync(`${dir}/memory.usage_in_bytes`, 'utf8').trim());
}

const HOG = path.join(work, 'hog.py');
fs.writeFileSync(
  HOG,
  [
    'import os, sys',
    'kind, cap = sys.argv[1], int(sys.argv[2])',
    'chunk = b"x" * (8 << 20)',
    'held = []',
    'if kind == "memfd":',
    '    fd = os.memfd_create("hog", os.MFD_CLOEXEC | 0x0008)  # MFD_NOEXEC_SEAL',
    'elif kind == "tmpfs":',
    '    fd = os.open("/tmp/hog", os.O_WRONLY | os.O_CREAT, 0o600)',
    'got = 0',
    'while got < cap:',
    '    if kind == "heap":',
    '        held.append(bytearray(chunk))',
    '    else:',
    '        os.write(fd, chunk)',
    '    got += 8',
    '    print(got, flush=True)',
    'print("done", got, flush=True)',
  ].join('\n') + '\n',
);
fs.chmodSync(HOG, 0o644);

const LIMIT_MIB = 128;

t.test('a memory hog is killed at limits.memory, and its memory is back', { skip: why('memory') }, async (t) => {
  for (const kind of ['heap', 'memfd', 'tmpfs']) {
    // Outside control: without the limit the same program gets twice the memory.
    const free = inSandbox(`python3 ${HOG} ${kind} ${2 * LIMIT_MIB}`, ['--ro', work]);
    t.match(
      free.stdout,
      `done ${2 * LIMIT_MIB}`,
      `${kind}: ${2 * LIMIT_MIB} MiB without a limit (${free.stderr.trim()})`,
    );

    const before = memUsage(v1!.dirs.memory!);
    const r = inSandbox(`exec python3 ${HOG} ${kind} ${8 * LIMIT_MIB}`, ['--ro', work, '--memory', `${LIMIT_MIB}M`]);
    t.equal(r.status, 137, `${kind}: killed, exit 137`);
    t.notMatch(r.stdout, /done/, `${kind}: it never got its ${8 * LIMIT_MIB} MiB`);
    const reached = Number(r.stdout.trim().split('\n').pop() ?? 0);
    t.ok(reached <= LIMIT_MIB, `${kind}: it held at most the limit (${reached} MiB written)`);
    const said = r.stderr.split('\n').filter((l) => l.includes('memory limit'));
    t.same(
      said,
      [`tsjail: the sandbox reached its memory limit (limits.memory ${LIMIT_MIB}M) and was killed`],
      'one line',
    );
    t.same(sandboxDirs(), [], `${kind}: its cgroup is gone`);
    const after = memUsage(v1!.dirs.memory!);
    t.comment(
      `${kind}: the subtree held ${(before / 2 ** 20).toFixed(1)} MiB before, ${(after / 2 ** 20).toFixed(1)} MiB after`,
    );
    t.ok(
      after < before + 16 * 2 ** 20,
      `${kind}: the memory is back (${(after / 2 ** 20).toFixed(1)} MiB in the subtree)`,
    );
  }
});

/** Python that forks up to `n` sleeping children: "stopped N ERRNO" at the first refusal, else "not stopped N". */
function forkBomb(n: number): string {
  return [
    'import os, errno, time',
    'n = 0',
    `for i in range(${n}):`,
    '    try:',
    '        pid = os.fork()',
    '    except OSError as e:',
    '        print("stopped", n, errno.errorcode[e.errno], flush=True)',
    '        break',
    '    if pid == 0:',
    '        time.sleep(30)',
    '        os._exit(0)',
    '    n += 1',
    'else:',
    '    print("not stopped", n, flush=True)',
  ].join('\n');
}

t.test('a bounded fork bomb stops at limits.pids with EAGAIN', { skip: pidsWhy }, async (t) => {
  t.comment(byRlimit ? `by RLIMIT_NPROC in the user namespace (${why('pids')})` : 'by the pids cgroup');
  const bomb = forkBomb(2000);
  const count = (): number => fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  const free = inSandbox(`python3 -c '${forkBomb(100)}'`);
  t.match(free.stdout, 'not stopped 100', 'outside control: 100 forks without the limit');
  const before = count();
  const r = inSandbox(`python3 -c '${bomb}'`, ['--pids', '64']);
  t.match(r.stdout, /^stopped \d+ EAGAIN$/m, `fork fails with EAGAIN (${r.stdout.trim()})`);
  const n = Number(/stopped (\d+)/.exec(r.stdout)?.[1]);
  t.ok(n < 64, `at most 64 processes and threads: ${n} forks`);
  t.ok(await until(() => count() < before + 16), `the host's process count is back (${before} before, ${count()} now)`);
  t.same(sandboxDirs(), [], 'its cgroup is gone');
});

t.test(
  "without a pids cgroup: the process limit counts the sandbox's own tasks, not the user's others, and holds",
  { skip: byRlimit ? false : why('pids') === false ? 'a pids cgroup enforces limits.pids here' : pidsWhy },
  async (t) => {
    // 80 other processes of the user's on the host, outside any sandbox.
    const [cmd, ...args] = asUser(['/bin/sh', '-c', 'for i in $(seq 80); do sleep 120 & done; wait'], userEnv({}));
    const others = spawn(cmd!, args, { stdio: 'ignore', detached: true });
    t.teardown(() => process.kill(-others.pid!, 'SIGKILL'));
    const mine = (): number =>
      fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n) && fs.statSync(`/proc/${n}`, { throwIfNoEntry: false })?.uid === user.uid)
        .length;
    t.ok(await until(() => mine() >= 80), `the user has ${mine()} processes on the host`);
    const bomb = forkBomb(200);
    // Outside control: the same limit set outside a user namespace counts all of the user's processes: no fork at all.
    const [pcmd, ...pargs] = asUser(['prlimit', '--nproc=64', 'python3', '-c', bomb], userEnv({}));
    const outside = spawnSyncText(pcmd!, pargs);
    t.match(outside, /^stopped 0 EAGAIN$/m, `outside a sandbox RLIMIT_NPROC 64 counts the user's ${mine()} processes`);
    const r = inSandbox(`python3 -c '${bomb}'`, ['--pids', '64']);
    const n = Number(/stopped (\d+) EAGAIN/.exec(r.stdout)?.[1]);
    t.ok(n >= 48 && n < 64, `in the sandbox its own tasks alone count: ${r.stdout.trim()} ${r.stderr.trim()}`);
    t.notMatch(r.stderr, /not enforced/, 'nothing said not enforced');

    // It cannot be raised from inside; outside, root can (the control: the call itself works).
    const raise = [
      'import resource',
      'try:',
      '    resource.setrlimit(resource.RLIMIT_NPROC, (100000, 100000))',
      '    print("raised", resource.getrlimit(resource.RLIMIT_NPROC))',
      'except (ValueError, OSError) as e:',
      '    print("refused", e)',
    ].join('\n');
    const inside = inSandbox(`python3 -c '${raise}'`, ['--pids', '64']);
    t.match(inside.stdout, /^refused /m, `raising it inside: ${inside.stdout.trim()}`);
    const privileged = spawnSyncText('prlimit', ['--nproc=64', 'python3', '-c', raise]);
    // CAP_SYS_RESOURCE is bit 24 of the effective set.
    const capEff = BigInt(
      `0x${/^CapEff:\s+([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`,
    );
    if ((capEff >> 24n) & 1n)
      t.match(privileged, /^raised \(100000, 100000\)$/m, 'outside control: with CAP_SYS_RESOURCE it is raised');
    else
      t.skip('outside control (raising it with CAP_SYS_RESOURCE): this process lacks CAP_SYS_RESOURCE', async () => {});
  },
);

t.test('a busy loop under cpu 0.5 gets about half a core (measured, reported)', { skip: why('cpu') }, async (t) => {
  const loop =
    'import time, os; w = time.time(); c = time.process_time()\n' +
    'while time.time() - w < 3: pass\n' +
    'print("share %.2f" % ((time.process_time() - c) / (time.time() - w)))';
  const free = inSandbox(`python3 -c '${loop}'`);
  const r = inSandbox(`python3 -c '${loop}'`, ['--cpu', '0.5']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^share \d\.\d\d$/m);
  t.comment(`CPU share of a busy loop: ${free.stdout.trim()} without a limit, ${r.stdout.trim()} under cpu 0.5`);
});

t.test(
  'the sandbox is the root of its cgroup namespace and cannot reach the cgroup files',
  { skip: why('memory') },
  async (t) => {
    // Outside control: the same user outside can move a process of its own into its subtree.
    const probe = `${v1!.dirs.memory}/probe-${process.pid}`;
    const outside = spawnAs([
      '/bin/sh',
      '-c',
      `mkdir ${probe} && echo $$ > ${probe}/cgroup.procs && grep memory: /proc/self/cgroup`,
    ]);
    const out = await outside;
    t.match(out.stdout, `/probe-${process.pid}`, 'outside, the cgroup files are writable by the user');
    t.ok(await until(() => (fs.rmdirSync(probe), true)), 'probe removed');

    const r = inSandbox(
      'grep memory: /proc/self/cgroup; ls /sys/fs/cgroup 2>&1 | head -1; echo $$ > /sys/fs/cgroup/memory/cgroup.procs 2>&1 || echo no-write; mount -t cgroup -o memory none /tmp 2>&1 || echo no-mount',
      ['--memory', '256M'],
    );
    t.match(r.stdout, /^\d+:memory:\/$/m, "its memory cgroup is the namespace's root");
    t.match(r.stdout, /no-write/, 'no cgroup file to write');
    t.match(r.stdout, /no-mount/, 'no cgroup file system to mount');
  },
);

t.test(
  'a cached plan keeps its limits: the C entry point runs it in a cgroup named after itself',
  { skip: why('memory') },
  async (t) => {
    const home = makeUserDir('tsjail-limits-cached');
    t.teardown(() => removeDir(home));
    writeUserFile(
      path.join(home, '.config/tsjail/profiles/capped.json5'),
      `{ filesystem: { ro: ["${work}"] }, limits: { memory: "${LIMIT_MIB}M" } }\n`,
    );
    const opts = { home, cwd: home, env: { TSJAIL_CACHE_DEBUG: '1' }, fast: true };
    const hog = ['-p', 'capped', '--', 'python3', HOG, 'heap', String(8 * LIMIT_MIB)];
    const first = tsjail(hog, opts);
    t.equal(first.status, 137, `planned by Node: killed at the limit (${first.stderr.trim()})`);
    t.notMatch(first.stderr, /not cached/, 'the plan with its cgroup records is cached');
    const again = tsjail(hog, opts);
    t.match(again.stderr, /^tsjail: plan cache: hit$/m, 'the second launch runs the cached plan');
    t.equal(again.status, 137, 'and is killed at the limit too');
    t.match(again.stderr, `reached its memory limit (limits.memory ${LIMIT_MIB}M)`);
    t.same(sandboxDirs(), [], 'its cgroup is gone');

    // The name: the monitor's pid and start time, the C entry point being the monitor.
    t.equal(tsjail(['-p', 'capped', '--', '/bin/sh', '-c', 'true'], opts).status, 0, '/bin/sh planned and cached');
    const argv = asUser(tsjailFastArgv(['-p', 'capped', '--', '/bin/sh', '-c', 'echo ready; sleep 60']), {
      ...userEnv({ home }),
      TSJAIL_CACHE_DEBUG: '1',
    });
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: home });
    const exited = new Promise((r) => child.on('close', r));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    t.ok(
      await until(() => out.includes('ready') && sandboxDirs().length === 1, 20_000),
      'the sandbox runs in its cgroup',
    );
    t.match(err, /^tsjail: plan cache: hit$/m, 'from the cached plan');
    const monitor = child.pid!;
    t.equal(path.basename(sandboxDirs()[0]!), `sb-${monitor}-${startTime(monitor)}`, 'sb-PID-START of the monitor');
    process.kill(monitor, 'SIGTERM');
    await exited;
    t.ok(await until(() => sandboxDirs().length === 0), 'and it is removed at the end');
  },
);

function spawnAs(cmd: string[]): Promise<{ status: number | null; stdout: string; pid: number }> {
  const argv = asUser(cmd, userEnv({}));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: user.home });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, pid: child.pid! })));
}

t.test(
  'nothing stays in the cgroup tree: after the end, after SIGKILL of tsjail, and of its cleaner too',
  { skip: why('memory') },
  async (t) => {
    t.equal(inSandbox('true', ['--memory', '64M']).status, 0);
    t.same(sandboxDirs(), [], 'after a normal end');

    for (const alsoCleaner of [false, true]) {
      const what = alsoCleaner ? 'tsjail and its cleaner' : 'tsjail';
      const argv = asUser(tsjailArgv(['--memory', '64M', '--', '/bin/sh', '-c', 'echo ready; sleep 60']), userEnv({}));
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], cwd: user.home });
      const exited = new Promise((r) => child.on('close', r));
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      t.ok(
        await until(() => out.includes('ready') && sandboxDirs().length === 1, 20_000),
        `${what}: the sandbox runs in its cgroup`,
      );
      // setpriv and env exec: the child is tsjail, which became the shim's monitor.
      const monitor = child.pid!;
      const cleaner = fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .find((n) => {
          try {
            const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1]?.split(' ');
            return (
              stat?.[1] === String(monitor) && fs.readFileSync(`/proc/${n}/comm`, 'utf8').trim() === 'tsjail-cgclean'
            );
          } catch {
            return false; // exited meanwhile
          }
        });
      t.ok(cleaner, `${what}: the monitor's cleaner runs beside it`);
      // The cleaner first: killed after the monitor, it could already be at work.
      if (alsoCleaner) process.kill(Number(cleaner), 'SIGKILL');
      process.kill(monitor, 'SIGKILL');
      await exited;
      if (!alsoCleaner) {
        t.ok(await until(() => sandboxDirs().length === 0), `${what} killed: the cleaner removed the cgroup`);
        continue;
      }
      // Nobody is left to remove it; its processes are gone, so the next launch does.
      await until(() => sandboxDirs().every((d) => fs.readFileSync(`${d}/cgroup.procs`, 'utf8').trim() === ''));
      t.equal(sandboxDirs().length, 1, `${what} killed: the empty cgroup stays`);
      t.equal(tsjail(['--memory', '64M', '--', 'true']).status, 0);
      t.same(sandboxDirs(), [], "the next launch removed the dead sandbox's cgroup");
    }
  },
);

t.test('limits that cannot be enforced: refused when required, said once when not', async (t) => {
  const missing = (['cpu', 'pids', 'memory'] as const).find((c) => why(c) !== false);
  if (!missing) {
    t.skip('every limit is enforceable here: nothing to refuse', async () => {});
    return;
  }
  const flag = { cpu: ['--cpu', '0.5'], pids: ['--pids', '64'], memory: ['--memory', '64M'] }[missing];
  const profile = path.join(work, 'strict.json5');
  fs.writeFileSync(profile, '{ limits: { required: true } }\n');
  fs.chmodSync(profile, 0o644);
  if (process.getuid!() === 0) fs.chownSync(profile, user.uid, user.gid);
  const r = tsjail(['-p', profile, ...flag, '--', '/bin/echo', 'SHOULD-NOT-RUN']);
  t.equal(r.status, 125, 'refused');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.match(r.stderr, new RegExp(`^tsjail: cannot enforce limits\\.${missing} \\(`), r.stderr.trim());
  t.notMatch(r.stdout, /SHOULD-NOT-RUN/);
  const soft = path.join(work, 'soft.json5');
  fs.writeFileSync(soft, '{ limits: { required: false } }\n');
  fs.chmodSync(soft, 0o644);
  if (process.getuid!() === 0) fs.chownSync(soft, user.uid, user.gid);
  const ok = tsjail(['-p', soft, ...flag, '--', '/bin/echo', 'ran'], { keepLimitsWarning: true });
  t.equal(ok.status, 0);
  t.match(ok.stdout, 'ran');
  t.equal(ok.stderr.match(/not enforced here/g)?.length, 1, `said once: ${ok.stderr.trim()}`);
});

/** A scratch home with its own runtime directory: `ps` sees this test's sandboxes only. */
function session(prefix: string) {
  const home = makeUserDir(prefix);
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  return { home, env: { XDG_RUNTIME_DIR: runtime } };
}

/** `tsjail ARGS` as the test user in the background, its stdout and stderr collected. */
function background(s: ReturnType<typeof session>, args: string[]) {
  const argv = asUser(tsjailArgv(args), userEnv({ home: s.home, env: s.env }));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: s.home });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

interface PsUse {
  current: number;
  limit?: number;
}
interface PsRow {
  name: string | null;
  pid: number;
  memory: PsUse | null;
  pids: PsUse | null;
}

t.test(
  "ps shows each sandbox's memory and pids use against its limits; one without limits says so",
  { skip: why('memory') },
  async (t) => {
    const s = session('tsjail-limits-ps');
    t.teardown(() => removeDir(s.home));
    // 32 MiB in the sandbox's /tmp (a tmpfs): pages the kernel charges to its memory cgroup.
    const fill = 'head -c 32M /dev/zero > /tmp/fill && echo ready && exec sleep 600';
    const capped = background(s, ['--name', 'capped', '--memory', `${LIMIT_MIB}M`, '--', '/bin/sh', '-c', fill]);
    const free = background(s, ['--name', 'free', '--', '/bin/sh', '-c', fill]);
    t.teardown(() => {
      capped.child.kill('SIGKILL');
      free.child.kill('SIGKILL');
    });
    t.ok(
      await until(() => capped.out().includes('ready') && free.out().includes('ready'), 30_000),
      `both run (${capped.err().trim()} ${free.err().trim()})`,
    );

    const r = tsjail(['ps', '--json'], { home: s.home, env: s.env });
    t.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as PsRow[];
    const c = rows.find((x) => x.name === 'capped');
    const f = rows.find((x) => x.name === 'free');
    t.ok(c && f, 'ps lists both');
    t.equal(c!.memory?.limit, LIMIT_MIB * 2 ** 20, 'the memory limit, as its cgroup has it');
    const dir = `${v1!.dirs.memory}/sb-${c!.pid}-${startTime(c!.pid)}`;
    t.ok(fs.existsSync(dir), `its memory cgroup is ${dir}`);
    t.ok(
      c!.memory!.current >= 32 * 2 ** 20 && c!.memory!.current <= LIMIT_MIB * 2 ** 20,
      `its use counts the 32 MiB in its /tmp (${(c!.memory!.current / 2 ** 20).toFixed(1)} MiB)`,
    );
    // default's limits.pids 4096, by a cgroup or (none here) by its process limit, whose tasks ps counts.
    if (pidsWhy === false) {
      t.match(c!.pids, { limit: 4096 }, `default's pids limit (${byRlimit ? 'RLIMIT_NPROC' : 'cgroup'})`);
      t.ok(c!.pids!.current >= 1 && c!.pids!.current < 16, `its tasks: ${c!.pids!.current}`);
    } else t.equal(c!.pids, null, `no pids limit here: ${pidsWhy}`);
    t.equal(f!.memory, null, 'the sandbox without a memory cgroup has no memory use to show: null');
    if (byRlimit) t.match(f!.pids, { limit: 4096 }, 'and its pids limit is its process limit');
    else if (pidsWhy !== false) t.equal(f!.pids, null, 'nor pids');

    const table = tsjail(['ps'], { home: s.home, env: s.env });
    t.match(table.stdout, /^ID\s+NAME\s+PROFILE\s+PID\s+STARTED\s+MEMORY\s+PIDS\s+PROGRAM/);
    const line = (name: string) => table.stdout.split('\n').find((l) => l.includes(` ${name} `)) ?? '';
    t.match(line('capped'), new RegExp(`\\s\\d+(\\.\\d)?M/${LIMIT_MIB}M\\s`), `the table: ${line('capped')}`);
    t.match(
      line('free'),
      byRlimit ? /\sno limit\s+\d+\/4096\s/ : /\sno limit\s+no limit\s/,
      `and says so: ${line('free')}`,
    );

    t.equal(tsjail(['stop', 'capped'], { home: s.home, env: s.env }).status, 0);
    t.equal(tsjail(['stop', 'free'], { home: s.home, env: s.env }).status, 0);
    await Promise.all([capped.exited, free.exited]);
    t.ok(await until(() => sandboxDirs().length === 0), 'its cgroup is gone');
  },
);

/** The processes in a cgroup, with their names. */
function members(dir: string): { pid: number; comm: string }[] {
  return fs
    .readFileSync(`${dir}/cgroup.procs`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((p) => {
      let comm = '?';
      try {
        comm = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        // exited meanwhile
      }
      return { pid: Number(p), comm };
    });
}

t.test(
  "enter puts the entered command into the sandbox's cgroups: counted, and killed at the limit with the sandbox",
  { skip: why('memory') },
  async (t) => {
    const s = session('tsjail-limits-enter');
    t.teardown(() => removeDir(s.home));
    const box = background(s, [
      '--name',
      'capped',
      '--memory',
      `${LIMIT_MIB}M`,
      '--ro',
      work,
      '--',
      '/bin/sh',
      '-c',
      'echo ready; exec sleep 600',
    ]);
    t.teardown(() => box.child.kill('SIGKILL'));
    t.ok(await until(() => box.out().includes('ready'), 30_000), `the sandbox runs (${box.err().trim()})`);
    const dir = `${v1!.dirs.memory}/sb-${box.child.pid}-${startTime(box.child.pid!)}`;
    const before = members(dir);
    t.same(
      before.map((m) => m.comm).sort(),
      ['sleep', 'tsjail-init'],
      "its memory cgroup: the sandbox's init and program",
    );

    // An entered shell: in the cgroup (seen from outside), at its namespace's root (seen from inside).
    const shell = background(s, [
      'enter',
      'capped',
      '--',
      '/bin/sh',
      '-c',
      'grep memory: /proc/self/cgroup; echo entered; exec sleep 600',
    ]);
    t.ok(await until(() => shell.out().includes('entered'), 30_000), `entered (${shell.err().trim()})`);
    t.match(shell.out(), /^\d+:memory:\/$/m, "inside, its memory cgroup is the sandbox's, the namespace root");
    const after = members(dir).filter((m) => !before.some((b) => b.pid === m.pid));
    t.same(after.map((m) => m.comm).sort(), ['sleep', 'tsjail-enter'], 'the entry and its command joined it');

    // Fail closed: an entry that cannot join the sandbox's cgroup runs nothing.
    if (process.getuid!() === 0) {
      fs.chmodSync(`${dir}/cgroup.procs`, 0o444);
      const refused = tsjail(['enter', 'capped', '--', '/bin/echo', 'SHOULD-NOT-RUN'], { home: s.home, env: s.env });
      fs.chmodSync(`${dir}/cgroup.procs`, 0o644);
      t.equal(refused.status, 125, 'an entry that cannot join the cgroup is refused');
      t.notMatch(refused.stdout, /SHOULD-NOT-RUN/, 'and runs nothing');
      t.same(
        refused.stderr.trim().split('\n'),
        [`tsjail: enter: join the sandbox's cgroup ${dir}: Permission denied`],
        'one line naming the cgroup',
      );
    } else t.comment('not root: the refused join (cgroup.procs made read-only) is not tried');

    // An entered memory hog: the kernel counts it with the sandbox, and the limit ends both.
    const hog = tsjail(['enter', 'capped', '--', 'python3', HOG, 'heap', String(8 * LIMIT_MIB)], {
      home: s.home,
      env: s.env,
    });
    t.notMatch(hog.stdout, /done/, `the entered hog never got its ${8 * LIMIT_MIB} MiB`);
    const reached = Number(hog.stdout.trim().split('\n').pop() ?? 0);
    t.ok(reached <= LIMIT_MIB, `it held at most the limit (${reached} MiB written)`);
    t.equal(hog.status, 137, `the entered command was killed (${hog.stderr.trim()})`);
    t.equal(await box.exited, 137, 'and the sandbox with it, exit 137');
    t.match(box.err(), `reached its memory limit (limits.memory ${LIMIT_MIB}M)`, 'with its one line');
    t.equal(await shell.exited, 137, 'the other entered command ends with it');
    t.ok(await until(() => sandboxDirs().length === 0), 'its cgroup is gone');
  },
);
