import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planMounts, visibleDir, type FsRequest } from '../../../src/mounts/plan.js';
import type { MountOp } from '../../../src/plan/plan.js';
import { TsjailError } from '../../../src/errors.js';
import { hostTree } from '../../helpers/host-tree.js';

// A host tree to plan against; real files, real symlinks.
const { root, mk } = hostTree(t, 'tsjail-plan-');
const home = mk('home/u');
mk('home/u/.ssh/id_rsa', 'secret');
mk('home/u/.mozilla/profile/prefs.js', 'x');
mk('home/u/docs/a.txt', 'a');
mk('home/u/docs/sub/b.txt', 'b');
mk('data/real-downloads/f', 'f');
fs.symlinkSync(path.join(root, 'data/real-downloads'), path.join(home, 'Downloads'));
mk('usr/share/fonts/x.ttf', 'font');
mk('home/u/bin/tool', '#!/bin/sh');

const req = (p: string, access: FsRequest['access'], layer = 1, required = false): FsRequest => ({
  path: p,
  access,
  layer,
  origin: `test:${access}`,
  required,
});
const userOps = (ops: MountOp[]): MountOp[] => ops.filter((o) => o.dest.startsWith(root));
const find = (ops: MountOp[], op: string, dest: string): MountOp | undefined =>
  ops.find((o) => o.op === op && o.dest === dest);

