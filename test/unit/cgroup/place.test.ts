// src/cgroup without a machine's cgroups: the layouts parsed from made-up
// /proc/self/cgroup and mountinfo text, the records for cgroup v1 and for a
// systemd scope computed against scratch directories shaped like the real
// ones, the systemd request, and what the encoder refuses of such records.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHierarchies, hierarchyOf, layoutName, type FsView } from '../../../src/cgroup/layout.js';
import {
  cgroupUsage,
  chooseCgroups,
  chooseLimits,
  nprocPerUserns,
  oomMessage,
  placeV1,
  placeV2,
  sandboxName,
  startTime,
  sweepDead,
} from '../../../src/cgroup/place.js';
import { ownScopePath, scopeRequest, startScope, systemdScopeAvailable } from '../../../src/cgroup/systemd.js';
import { subtreeDirs } from '../../../src/cgroup/setup.js';
import { placeLimits } from '../../../src/cgroup/index.js';
import { cgroupReport } from '../../../src/cgroup/report.js';
import { encodePlan } from '../../../src/plan/encode.js';
import type { CgroupOp, LaunchPlan } from '../../../src/plan/plan.js';

const HYBRID_CGROUP = [
  '9:name=systemd:/',
  '8:pids:/',
  '4:memory:/process_api/abc',
  '2:cpu,cpuacct:/user/1000',
  '0::/',
].join('\n');
const HYBRID_MOUNTS = [
  '30 25 0:26 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids',
  '31 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory',
  '32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct',
  '33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:12 - cgroup2 cgroup2 rw',
  '34 25 0:30 / /sys/fs/cgroup/systemd rw,relatime shared:13 - cgroup cgroup rw,name=systemd',
].join('\n');

/** A view over a set of existing files with contents. */
function view(files: Record<string, string>): FsView {
  return { read: (f) => files[f], exists: (f) => f in files };
}

