// The mount planner's phases one at a time (src/mounts/plan.ts); plan.test.ts
// covers planMounts as a whole.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildNodes,
  choosePerPath,
  mountRecords,
  orderOps,
  resolveRequests,
  screenRequests,
  symlinkRecords,
  type FsNode,
  type FsRequest,
  type Report,
  type Resolved,
} from '../../../src/mounts/plan.js';
import { StatCache } from '../../../src/mounts/resolve.js';
import type { MountOp } from '../../../src/plan/plan.js';
import { TsjailError } from '../../../src/errors.js';
import { hostTree } from '../../helpers/host-tree.js';

const { root, mk } = hostTree(t, 'tsjail-phases-');
const home = mk('home/u');
for (const [rel, content] of Object.entries({
  'docs/a.txt': 'a',
  'docs/b.txt': 'b',
  'docs/sub/c.txt': 'c',
  'bin/tool': '',
})) {
  mk(`home/u/${rel}`, content);
}
mk('data/real');
fs.symlinkSync(path.join(root, 'data/real'), path.join(home, 'link'));
mk('etc');
fs.symlinkSync('/proc/self/mounts', path.join(root, 'etc/mtab'));

const req = (p: string, access: FsRequest['access'], layer = 1, extra: Partial<FsRequest> = {}): FsRequest => ({
  path: p,
  access,
  layer,
  origin: `test:${access}`,
  required: false,
  ...extra,
});
const report = (): Report => ({ notes: [], warnings: [] });
const resolve = (reqs: FsRequest[], r = report()): Resolved[] => resolveRequests(reqs, new StatCache(), r);
const builtin: FsNode[] = [
  { path: '/tmp', role: 'tmpfs', exec: false, origin: 'built-in', layer: -1, mode: 0o1777, mounted: true },
];
/** Phases 1 to 4. */
const tree = (reqs: FsRequest[], r = report()) => {
  const { usable, linksOnly } = screenRequests(resolve(reqs, r), r);
  const { chosen, exec } = choosePerPath(usable);
  return { tree: buildNodes(builtin, chosen, exec, [], [], new StatCache(), r), usable, linksOnly };
};

t.test('phase 1: globs expand, missing paths are skipped (profile) or refused (command line)', async (t) => {
  const r = report();
  const out = resolve(
    [
      req(`${home}/docs/*.txt`, 'ro', 1, { glob: true }),
      req(`${home}/nothing`, 'ro'),
      req(`${home}/*.none`, 'ro', 1, { glob: true }),
    ],
    r,
  );
  t.same(
    out.map((x) => x.req.path),
    [`${home}/docs/a.txt`, `${home}/docs/b.txt`, `${home}/nothing`],
    'a glob becomes one request per match; a missing plain path still resolves (without a host object)',
  );
  t.notOk(out[2]?.res.stat, 'the missing path has no host object');
  t.match(r.notes, [/skipped .*\*\.none \(test:ro\): no match/]);
  t.equal(
    out.find((x) => x.req.path === `${home}/link`),
    undefined,
  );
  const linked = resolve([req(`${home}/link`, 'ro')]);
  t.equal(linked[0]?.res.real, path.join(root, 'data/real'), 'resolved to the real path');
  t.same(
    linked[0]?.res.links.map((l) => l.at),
    [`${home}/link`],
    'the symlink met on the way is recorded',
  );
  t.throws(
    () => resolve([req(`${home}/*.none`, 'ro', 1, { glob: true, required: true })]),
    TsjailError,
    'a required glob must match',
  );
});