t.test('built-in /proc, /dev and /tmp come first and the root is made read-only last', async (t) => {
  const plan = planMounts({ requests: [], devices: [] });
  t.equal(plan.ops[0]!.op, 'proc');
  t.ok(find(plan.ops, 'tmpfs', '/dev'));
  t.ok(find(plan.ops, 'tmpfs', '/tmp'));
  for (const d of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'])
    t.ok(find(plan.ops, 'devbind', d), d);
  t.ok(find(plan.ops, 'devpts', '/dev/pts'));
  t.ok(find(plan.ops, 'bindself', '/proc/sys'));
  t.same(plan.ops.at(-1), {
    op: 'remount',
    dest: '/',
    flags: ['ro', 'nosuid', 'nodev'],
    why: 'nothing new at the root',
  });
});

t.test('an ancestor that already shows a path the same way makes its mount redundant', async (t) => {
  const plan = planMounts({ requests: [req(`${root}/usr`, 'ro'), req(`${root}/usr/share/fonts`, 'ro')], devices: [] });
  const binds = userOps(plan.ops).filter((o) => o.op === 'bind');
  t.same(
    binds.map((b) => b.dest),
    [`${root}/usr`],
  );
});

t.test('writable paths are noexec unless listed in exec; read-only ones are executable', async (t) => {
  const plan = planMounts({
    requests: [
      req(home, 'ro'),
      req(`${home}/docs`, 'rw'),
      req(`${home}/.mozilla`, 'rw'),
      req(`${home}/.mozilla`, 'exec'),
    ],
    devices: [],
  });
  const b = (d: string) => find(plan.ops, 'bind', d) as Extract<MountOp, { op: 'bind' }>;
  t.same(b(home).flags, ['ro', 'nosuid', 'nodev']);
  t.same(b(`${home}/docs`).flags, ['nosuid', 'nodev', 'noexec']);
  t.same(b(`${home}/.mozilla`).flags, ['nosuid', 'nodev']);
});

t.test('exec below a writable path gets its own executable mount', async (t) => {
  const plan = planMounts({ requests: [req(home, 'rw'), req(`${home}/bin`, 'exec')], devices: [] });
  const b = find(plan.ops, 'bind', `${home}/bin`) as Extract<MountOp, { op: 'bind' }>;
  t.ok(b, 'separate mount');
  t.notOk(b.flags.includes('noexec'));
  const planRo = planMounts({ requests: [req(home, 'ro'), req(`${home}/bin`, 'exec')], devices: [] });
  t.notOk(find(planRo.ops, 'bind', `${home}/bin`), 'nothing to add below a read-only path');
  t.match(planRo.notes.join('\n'), /executable already/);
});

t.test('deny wins over an allow of the same path and hides a child of an allowed parent', async (t) => {
  const same = planMounts({ requests: [req(`${home}/docs`, 'rw', 5), req(`${home}/docs`, 'deny', 1)], devices: [] });
  t.notOk(
    userOps(same.ops).some((o) => o.op === 'bind'),
    'no bind of a denied path',
  );
  const child = planMounts({ requests: [req(home, 'rw'), req(`${home}/.ssh`, 'deny')], devices: [] });
  const ops = userOps(child.ops);
  const iBind = ops.findIndex((o) => o.op === 'bind' && o.dest === home);
  const iDeny = ops.findIndex((o) => o.op === 'deny' && o.dest === `${home}/.ssh`);
  t.ok(iBind >= 0 && iDeny > iBind, 'deny mounted over the bind');
  t.same((ops[iDeny] as Extract<MountOp, { op: 'deny' }>).kind, 'dir');
});

t.test('the most specific path decides: an allow below a deny shows only that path', async (t) => {
  const plan = planMounts({
    requests: [req(home, 'ro'), req(`${home}/docs`, 'deny'), req(`${home}/docs/sub`, 'ro')],
    devices: [],
  });
  const ops = userOps(plan.ops);
  t.ok(find(ops, 'tmpfs', `${home}/docs`), 'denied directory becomes an empty tmpfs');
  t.ok(find(ops, 'bind', `${home}/docs/sub`), 'allowed child mounted inside it');
  const remount = plan.ops.find((o) => o.op === 'remount' && o.dest === `${home}/docs`);
  t.ok(
    remount && plan.ops.indexOf(remount) > plan.ops.indexOf(find(ops, 'bind', `${home}/docs/sub`)!),
    'made read-only afterwards',
  );
});

t.test('a deny where nothing is visible costs no mount', async (t) => {
  const plan = planMounts({ requests: [req(`${home}/.ssh`, 'deny')], devices: [] });
  t.same(userOps(plan.ops), []);
});

t.test('at the same path the later layer wins, and at the same layer the stricter', async (t) => {
  const later = planMounts({ requests: [req(`${home}/docs`, 'ro', 1), req(`${home}/docs`, 'rw', 2)], devices: [] });
  t.notOk((find(later.ops, 'bind', `${home}/docs`) as Extract<MountOp, { op: 'bind' }>).flags.includes('ro'));
  const same = planMounts({ requests: [req(`${home}/docs`, 'rw', 1), req(`${home}/docs`, 'ro', 1)], devices: [] });
  t.ok((find(same.ops, 'bind', `${home}/docs`) as Extract<MountOp, { op: 'bind' }>).flags.includes('ro'));
});

t.test('symlinks on the way are recreated and their target is what gets mounted', async (t) => {
  const plan = planMounts({ requests: [req(`${home}/Downloads`, 'rw')], devices: [] });
  const ops = userOps(plan.ops);
  t.ok(find(ops, 'bind', `${root}/data/real-downloads`), 'target bound at its real path');
  const link = find(ops, 'symlink', `${home}/Downloads`) as Extract<MountOp, { op: 'symlink' }>;
  t.equal(link.target, `${root}/data/real-downloads`);
});

t.test('a symlink inside a writable path is never followed', async (t) => {
  fs.symlinkSync(`${home}/.ssh`, `${home}/docs/planted`);
  t.teardown(() => fs.unlinkSync(`${home}/docs/planted`));
  const plan = planMounts({ requests: [req(`${home}/docs`, 'rw'), req(`${home}/docs/planted`, 'ro')], devices: [] });
  t.notOk(find(plan.ops, 'bind', `${home}/.ssh`), '~/.ssh not mounted');
  t.match(plan.warnings.join('\n'), /not following .*planted/);
  t.throws(
    () =>
      planMounts({ requests: [req(`${home}/docs`, 'rw'), req(`${home}/docs/planted`, 'ro', 9, true)], devices: [] }),
    TsjailError,
  );
});

t.test('missing profile paths are skipped with a note; missing command-line paths are errors', async (t) => {
  const plan = planMounts({ requests: [req(`${root}/nope`, 'ro')], devices: [] });
  t.match(plan.notes.join('\n'), /skipped .*nope.*does not exist/);
  t.throws(() => planMounts({ requests: [req(`${root}/nope`, 'ro', 9, true)], devices: [] }), /does not exist/);
});

t.test('the host /tmp, /home, /run, / ... are never shown whole', async (t) => {
  for (const p of ['/', '/tmp', '/home', '/run', '/var', '/root', '/srv', '/mnt', '/media', '/proc', '/dev', '/sys']) {
    if (!fs.existsSync(p)) continue;
    t.throws(() => planMounts({ requests: [req(p, 'ro')], devices: [] }), TsjailError, p);
  }
  t.throws(() => planMounts({ requests: [req('/proc/self', 'ro')], devices: [] }), /built by tsjail/);
});

t.test('globs expand against the host at launch', async (t) => {
  const plan = planMounts({ requests: [{ ...req(`${home}/docs/**/*.txt`, 'ro'), glob: true }], devices: [] });
  const binds = userOps(plan.ops)
    .filter((o) => o.op === 'bind')
    .map((o) => o.dest)
    .sort();
  t.same(binds, [`${home}/docs/a.txt`, `${home}/docs/sub/b.txt`]);
});

t.test('parents are mounted before children', async (t) => {
  const plan = planMounts({
    requests: [
      req(`${home}/docs/sub`, 'rw'),
      req(home, 'ro'),
      req(`${home}/.mozilla/profile`, 'rw'),
      req(`${home}/.ssh`, 'deny'),
    ],
    devices: [],
  });
  const seen: string[] = [];
  for (const op of plan.ops) {
    if (op.op === 'remount') continue;
    for (const s of seen) t.notOk(s.startsWith(op.dest + '/'), `${op.dest} after its child ${s}`);
    seen.push(op.dest);
  }
});

t.test('devices bind device nodes and device directories only', async (t) => {
  const plan = planMounts({
    requests: [],
    devices: [
      { path: '/dev/null', origin: 'x' },
      { path: `${home}/docs`, origin: 'y' },
    ],
  });
  t.equal(plan.ops.filter((o) => o.op === 'devbind' && o.dest === '/dev/null').length, 2, 'basic + requested');
  t.notOk(plan.ops.some((o) => o.dest === `${home}/docs`));
});

t.test('visibleDir follows the finished view', async (t) => {
  const plan = planMounts({ requests: [req(home, 'tmpfs'), req(`${home}/docs`, 'ro')], devices: [] });
  t.ok(visibleDir(plan, home));
  t.ok(visibleDir(plan, `${home}/docs/sub`));
  t.notOk(visibleDir(plan, `${home}/.mozilla`));
  t.notOk(visibleDir(plan, root));
});