t.test('a hybrid layout: v1 controllers, the true root told apart from a cgroup of its own', async (t) => {
  const hs = parseHierarchies(
    HYBRID_CGROUP,
    HYBRID_MOUNTS,
    view({
      '/sys/fs/cgroup/pids/release_agent': '',
      '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    }),
  );
  const pids = hierarchyOf(hs, 'pids')!;
  t.same([pids.version, pids.dir, pids.root], [1, '/sys/fs/cgroup/pids', true], 'pids: in the top cgroup');
  const mem = hierarchyOf(hs, 'memory')!;
  t.same([mem.dir, mem.root], ['/sys/fs/cgroup/memory/process_api/abc', false], 'memory: a cgroup of its own');
  const cpu = hierarchyOf(hs, 'cpu')!;
  t.same([cpu.dir, cpu.controllers], ['/sys/fs/cgroup/cpu,cpuacct/user/1000', ['cpu', 'cpuacct']], 'cpu co-mounted');
  t.match(layoutName(hs), /^hybrid: .* cgroup v2 at \/sys\/fs\/cgroup\/unified with hugetlb$/);
  const { dirs, skipped } = subtreeDirs(hs, 'alice', 'self');
  t.same(dirs, {
    memory: '/sys/fs/cgroup/memory/process_api/abc/tsjail-alice',
    cpu: '/sys/fs/cgroup/cpu,cpuacct/user/1000/tsjail-alice',
  });
  t.match(
    skipped,
    [/^pids: this process runs in the top cgroup of \/sys\/fs\/cgroup\/pids/],
    'never at the top with self',
  );
  t.same(subtreeDirs(hs, 'alice', 'root').dirs.pids, '/sys/fs/cgroup/pids/tsjail-alice', '--parent root: the top');
});

t.test('inside a cgroup namespace "/" is the namespace root, not the machine top', async (t) => {
  const hs = parseHierarchies(
    '4:memory:/\n0::/',
    '31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    view({}),
  );
  // Mounted inside the namespace, its top is the namespace's root: no release_agent there.
  t.same([hs[0]!.dir, hs[0]!.root], ['/sys/fs/cgroup/memory', false]);
  const top = parseHierarchies(
    '4:memory:/',
    '31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    view({ '/sys/fs/cgroup/memory/release_agent': '' }),
  );
  t.equal(top[0]!.root, true, 'the machine top has release_agent');
});

const UNIFIED_PATH = '/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope';

t.test('unified: the systemd way needs the user manager, a user bus and busctl', async (t) => {
  const dir = t.testdir({ bin: { busctl: '#!/bin/sh\n' }, run: { bus: '' } });
  fs.chmodSync(path.join(dir, 'bin/busctl'), 0o755);
  const hs = parseHierarchies(
    `0::${UNIFIED_PATH}`,
    '28 25 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate',
    view({
      '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
      [`/sys/fs/cgroup${UNIFIED_PATH}/cgroup.type`]: 'domain\n',
      [`${dir}/run/bus`]: '',
    }),
  );
  const env = { PATH: `${dir}/bin`, XDG_RUNTIME_DIR: `${dir}/run` };
  const v = view({ [`${dir}/run/bus`]: '' });
  t.same(systemdScopeAvailable(hs, 1000, env, v), { ok: true });
  t.match(systemdScopeAvailable(hs, 1001, env, v), { ok: false, reason: /not under the user's service manager/ });
  t.match(systemdScopeAvailable(hs, 1000, { PATH: '/nonexistent' }, v), { ok: false, reason: /no user bus/ });
  t.match(systemdScopeAvailable(hs, 1000, { ...env, PATH: '/nonexistent' }, v), { ok: false, reason: /busctl/ });
  const d = chooseCgroups({ memory: 1 << 28, pids: 10, cpu: 0.5 }, { uid: 1000, env, hierarchies: hs, view: v });
  t.same(d, { choice: { kind: 'systemd', enforced: ['memory', 'pids', 'cpu'] }, missing: [] });
});

t.test("systemd's request: StartTransientUnit of a delegated scope holding this process", async (t) => {
  const argv = scopeRequest('tsjail-42-x.scope', 42, 'tsjail: sh (profile default)');
  t.same(argv.slice(0, 8), [
    '--user',
    '--quiet',
    'call',
    'org.freedesktop.systemd1',
    '/org/freedesktop/systemd1',
    'org.freedesktop.systemd1.Manager',
    'StartTransientUnit',
    'ssa(sv)a(sa(sv))',
  ]);
  t.same(argv.slice(8), [
    'tsjail-42-x.scope',
    'fail',
    '4',
    ...['PIDs', 'au', '1', '42'],
    ...['Delegate', 'b', 'true'],
    ...['CollectMode', 's', 'inactive-or-failed'],
    ...['Description', 's', 'tsjail: sh (profile default)'],
    '0',
  ]);
  t.equal(ownScopePath(`0::${UNIFIED_PATH}`, 'tsjail-42-x.scope'), undefined, 'not moved yet');
  const moved = '/user.slice/user-1000.slice/user@1000.service/app.slice/tsjail-42-x.scope';
  t.equal(ownScopePath(`1:name=systemd:/\n0::${moved}\n`, 'tsjail-42-x.scope'), moved);
});

t.test('startScope sends that request to busctl for this process; a refusal is one line naming systemd', async (t) => {
  const dir = t.testdir({ bin: {} });
  const got = path.join(dir, 'argv');
  // A busctl that records its arguments (one a line) and refuses as systemd would.
  fs.writeFileSync(
    path.join(dir, 'bin/busctl'),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${got}\necho 'Call failed: Access denied' >&2\nexit 1\n`,
    { mode: 0o755 },
  );
  t.throws(
    () => startScope('tsjail-1-y.scope', 'tsjail: sh (profile default)', '/sys/fs/cgroup', { PATH: `${dir}/bin` }),
    { message: 'limits: systemd refused a delegated scope for the sandbox: Call failed: Access denied' },
  );
  t.same(
    fs.readFileSync(got, 'utf8').split('\n').slice(0, -1),
    scopeRequest('tsjail-1-y.scope', process.pid, 'tsjail: sh (profile default)'),
    'StartTransientUnit on the user bus, the scope holding this process (the monitor-to-be)',
  );
});

t.test('v2: the writes into a delegated scope (a scratch directory shaped like one)', async (t) => {
  const scope = t.testdir({ 'cgroup.controllers': 'cpu memory pids\n', 'memory.swap.max': 'max\n' });
  const ops = placeV2({ memory: 256 << 20, pids: 64, cpu: 0.5 }, scope, {
    read: (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
    exists: (f) => fs.existsSync(f),
  });
  const sb = `${scope}/sandbox`;
  t.same(ops, [
    { op: 'cgroup', path: `${scope}/supervisor`, self: true, procs: false },
    { op: 'write', path: `${scope}/cgroup.subtree_control`, value: '+memory +pids +cpu' },
    { op: 'cgroup', path: sb, procs: true, self: false, oom: 'v2', message: oomMessage({ memory: 256 << 20 }) },
    { op: 'write', path: `${sb}/memory.max`, value: String(256 << 20) },
    { op: 'write', path: `${sb}/memory.swap.max`, value: '0' },
    { op: 'write', path: `${sb}/memory.oom.group`, value: '1' },
    { op: 'write', path: `${sb}/pids.max`, value: '64' },
    { op: 'write', path: `${sb}/cpu.max`, value: '50000 100000' },
  ]);
  t.match(oomMessage({ memory: 256 << 20 }), /memory limit \(limits\.memory 256M\) and was killed$/);
  // Only the controllers the scope offers are enabled for its children.
  fs.writeFileSync(`${scope}/cgroup.controllers`, 'memory\n');
  const few = placeV2({ pids: 64, memory: 1 << 30 }, scope, {
    read: (f) => fs.readFileSync(f, 'utf8'),
    exists: fs.existsSync,
  });
  t.same(few[1], { op: 'write', path: `${scope}/cgroup.subtree_control`, value: '+memory' });
  t.notOk(few.some((o) => o.path.endsWith('pids.max')));
  t.ok(encodePlan(planWith(ops)).length > 0, 'the encoder takes them');
});

t.test('v1: one sb-PID-START directory per controller below the delegated subtree', async (t) => {
  const root = t.testdir({ mem: { 'memory.memsw.limit_in_bytes': '' }, pids: {}, cpu: {} });
  const uid = process.getuid!();
  const subtree = {
    user: 'u',
    uid,
    parent: 'self' as const,
    dirs: { memory: `${root}/mem`, pids: `${root}/pids`, cpu: `${root}/cpu` },
  };
  const ops = placeV1({ memory: 128 << 20, pids: 32, cpu: 1.5 }, subtree, {
    read: () => undefined,
    exists: fs.existsSync,
  });
  // The monitor names each directory sb-PID-START (shim-c/cgroup.c): the records are the same at every launch.
  t.same(ops, [
    {
      op: 'cgroup',
      path: `${root}/mem`,
      procs: true,
      self: false,
      oom: 'v1',
      message: oomMessage({ memory: 128 << 20 }),
      named: true,
    },
    { op: 'write', path: 'memory.limit_in_bytes', value: String(128 << 20) },
    { op: 'write', path: 'memory.memsw.limit_in_bytes', value: String(128 << 20) },
    { op: 'cgroup', path: `${root}/pids`, procs: true, self: false, named: true },
    { op: 'write', path: 'pids.max', value: '32' },
    { op: 'cgroup', path: `${root}/cpu`, procs: true, self: false, named: true },
    { op: 'write', path: 'cpu.cfs_period_us', value: '100000' },
    { op: 'write', path: 'cpu.cfs_quota_us', value: '150000' },
  ]);
  t.ok(encodePlan(planWith(ops)).length > 0, 'the encoder takes them');

  // The choice: the caller's own entry, only the directories it owns.
  const hs = parseHierarchies(HYBRID_CGROUP, HYBRID_MOUNTS, view({}));
  const d = chooseCgroups({ memory: 1, pids: 1 }, { uid, env: {}, hierarchies: hs, subtrees: [subtree] });
  t.same(d.choice.kind, 'v1');
  t.same(d.choice.enforced, ['memory', 'pids']);
  const none = chooseCgroups({ pids: 1 }, { uid: uid + 1, env: {}, hierarchies: hs, subtrees: [subtree] });
  t.match(none, {
    choice: { kind: 'none' },
    missing: [{ controller: 'pids', reason: /no cgroup subtree is delegated to uid/ }],
  });
  const partial = chooseCgroups(
    { memory: 1, cpu: 1 },
    { uid, env: {}, hierarchies: hs, subtrees: [{ ...subtree, dirs: { memory: `${root}/mem` } }] },
  );
  t.match(partial.missing, [{ controller: 'cpu', reason: /the subtree has no cpu cgroup/ }]);

  // Required: one line naming the limit; not required: said, and run.
  t.throws(
    () =>
      placeLimits(
        { cpu: 1 },
        {
          required: true,
          dryRun: true,
          host: { uid: uid + 1, env: {}, hierarchies: hs, subtrees: [] },
          description: 'x',
        },
      ),
    /^cannot enforce limits\.cpu \(no cgroup subtree is delegated to uid \d+ .*\); set limits\.required: false in the profile to run without it$/,
  );
  const soft = placeLimits(
    { cpu: 1 },
    {
      required: false,
      dryRun: true,
      host: { uid: uid + 1, env: {}, hierarchies: hs, subtrees: [] },
      description: 'x',
    },
  );
  t.match(soft.warnings, [/^not enforced here: limits\.cpu \(/]);
  t.same(soft.ops(), []);
});

t.test('the cgroups of dead sandboxes are swept; a live one is kept', async (t) => {
  const root = t.testdir({});
  const live = sandboxName(process.pid, startTime('self')!);
  for (const n of [live, 'sb-999999999-1', `sb-${process.pid}-1`, 'other']) fs.mkdirSync(`${root}/${n}`);
  const removed = sweepDead({ user: 'u', uid: 0, parent: 'self', dirs: { memory: root } });
  t.same(removed.sort(), [`${root}/sb-${process.pid}-1`, `${root}/sb-999999999-1`].sort());
  t.same(fs.readdirSync(root).sort(), [live, 'other'].sort());
});

function planWith(cgroups: CgroupOp[]): LaunchPlan {
  return {
    version: 1,
    net: false,
    uid: 1000,
    gid: 1000,
    hostname: 'h',
    verbose: 0,
    mounts: [],
    cwd: '/',
    rlimits: [],
    env: [],
    argv: ['x'],
    exec: { program: 'x', path: '/bin' },
    cgroups,
  };
}

t.test('the encoder refuses cgroup records that src/cgroup never makes', async (t) => {
  const dir = { op: 'cgroup', path: '/sys/fs/cgroup/a/sb', procs: true, self: false } as const;
  t.throws(
    () => encodePlan(planWith([dir, { op: 'write', path: '/etc/passwd', value: 'x' }])),
    /cgroup write \/etc\/passwd: not a file of the plan's cgroups or their parent/,
  );
  t.throws(() => encodePlan(planWith([{ ...dir, self: true }])), /both the monitor's and the sandbox's/);
  t.throws(
    () => encodePlan(planWith([{ ...dir, procs: false, self: true, oom: 'v2' }])),
    /the monitor's cgroup watched for OOM kills/,
  );
  t.throws(() => encodePlan(planWith([{ ...dir, path: '/' }])), /cgroup \/: not a cgroup tsjail creates/);
  // A file of the scope that holds the cgroups is allowed (cgroup.subtree_control).
  t.ok(encodePlan(planWith([dir, { op: 'write', path: '/sys/fs/cgroup/a/cgroup.subtree_control', value: '+pids' }])));
});

t.test("ps's use: the kernel's counts and limits in a sandbox's cgroups, v1 and v2", async (t) => {
  const root = t.testdir({
    mem: { 'memory.usage_in_bytes': '13107200\n', 'memory.limit_in_bytes': '134217728\n' },
    pids: { 'pids.current': '3\n', 'pids.max': '64\n' },
    sandbox: { 'memory.current': '4096\n', 'memory.max': 'max\n', 'pids.current': '2\n', 'pids.max': 'max\n' },
    nolimit: { 'memory.usage_in_bytes': '8192\n', 'memory.limit_in_bytes': '9223372036854771712\n' },
  });
  t.same(cgroupUsage([`${root}/mem`, `${root}/pids`]), {
    memory: { current: 13107200, limit: 134217728 },
    pids: { current: 3, limit: 64 },
  });
  t.same(cgroupUsage([`${root}/sandbox`]), { memory: { current: 4096 }, pids: { current: 2 } }, 'v2 "max": no limit');
  t.same(cgroupUsage([`${root}/nolimit`]), { memory: { current: 8192 } }, "v1's largest number: no limit");
  t.same(cgroupUsage([]), {}, 'no cgroup: nothing counted');
  t.same(cgroupUsage([`${root}/gone`]), {}, 'a cgroup removed meanwhile: nothing');
});

t.test(
  'doctor: how limits can be had here, and the --parent an administrator needs where the caller is at the top',
  async (t) => {
    const v = view({
      '/proc/self/cgroup': HYBRID_CGROUP,
      '/proc/self/mountinfo': HYBRID_MOUNTS,
      '/sys/fs/cgroup/pids/release_agent': '',
      '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    });
    // A uid no subtree is delegated to (whatever /etc/tsjail/limits.json5 holds on this machine).
    // Linux 5.10: RLIMIT_NPROC is not per user namespace, so pids has no way either.
    const lines = cgroupReport(2 ** 31 - 7, 'alice', {}, v, '5.10.0-30-amd64');
    const text = lines.map(([k, x]) => `${k}: ${x}`).join('\n');
    t.match(text, /^cgroups: hybrid: /m);
    t.match(text, /^ {2}pids: cgroup v1; this process in \/ \(the top cgroup\)$/m);
    t.match(text, /^ {2}limits: not enforced here$/m);
    for (const c of ['memory', 'pids', 'cpu']) t.match(text, new RegExp(`^: ${c}: NOT ENFORCED: `, 'm'), c);
    t.match(
      text,
      /start only with limits\.required: false; to enforce them, an administrator runs `tsjail setup-limits alice`/,
    );
    t.match(
      text,
      /^: pids: this process is in the top cgroup .*`tsjail setup-limits alice --parent root`/m,
      'pids alone (memory and cpu have cgroups of their own): --parent root',
    );
  },
);

t.test(
  "limits.pids without a pids cgroup: the user namespace's process limit, where the kernel counts it so",
  async (t) => {
    t.same(nprocPerUserns(1000, '6.18.44-fc-v1045'), { ok: true });
    t.same(nprocPerUserns(1000, '5.14.0'), { ok: true }, 'since 5.14');
    t.match(nprocPerUserns(1000, '5.13.19'), { ok: false, reason: /Linux 5\.13\.19 counts RLIMIT_NPROC per user/ });
    t.match(nprocPerUserns(1000, '4.19.0-26-amd64'), { ok: false });
    t.match(nprocPerUserns(1000, 'weird'), { ok: false }, 'a release it cannot read: no');
    t.match(nprocPerUserns(0, '6.1.0'), { ok: false, reason: /uid 0/ }, 'root: the kernel exempts its tasks');

    const hs = parseHierarchies(HYBRID_CGROUP, HYBRID_MOUNTS, view({}));
    const host = { uid: 2 ** 31 - 7, env: {}, hierarchies: hs, subtrees: [] };
    const d = chooseLimits({ memory: 1, pids: 64 }, host, '6.1.0');
    t.equal(d.nproc, true);
    t.same(
      d.missing.map((m) => m.controller),
      ['memory'],
      'pids is not missing, memory still is',
    );
    const old = chooseLimits({ pids: 64 }, host, '5.10.0');
    t.equal(old.nproc, false);
    t.match(old.missing, [{ controller: 'pids', reason: /no cgroup subtree is delegated.*; Linux 5\.10\.0 counts/ }]);
    const cg = chooseLimits({ memory: 1 }, host, '6.1.0');
    t.equal(cg.nproc, false, 'no pids asked for: nothing to do');

    // At launch: a required pids limit starts, as an rlimit; where neither way exists it is refused naming both.
    const p = placeLimits({ pids: 64 }, { required: true, dryRun: true, host, description: 'x', release: '6.1.0' });
    t.equal(p.nproc, 64);
    t.same(p.warnings, []);
    t.same(p.ops(), [], 'no cgroup records');
    t.match(p.notes, [
      /^limits\.pids 64: no pids cgroup here; the user namespace's process limit instead \(RLIMIT_NPROC/,
    ]);
    t.throws(
      () => placeLimits({ pids: 64 }, { required: true, dryRun: true, host, description: 'x', release: '5.10.0' }),
      /^cannot enforce limits\.pids \(no cgroup subtree .*; Linux 5\.10\.0 counts RLIMIT_NPROC per user, not per user namespace \(5\.14 and later do\)\); set limits\.required/,
    );

    // doctor says so, and names only memory and cpu as not enforced.
    const v = view({
      '/proc/self/cgroup': HYBRID_CGROUP,
      '/proc/self/mountinfo': HYBRID_MOUNTS,
      '/sys/fs/cgroup/pids/release_agent': '',
      '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    });
    const text = cgroupReport(2 ** 31 - 7, 'alice', {}, v, '6.1.0')
      .map(([k, x]) => `${k}: ${x}`)
      .join('\n');
    t.match(text, /^ {2}limits: no cgroup of its own here$/m);
    t.match(text, /^: pids: enforced without a cgroup: the sandbox's user namespace's process limit \(RLIMIT_NPROC/m);
    t.notMatch(text, /pids: NOT ENFORCED/);
    for (const c of ['memory', 'cpu']) t.match(text, new RegExp(`^: ${c}: NOT ENFORCED: `, 'm'), c);
  },
);