t.test('phase 2: planted links, paths never shown whole, /proc, /dev and /sys, missing paths', async (t) => {
  const r = report();
  const { usable } = { usable: screenRequests(resolve([req(home, 'rw'), req(`${home}/link`, 'ro')]), r).usable };
  t.same(
    usable.map((x) => x.req.path),
    [home],
    'a link inside a writable path is not followed',
  );
  t.match(r.warnings, [/not following .*link -> .*: it lies in a path the sandbox can write/]);
  t.throws(
    () => screenRequests(resolve([req(home, 'rw'), req(`${home}/link`, 'ro', 1, { required: true })]), report()),
    /not following/,
  );
  t.throws(() => screenRequests(resolve([req('/home', 'ro')]), report()), /never shown whole/);
  t.throws(() => screenRequests(resolve([req('/sys/kernel', 'rw')]), report()), /\/sys is only ever shown read-only/);
  t.throws(() => screenRequests(resolve([req('/dev/null', 'ro')]), report()), /use "devices"/);
  t.throws(() => screenRequests(resolve([req('/', 'tmpfs')]), report()), /already an empty tmpfs/);

  const links = screenRequests(resolve([req(`${root}/etc/mtab`, 'ro')]), report());
  t.same(links.usable, [], 'a link into /proc is not mounted');
  t.same(
    links.linksOnly.map((l) => [l.at, l.target]),
    [[`${root}/etc/mtab`, '/proc/self/mounts']],
    'the link alone is kept',
  );

  const missing = report();
  screenRequests(
    resolve([
      req(home, 'rw'),
      req(`${home}/gone`, 'deny'),
      req(`${root}/elsewhere`, 'deny'),
      req(`${root}/nope`, 'ro'),
    ]),
    missing,
  );
  t.match(missing.warnings, [/deny .*\/gone does not exist, and the sandbox can create it inside writable/]);
  t.match(missing.notes, [/skipped deny .*elsewhere .*does not exist/, /skipped .*nope .*does not exist/]);
});

t.test('phase 3: one request per real path; deny first, then the later layer, then the stricter', async (t) => {
  const pick = (reqs: FsRequest[]) => choosePerPath(screenRequests(resolve(reqs), report()).usable);
  t.same(
    pick([req(home, 'rw', 9), req(home, 'deny', 1)]).chosen.map((x) => x.req.access),
    ['deny'],
  );
  t.same(
    pick([req(home, 'ro', 1), req(home, 'rw', 2)]).chosen.map((x) => x.req.access),
    ['rw'],
  );
  t.same(
    pick([req(home, 'rw', 1), req(home, 'ro', 1)]).chosen.map((x) => x.req.access),
    ['ro'],
  );
  t.same(
    pick([req(home, 'ro', 1), req(home, 'tmpfs', 1)]).chosen.map((x) => x.req.access),
    ['tmpfs'],
  );
  const ex = pick([req(home, 'rw'), req(home, 'exec')]);
  t.same(
    ex.chosen.map((x) => x.req.access),
    ['rw'],
  );
  t.same(
    ex.exec.map((x) => x.req.access),
    ['exec'],
    'exec kept apart',
  );
});

t.test('phase 4: nodes parents first, exec applied, built-ins give way to requests', async (t) => {
  const r = report();
  const { tree: n } = tree(
    [
      req(`${home}/bin`, 'exec'),
      req(`${home}/docs`, 'exec'),
      req(home, 'rw'),
      req(`${home}/docs`, 'ro'),
      req('/tmp', 'tmpfs'),
    ],
    r,
  );
  t.same(
    n.nodes.map((x) => [x.path, x.role, x.exec, x.origin]),
    [
      ['/tmp', 'tmpfs', false, 'test:tmpfs'],
      [home, 'rw', false, 'test:rw'],
      [`${home}/bin`, 'rw', true, 'test:exec'],
      [`${home}/docs`, 'ro', false, 'test:ro'],
    ],
  );
  t.match(
    r.notes,
    [/skipped exec .*docs \(test:exec\): not a writable path/],
    'exec does not override a read-only grant',
  );
  t.equal(n.covering(`${home}/docs/sub`)?.path, `${home}/docs`);
  t.equal(n.covering(`${home}/docs`)?.path, home, 'covering looks strictly above');

  const ro = report();
  tree([req(`${root}/data`, 'ro'), req(`${root}/data/real`, 'exec')], ro);
  t.match(ro.notes, [/exec .*real .*read-only paths are executable already/]);

  const r2 = report();
  const { tree: t2 } = tree([req(home, 'tmpfs'), req(home, 'exec'), req(`${root}/data`, 'exec')], r2);
  t.ok(t2.byPath.get(home)?.exec, 'exec on a tmpfs marks it');
  t.match(r2.notes, [/skipped exec .*data .*not a writable path/]);
});

