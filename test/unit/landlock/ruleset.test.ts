import t from 'tap';
import { buildLandlock, READ_EXEC, WRITE } from '../../../src/landlock/ruleset.js';
import { ABI_TABLE, abiRow, FS, NET, SCOPE } from '../../../src/landlock/abi.js';
import type { MountPlan } from '../../../src/mounts/plan.js';
import { dir, node } from './helpers.js';
import { TsjailError } from '../../../src/errors.js';

const file = { ...dir, kind: 'file' as const };
const view: MountPlan = {
  ops: [],
  notes: [],
  warnings: [],
  nodes: [
    node('/proc', 'proc', { stat: undefined }),
    node('/dev', 'devfs', { stat: undefined }),
    node('/tmp', 'tmpfs', { stat: undefined }),
    node('/usr', 'ro'),
    node('/usr/share', 'ro', { mounted: false }),
    node('/etc/passwd', 'ro', { stat: file }),
    node('/home/u/docs', 'rw'),
    node('/home/u/bin', 'rw', { exec: true }),
    node('/home/u/.ssh', 'deny'),
    node('/dev/dri', 'dev'),
  ],
};
const net = (
  over: Partial<{ mode: 'none' | 'host'; connect: number[]; bind: number[]; rc: boolean; rb: boolean }> = {},
) => ({
  mode: over.mode ?? 'none',
  tcp: {
    connect: over.connect ?? [],
    bind: over.bind ?? [],
    restrictConnect: over.rc ?? false,
    restrictBind: over.rb ?? false,
  },
});
const req = (abi: number, extra = {}) => ({
  mode: 'best-effort' as const,
  abi,
  network: net(),
  logDenials: false,
  ...extra,
});
const rule = (r: ReturnType<typeof buildLandlock>, p: string) => r.plan!.paths.find((x) => x.path === p)?.access;

