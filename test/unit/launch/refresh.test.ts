// refreshFileBinds (src/launch/exec.ts): a bound regular file renamed over
// since planning gets its new inode at the hand-over; anything else that
// changed keeps the planned one, so that the shim refuses it and re-plans.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';

import { refreshFileBinds } from '../../../src/launch/exec.js';
import type { LaunchPlan, MountOp } from '../../../src/plan/plan.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-refresh-')));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function bindOf(src: string, kind: 'file' | 'dir'): Extract<MountOp, { op: 'bind' }> {
  const st = fs.statSync(src, { bigint: true });
  return { op: 'bind', src, dest: src, dev: st.dev, ino: st.ino, kind, flags: ['ro'] };
}
const planOf = (mounts: MountOp[]) => ({ mounts }) as unknown as LaunchPlan;
const first = (p: LaunchPlan) => p.mounts[0] as Extract<MountOp, { op: 'bind' }>;

t.test('a regular file renamed over the planned one: the new inode', async (t) => {
  const f = path.join(dir, 'cache');
  fs.writeFileSync(f, 'old');
  const planned = bindOf(f, 'file');
  fs.writeFileSync(`${f}~`, 'new');
  fs.renameSync(`${f}~`, f);
  const now = fs.statSync(f, { bigint: true });
  t.not(now.ino, planned.ino, 'the rename made a new inode');
  const out = first(refreshFileBinds(planOf([planned])));
  t.equal(out.ino, now.ino, 'the plan binds the file there now');
  t.equal(planned.ino, first(planOf([planned])).ino, 'the plan given is not changed');
});

t.test('a symbolic link, a directory or nothing in its place: the planned inode stays', async (t) => {
  for (const [name, replace] of [
    ['link', (f: string) => fs.symlinkSync('/etc/hostname', f)],
    ['dir', (f: string) => fs.mkdirSync(f)],
    ['gone', () => {}],
  ] as const) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, 'x');
    const planned = bindOf(f, 'file');
    fs.rmSync(f);
    replace(f);
    t.equal(first(refreshFileBinds(planOf([planned]))).ino, planned.ino, `${name}: the shim will refuse it`);
  }
  const viaLink = path.join(dir, 'real');
  fs.mkdirSync(viaLink);
  fs.writeFileSync(path.join(viaLink, 'f'), 'x');
  fs.symlinkSync(viaLink, path.join(dir, 'alias'));
  const planned = { ...bindOf(path.join(viaLink, 'f'), 'file'), src: path.join(dir, 'alias', 'f'), ino: 1n };
  t.equal(first(refreshFileBinds(planOf([planned]))).ino, 1n, 'a path through a symbolic link is not refreshed');
});

t.test('directories are never refreshed: the plan may depend on what they hold', async (t) => {
  const d = path.join(dir, 'd');
  fs.mkdirSync(d);
  const planned = { ...bindOf(d, 'dir'), ino: 1n };
  t.equal(first(refreshFileBinds(planOf([planned]))).ino, 1n);
});
