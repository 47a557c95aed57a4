import t from 'tap';
import { encodePlan, isPlanPath, PLAN_MAGIC, PlanEncodeError, RecordType } from '../../../src/plan/encode.js';
import type { LaunchPlan } from '../../../src/plan/plan.js';

const base = (): LaunchPlan => ({
  version: 1,
  net: true,
  uid: 1000,
  gid: 1000,
  hostname: 'tsjail',
  verbose: 0,
  mounts: [{ op: 'bind', src: '/usr', dest: '/usr', dev: 2049n, ino: 12n, kind: 'dir', flags: ['ro', 'nosuid'] }],
  cwd: '/',
  rlimits: [{ name: 'core', resource: 4, soft: 0n, hard: 0n }],
  env: ['PATH=/usr/bin'],
  argv: ['ls', '-l'],
  exec: { program: 'ls', path: '/usr/bin' },
});

function records(buf: Buffer): { type: number; payload: Buffer }[] {
  const out: { type: number; payload: Buffer }[] = [];
  let off = 16;
  while (off < buf.length) {
    const type = buf.readUInt16LE(off);
    const size = buf.readUInt32LE(off + 4);
    out.push({ type, payload: buf.subarray(off + 8, off + 8 + size) });
    off += 8 + size;
  }
  return out;
}

t.test('header and record framing', async (t) => {
  const buf = encodePlan(base());
  t.equal(buf.readUInt32LE(0), PLAN_MAGIC);
  t.equal(buf.readUInt32LE(4), 1);
  t.equal(buf.readUInt32LE(8), buf.length);
  const recs = records(buf);
  t.equal(buf.readUInt32LE(12), recs.length);
  t.same(
    recs.map((r) => r.type),
    [
      RecordType.NAMESPACES,
      RecordType.IDS,
      RecordType.HOSTNAME,
      RecordType.BIND,
      RecordType.CHDIR,
      RecordType.RLIMIT,
      RecordType.ENV,
      RecordType.ARGV,
      RecordType.ARGV,
      RecordType.EXEC,
    ],
  );
});

t.test('a bind record carries src, dest, dev, ino, kind and flags', async (t) => {
  const bind = records(encodePlan(base())).find((r) => r.type === RecordType.BIND)!.payload;
  let o = 0;
  const str = (): string => {
    const n = bind.readUInt32LE(o);
    const s = bind.subarray(o + 4, o + 4 + n).toString();
    o += 4 + n;
    return s;
  };
  t.equal(str(), '/usr');
  t.equal(str(), '/usr');
  t.equal(bind.readBigUInt64LE(o), 2049n);
  t.equal(bind.readBigUInt64LE(o + 8), 12n);
  t.equal(bind.readUInt32LE(o + 16), 1);
  t.equal(bind.readUInt32LE(o + 20), 0x3);
  t.equal(o + 24, bind.length);
});

t.test('what the shim would refuse is refused here first', async (t) => {
  for (const bad of ['usr', '/usr/', '/a//b', '/a/../b', '/a/./b', '/a\0b', '']) t.notOk(isPlanPath(bad), bad);
  t.ok(isPlanPath('/'));
  t.ok(isPlanPath('/a b/c'));
  const p = base();
  p.mounts = [{ op: 'mkdir', dest: '/a/../etc', mode: 0o755 }];
  t.throws(() => encodePlan(p), PlanEncodeError);
  const q = base();
  q.argv = ['a\0b'];
  t.throws(() => encodePlan(q), /NUL/);
  const r = base();
  r.env = ['NOEQUALS'];
  t.throws(() => encodePlan(r), /NAME=/);
  const s = base();
  s.seccomp = { arch: 'x86_64', flags: 0, program: new Uint8Array(12), instructions: 1 };
  t.throws(() => encodePlan(s), /instructions/);
  const u = base();
  u.argv = [];
  t.throws(() => encodePlan(u), /argv/);
});