t.test(
  "rules follow the view: read+exec, the writer's rights, devices, nothing for deny or redundant nodes",
  async (t) => {
    const r = buildLandlock(view, req(7));
    t.equal(rule(r, '/usr'), READ_EXEC);
    t.equal(rule(r, '/usr/share'), undefined, 'covered by /usr');
    t.equal(rule(r, '/etc/passwd'), FS.EXECUTE | FS.READ_FILE, 'directory rights never on a file');
    t.equal(rule(r, '/home/u/docs'), FS.READ_FILE | FS.READ_DIR | WRITE);
    t.notOk(rule(r, '/home/u/docs')! & FS.EXECUTE, 'writable is not executable');
    t.ok(rule(r, '/home/u/bin')! & FS.EXECUTE, 'exec where the profile allows');
    t.ok(rule(r, '/home/u/docs')! & FS.REFER, 'REFER so renames keep working');
    t.equal(rule(r, '/home/u/.ssh'), undefined);
    t.ok(rule(r, '/dev/dri')! & FS.IOCTL_DEV);
    t.notOk(rule(r, '/home/u/docs')! & FS.IOCTL_DEV, 'device ioctls on devices only');
    t.equal(rule(r, '/'), FS.READ_DIR);
    t.equal(r.plan!.scoped, SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
    t.equal(r.plan!.net, 0n, 'no TCP handling without a port list');
  },
);

t.test("every ABI row: handled rights are exactly the row's, rules never name more", async (t) => {
  for (const row of ABI_TABLE) {
    const r = buildLandlock(view, req(row.abi));
    t.equal(r.plan!.fs & ~row.fs, 0n, `ABI ${row.abi}`);
    for (const p of r.plan!.paths) t.equal(p.access & ~r.plan!.fs, 0n, `ABI ${row.abi} ${p.path}`);
    t.equal(r.plan!.scoped & ~row.scoped, 0n);
  }
  t.equal(abiRow(99)!.abi, 7, 'a newer kernel gets our newest row');
});

t.test('TCP port lists: per direction, refused below ABI 4 and without Landlock', async (t) => {
  const r = buildLandlock(view, req(7, { network: net({ mode: 'host', connect: [443], rc: true }) }));
  t.equal(r.plan!.net, NET.CONNECT_TCP, 'binding left alone when only connect is listed');
  t.same(r.plan!.ports, [{ port: 443, access: NET.CONNECT_TCP }]);
  const none = buildLandlock(view, req(7, { network: net({ mode: 'host', rb: true }) }));
  t.equal(none.plan!.net, NET.BIND_TCP, 'an empty bind list means no port at all');
  t.same(none.plan!.ports, []);
  t.throws(() => buildLandlock(view, req(3, { network: net({ mode: 'host', connect: [1], rc: true }) })), TsjailError);
  t.throws(() => buildLandlock(view, req(0, { network: net({ mode: 'host', connect: [1], rc: true }) })), TsjailError);
});

t.test('required refuses without Landlock; best effort says what it lost', async (t) => {
  t.throws(() => buildLandlock(view, req(0, { mode: 'required', unavailable: 'not built' })), /requires Landlock/);
  const r = buildLandlock(view, req(0, { network: net({ mode: 'host' }) }));
  t.equal(r.plan, undefined);
  t.match(r.warnings.join(), /cannot scope/);
  const five = buildLandlock(view, req(5, { network: net({ mode: 'host' }), logDenials: true }));
  t.match(five.notes.join('\n'), /cannot enforce abstract_unix_socket \(ABI 6\), signal \(ABI 6\)/);
  t.match(five.notes.join('\n'), /logging denials needs Landlock ABI 7/);
  t.equal(five.plan!.flags, 0);
  t.equal(buildLandlock(view, req(7, { logDenials: true })).plan!.flags, 2);
});

t.test('/dev: read and write its minimal nodes, ioctls only on declared devices and the private ptys', async (t) => {
  const withPts: MountPlan = { ...view, ops: [{ op: 'devpts', dest: '/dev/pts' }] };
  const r = buildLandlock(withPts, req(7));
  t.equal(
    rule(r, '/dev'),
    FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE,
    'no IOCTL_DEV on /dev/null, /dev/tty and the rest',
  );
  t.equal(rule(r, '/dev/pts'), FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE | FS.IOCTL_DEV);
  t.equal(
    rule(r, '/dev/dri'),
    FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE | FS.IOCTL_DEV,
    'a declared device directory',
  );
  t.equal(rule(buildLandlock(view, req(7)), '/dev/pts'), undefined, 'no rule without a devpts mount');
  t.equal(
    rule(buildLandlock(withPts, req(4)), '/dev/pts'),
    FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE,
    'IOCTL_DEV cut below ABI 5',
  );
});

t.test("/proc: its own files are writable through a shell's O_TRUNC, never executable or creatable", async (t) => {
  const r = buildLandlock(view, req(7));
  t.equal(rule(r, '/proc'), FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE | FS.TRUNCATE);
  t.equal(
    rule(buildLandlock(view, req(2)), '/proc'),
    FS.READ_FILE | FS.READ_DIR | FS.WRITE_FILE,
    'TRUNCATE cut below ABI 3',
  );
});

t.test("required: refuses when the kernel lacks a right the profile's rules need, and says which", async (t) => {
  const required =
    (abi: number, extra = {}) =>
    () =>
      buildLandlock(view, req(abi, { mode: 'required', ...extra }));
  t.throws(
    required(1),
    /ABI 1 lacks refer \(ABI 2\), truncate \(ABI 3\), ioctl_dev \(ABI 5\)/,
    'rw paths need REFER and TRUNCATE, a device IOCTL_DEV',
  );
  t.throws(required(4), /ABI 4 lacks ioctl_dev \(ABI 5\)$/);
  t.doesNotThrow(required(5), 'network none: abstract sockets are out of reach through the network namespace');
  t.throws(required(5, { network: net({ mode: 'host' }) }), /lacks abstract_unix_socket \(ABI 6\)$/);
  t.doesNotThrow(required(6, { network: net({ mode: 'host' }) }));
  const noDev: MountPlan = {
    ...view,
    ops: [{ op: 'devpts', dest: '/dev/pts' }],
    nodes: view.nodes.filter((n) => n.role !== 'dev'),
  };
  t.doesNotThrow(
    () => buildLandlock(noDev, req(3, { mode: 'required' })),
    "without devices ABI 3 has every right needed (the private ptys are tsjail's own)",
  );
  t.doesNotThrow(
    () => buildLandlock(view, req(7, { mode: 'required', logDenials: true })),
    'audit is a diagnostic, never required',
  );
  const ro: MountPlan = { ...view, nodes: view.nodes.filter((n) => n.role === 'ro' || n.role === 'proc') };
  t.throws(() => buildLandlock(ro, req(2, { mode: 'required' })), /lacks truncate/, '/proc is written');
});

t.test(
  'host network without abstract scoping: desktop sockets or D-Bus refuse to start unless the profile says so',
  async (t) => {
    const desktop = { ...net({ mode: 'host' }), hostServices: ['sockets (x11)', 'D-Bus'] };
    for (const abi of [0, 5]) {
      t.throws(
        () => buildLandlock(view, req(abi, { network: desktop })),
        /host's network and sockets \(x11\) and D-Bus.*cannot scope abstract unix sockets.*unscopedAbstractSockets: true/,
        `ABI ${abi}: refused, naming the key`,
      );
      const ok = buildLandlock(
        view,
        req(abi, { network: { ...desktop, unscopedAbstractSockets: true, origin: 'p:3' } }),
      );
      t.match(
        ok.warnings.join('\n'),
        /reachable.*started anyway: network\.unscopedAbstractSockets \(p:3\)/,
        'with the key: said',
      );
      t.match(
        buildLandlock(view, req(abi, { network: net({ mode: 'host' }) })).warnings.join(),
        /reachable/,
        'no sockets: a warning only',
      );
    }
    t.same(buildLandlock(view, req(6, { network: desktop })).warnings, [], 'ABI 6 scopes them: nothing to say');
  },
);