t.test('phase 5: deny, mask, redundant binds and tmpfs without a mount point', async (t) => {
  const r = report();
  const { tree: n } = tree(
    [
      req(home, 'ro'),
      req(`${home}/docs`, 'deny'),
      req(`${home}/docs/sub`, 'ro'),
      req(`${home}/bin`, 'ro'),
      req(`${home}/new`, 'tmpfs'),
      req(`${root}/data`, 'deny'),
    ],
    r,
  );
  const { ops, finalRemounts } = mountRecords(n, r);
  const summary = ops.map((o) => [o.op, o.dest]);
  t.same(summary, [
    ['tmpfs', '/tmp'],
    ['bind', home],
    ['tmpfs', `${home}/docs`],
    ['bind', `${home}/docs/sub`],
  ]);
  t.equal(n.byPath.get(`${home}/docs`)?.role, 'mask', 'a deny with allowed paths below becomes an empty directory');
  t.same(
    finalRemounts,
    [{ op: 'remount', dest: `${home}/docs`, flags: ['ro', 'nosuid', 'nodev', 'noexec'] }],
    '... made read-only at the end',
  );
  t.equal(n.byPath.get(`${home}/bin`)?.mounted, false, 'the home bind already shows bin read-only');
  t.equal(n.byPath.get(`${root}/data`)?.mounted, false);
  t.match(r.notes, [
    /deny .*data .*not visible anyway/,
    /skipped tmpfs .*new .*no mount point can be made inside the host's/,
  ]);

  const plain = tree([req(home, 'ro'), req(`${home}/docs/a.txt`, 'deny')]).tree;
  t.same(
    mountRecords(plain, report()).ops.find((o) => o.op === 'deny'),
    { op: 'deny', dest: `${home}/docs/a.txt`, kind: 'file', why: 'deny (test:deny)' },
  );
});

t.test('phase 6: symlinks met on the way, unless the host shows or hides them already', async (t) => {
  const a = tree([req(`${home}/link`, 'ro')]);
  t.same(symlinkRecords(a.usable, a.linksOnly, a.tree), [
    { op: 'symlink', target: path.join(root, 'data/real'), dest: `${home}/link` },
  ]);
  const b = tree([req(home, 'ro'), req(`${home}/link`, 'ro')]);
  t.same(symlinkRecords(b.usable, b.linksOnly, b.tree), [], 'the home bind shows the host link itself');
  const c = tree([req(`${root}/etc/mtab`, 'ro')]);
  t.same(symlinkRecords(c.usable, c.linksOnly, c.tree), [
    { op: 'symlink', target: '/proc/self/mounts', dest: `${root}/etc/mtab` },
  ]);
  const d = tree([req(`${home}/link`, 'deny')]);
  t.same(symlinkRecords(d.usable, d.linksOnly, d.tree), [], 'a denied path recreates no link');
});

t.test('ordering: parents first, stable within a depth, remounts and then the root last', async (t) => {
  const op = (dest: string): MountOp => ({ op: 'mkdir', dest, mode: 0o755 });
  const remount: MountOp = { op: 'remount', dest: '/a/b', flags: ['ro'] };
  t.same(orderOps([op('/a/b/c'), op('/z'), op('/a'), op('/a/b'), op('/b')], [remount]), [
    op('/z'),
    op('/a'),
    op('/b'),
    op('/a/b'),
    op('/a/b/c'),
    remount,
    { op: 'remount', dest: '/', flags: ['ro', 'nosuid', 'nodev'], why: 'nothing new at the root' },
  ]);
});
