// src/mounts/tree.ts and src/sys/subid.ts on scratch trees: what the sandbox
// will see inside a system tree, resolved as the sandbox resolves it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';

import { findInTree, loadRootTree, resolveInTree } from '../../../src/mounts/tree.js';
import { inRange, subidRange } from '../../../src/sys/subid.js';

const me = process.getuid!();

function tree(t: { testdir(): string }): string {
  const dir = t.testdir();
  fs.mkdirSync(path.join(dir, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.mkdirSync(path.join(dir, 'home'));
  fs.writeFileSync(path.join(dir, 'usr/bin/busybox'), '#!/x\n', { mode: 0o755 });
  fs.symlinkSync('busybox', path.join(dir, 'usr/bin/sh'));
  fs.symlinkSync('usr/bin', path.join(dir, 'bin'));
  // An absolute link: inside the tree it means the tree's /usr/bin/busybox.
  fs.symlinkSync('/usr/bin/busybox', path.join(dir, 'usr/bin/abs'));
  fs.symlinkSync('/etc/shadow', path.join(dir, 'usr/bin/escape'));
  fs.writeFileSync(path.join(dir, 'usr/bin/plain'), 'data', { mode: 0o644 });
  for (const d of ['usr', 'usr/bin', 'etc', 'home', '.']) fs.chmodSync(path.join(dir, d), 0o755);
  return dir;
}

t.test('the top level: directories mounted, links recreated, tsjail’s own left out', async (t) => {
  const dir = tree(t);
  const r = loadRootTree(dir, false, 'test', { uid: me });
  t.same(
    r.entries.map((e) => [e.dest, e.kind, e.target ?? null]),
    [
      ['/bin', 'link', 'usr/bin'],
      ['/etc', 'dir', null],
      ['/usr', 'dir', null],
    ],
  );
  t.equal(r.owner.uid, me);
});

t.test('paths resolve inside the tree, never on the host', async (t) => {
  const dir = tree(t);
  const r = loadRootTree(dir, false, 'test', { uid: me });
  t.equal(resolveInTree(r, '/bin/sh'), path.join(fs.realpathSync(dir), 'usr/bin/busybox'));
  t.equal(resolveInTree(r, '/usr/bin/abs'), path.join(fs.realpathSync(dir), 'usr/bin/busybox'));
  t.equal(resolveInTree(r, '/usr/bin/escape'), undefined, "an absolute link to /etc/shadow is the tree's, absent");
  t.equal(resolveInTree(r, '/home/x'), undefined, "the tree's /home is not what the sandbox sees");
  t.equal(resolveInTree(r, '/usr/bin/../../../etc'), path.join(fs.realpathSync(dir), 'etc'), '.. stops at the root');
  t.equal(findInTree(r, 'sh', '/usr/local/bin:/usr/bin'), path.join(fs.realpathSync(dir), 'usr/bin/busybox'));
  t.equal(findInTree(r, 'plain', '/usr/bin'), null, 'not executable: not found');
  t.equal(findInTree(r, 'nope', '/usr/bin:relative'), null);
  t.equal(findInTree(r, '/home/me/tool', '/usr/bin'), undefined, 'outside the tree: not the tree’s to say');
});

t.test('ownership: the caller, root or the caller’s subordinate ids, writable by nobody else', async (t) => {
  const dir = tree(t);
  fs.chmodSync(path.join(dir, 'etc'), 0o775);
  t.throws(() => loadRootTree(dir, false, 'test', { uid: me }), /etc \(test\): owned by uid \d+, mode 0775/);
  fs.chmodSync(path.join(dir, 'etc'), 0o755);
  if (me === 0) t.doesNotThrow(() => loadRootTree(dir, false, 'test', { uid: 1 }), "root's tree, for any caller");
  else t.throws(() => loadRootTree(dir, false, 'test', { uid: me + 1 }), /writable by nobody but you or root/);
  t.doesNotThrow(
    () => loadRootTree(dir, false, 'test', { uid: 1, subuid: { start: me, count: 1 } }),
    'owned by one of the caller’s subordinate ids',
  );
});

t.test('subid(5): by name or number, the first valid range', async (t) => {
  const text = 'alice:100000:65536\n1001:200000:10\nbob:x:1\nbob:300000:0\nbob:400000:5\n';
  t.same(subidRange(text, 'alice', 1000), { start: 100000, count: 65536 });
  t.same(subidRange(text, 'carol', 1001), { start: 200000, count: 10 });
  t.same(subidRange(text, 'bob', 1002), { start: 400000, count: 5 }, 'malformed and empty ranges skipped');
  t.equal(subidRange(text, 'dave', 1003), undefined);
  t.ok(inRange(100000, { start: 100000, count: 1 }));
  t.notOk(inRange(100001, { start: 100000, count: 1 }));
  t.notOk(inRange(5, undefined));
});
