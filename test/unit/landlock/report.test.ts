// src/landlock/report.ts: the key said for each kind of refusal of the
// filesystem rules, by where it happens (the reporter's part is
// test/integration/report.test.ts).
import t from 'tap';
import { landlockReports } from '../../../src/landlock/report.js';
import { buildLandlock } from '../../../src/landlock/ruleset.js';
import { FS } from '../../../src/landlock/abi.js';
import { PROTECT_LAYER } from '../../../src/mounts/protect.js';
import type { MountPlan } from '../../../src/mounts/plan.js';
import { node } from './helpers.js';

const view: MountPlan = {
  ops: [],
  notes: [],
  warnings: [],
  nodes: [
    node('/dev', 'devfs', { stat: undefined }),
    node('/tmp', 'tmpfs', { stat: undefined, origin: 'built-in' }),
    node('/usr', 'ro'),
    node('/home/u/work', 'rw', { origin: '--rw' }),
    node('/home/u/bin', 'rw', { exec: true }),
    node('/home/u/work/.git', 'ro', { layer: PROTECT_LAYER, origin: 'protect .git, built-in' }),
  ],
};
const req = (abi: number) => ({
  mode: 'best-effort' as const,
  abi,
  network: { mode: 'none' as const, tcp: { connect: [], bind: [], restrictConnect: false, restrictBind: false } },
  logDenials: false,
});

t.test('each place with its key; the rights this kernel cannot enforce are never said', async (t) => {
  const ll = buildLandlock(view, req(7)).plan!;
  const r = landlockReports(view, ll);
  const at = (p: string, right: bigint) =>
    r
      .filter((x) => (x.access & right) !== 0n && (p === x.path || p.startsWith(x.path === '/' ? '/' : `${x.path}/`)))
      .sort((a, b) => b.path.length - a.path.length)[0];
  const key = (p: string, right: bigint) => (JSON.parse(`${at(p, right)?.json}}`) as { key: unknown }).key;
  t.equal(key('/usr/lib/x', FS.MAKE_REG), 'filesystem.rw', 'read-only: filesystem.rw');
  t.equal(key('/home/u/work/x.sh', FS.EXECUTE), 'filesystem.exec', 'writable, not executable');
  t.equal(key('/home/u/bin/x', FS.EXECUTE), 'filesystem.ro', 'an executable grant has no exec record of its own');
  t.equal(key('/home/u/work/.git/config', FS.MAKE_REG), 'filesystem.unprotect', 'a protected path');
  t.equal(key('/dev/z', FS.MAKE_REG), 'devices');
  t.equal(key('/dev/null', FS.WRITE_FILE), 'filesystem.rw', 'writing a device file is not /dev entries');
  t.equal(key('/tmp/x', FS.EXECUTE), null, 'a private tmpfs: no key');
  t.ok(
    r.every((x) => x.json.startsWith('{"key"')),
    'the reporter puts the kind first',
  );
  const abi1 = landlockReports(view, buildLandlock(view, req(1)).plan!);
  t.ok(
    abi1.every((x) => (x.access & FS.TRUNCATE) === 0n),
    'ABI 1 cannot refuse truncate: it is never said',
  );
  t.same(landlockReports(view, undefined), [], 'no Landlock: nothing');
});
