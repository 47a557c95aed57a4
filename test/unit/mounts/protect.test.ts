// filesystem.protect in the mount planner: which paths become read-only
// binds, which directories are pinned against renames, what is refused.
import t from 'tap';
import * as fs from 'node:fs';
import { planMounts, type FsRequest } from '../../../src/mounts/plan.js';
import type { ProtectRequest } from '../../../src/mounts/protect.js';
import type { MountOp } from '../../../src/plan/plan.js';
import { TsjailError } from '../../../src/errors.js';
import { DEFAULT_PROTECT } from '../../../src/profile/protect.js';
import { hostTree } from '../../helpers/host-tree.js';

const { root, mk } = hostTree(t, 'tsjail-protect-');
const work = mk('home/u/work');
mk('home/u/work/.git/hooks');
mk('home/u/work/.git/config', '[core]\n');
mk('home/u/work/.envrc', 'export X=1\n');
mk('home/u/work/src/main.c', 'int main(void){}\n');
mk('home/u/work/.git/modules/lib/hooks');
mk('home/u/work/.git/modules/doc/hooks');

const rw = (p: string, access: FsRequest['access'] = 'rw'): FsRequest => ({
  path: p,
  access,
  layer: 1,
  origin: `test:${access}`,
  required: false,
});
const builtin: ProtectRequest[] = DEFAULT_PROTECT.map((d) => ({
  path: d.path,
  relative: true,
  glob: false,
  origin: 'built-in',
  builtin: true,
}));
const rel = (p: string, glob = false): ProtectRequest => ({
  path: p,
  relative: true,
  glob,
  origin: 'test.json5:3',
  builtin: false,
});
const ops = (reqs: FsRequest[], protect: ProtectRequest[]): MountOp[] =>
  planMounts({ requests: reqs, devices: [], protect }).ops.filter((o) => o.dest.startsWith(root));
const line = (o: MountOp): string => `${o.op} ${o.dest.slice(root.length)} ${'flags' in o ? o.flags.join(',') : ''}`;

t.test(
  'existing protected paths inside a writable directory become read-only, noexec binds of themselves',
  async (t) => {
    const o = ops([rw(work)], builtin);
    t.same(o.map(line), [
      'bind /home/u/work nosuid,nodev,noexec',
      'bind /home/u/work/.envrc ro,nosuid,nodev,noexec',
      'bind /home/u/work/.git ro,nosuid,nodev,noexec',
    ]);
    const git = o.find((x) => x.dest === `${work}/.git`)!;
    const st = fs.statSync(`${work}/.git`, { bigint: true });
    t.match(
      git,
      { op: 'bind', src: `${work}/.git`, dev: st.dev, ino: st.ino, kind: 'dir' },
      'checked against the inode planned',
    );
  },
);

t.test(
  'inside an executable writable directory, a protected path stays executable (read-only is enough)',
  async (t) => {
    const o = ops([rw(work), rw(work, 'exec')], [rel('.git')]);
    t.same(o.map(line), ['bind /home/u/work nosuid,nodev', 'bind /home/u/work/.git ro,nosuid,nodev']);
  },
);

t.test('every directory between a protected path and the writable mount is pinned against rename', async (t) => {
  const o = ops([rw(work)], [rel('.git/modules/lib/hooks')]);
  t.same(o.map(line), [
    'bind /home/u/work nosuid,nodev,noexec',
    'bindself /home/u/work/.git nosuid,nodev,noexec',
    'bindself /home/u/work/.git/modules nosuid,nodev,noexec',
    'bindself /home/u/work/.git/modules/lib nosuid,nodev,noexec',
    'bind /home/u/work/.git/modules/lib/hooks ro,nosuid,nodev,noexec',
  ]);
});

t.test(
  'a writable directory inside another one that is not a mount of its own is pinned too, and so on up',
  async (t) => {
    const o = ops([rw(`${root}/home/u`), rw(work)], [rel('.git')]);
    t.same(o.map(line), [
      'bind /home/u nosuid,nodev,noexec',
      'bindself /home/u/work nosuid,nodev,noexec',
      'bind /home/u/work/.git ro,nosuid,nodev,noexec',
    ]);
  },
);

t.test(
  'a read-only ancestor is no mount of the writable kind and needs no pin; a mount point is pinned already',
  async (t) => {
    const o = ops([rw(`${root}/home/u`), rw(work, 'exec')], [rel('.git')]);
    // work is a mount of its own (exec differs), so nothing is pinned.
    t.same(o.map(line), [
      'bind /home/u nosuid,nodev,noexec',
      'bind /home/u/work nosuid,nodev',
      'bind /home/u/work/.git ro,nosuid,nodev',
    ]);
  },
);

t.test('globs match one component, never through a link', async (t) => {
  fs.symlinkSync(`${root}/home/u/work/src`, `${work}/.git/modules/linked`);
  t.teardown(() => fs.unlinkSync(`${work}/.git/modules/linked`));
  const o = ops([rw(work)], [rel('.git/modules/*/hooks', true)]);
  t.same(o.filter((x) => x.op === 'bind').map(line), [
    'bind /home/u/work nosuid,nodev,noexec',
    'bind /home/u/work/.git/modules/doc/hooks ro,nosuid,nodev,noexec',
    'bind /home/u/work/.git/modules/lib/hooks ro,nosuid,nodev,noexec',
  ]);
});

t.test('a path inside a protected one is covered by it and adds nothing', async (t) => {
  const o = ops([rw(work)], [rel('.git'), rel('.git/hooks'), rel('.git/config')]);
  t.same(o.filter((x) => x.dest.includes('.git')).map(line), ['bind /home/u/work/.git ro,nosuid,nodev,noexec']);
});

t.test('a path the profile grants writable itself, or denies, is left to that grant', async (t) => {
  const plan = planMounts({
    requests: [rw(work), rw(`${work}/.git/hooks`)],
    devices: [],
    protect: [rel('.git/hooks')],
  });
  t.same(
    plan.ops.filter((o) => o.dest.startsWith(`${work}/.git`)).map(line),
    [],
    'shown by the writable mount around it',
  );
  t.match(plan.notes.join('\n'), /\.git\/hooks stays writable, granted by test:rw itself/);
  const denied = ops([rw(work), { ...rw(`${work}/.envrc`), access: 'deny' }], [rel('.envrc')]);
  t.same(
    denied.filter((o) => o.dest.endsWith('.envrc')).map((o) => o.op),
    ['deny'],
  );
});

t.test('a deeper grant inside a protected directory keeps its own access', async (t) => {
  const o = ops([rw(work), rw(`${work}/.git/hooks`)], [rel('.git')]);
  t.same(o.filter((x) => x.dest.includes('.git')).map(line), [
    'bind /home/u/work/.git ro,nosuid,nodev,noexec',
    'bind /home/u/work/.git/hooks nosuid,nodev,noexec',
  ]);
});

t.test('outside writable directories nothing is protected (read-only already)', async (t) => {
  const o = ops([rw(work, 'ro')], builtin);
  t.same(o.map(line), ['bind /home/u/work ro,nosuid,nodev']);
  t.same(
    ops([{ ...rw(work), access: 'tmpfs' }], builtin).map((x) => x.op),
    ['tmpfs'],
    'a tmpfs is not the host',
  );
});

t.test('missing protected paths: nothing is made on the host, one note per writable directory', async (t) => {
  const plan = planMounts({ requests: [rw(work)], devices: [], protect: [rel('.vscode'), rel('.idea'), rel('.git')] });
  t.same(plan.ops.filter((o) => o.dest.startsWith(root)).map(line), [
    'bind /home/u/work nosuid,nodev,noexec',
    'bind /home/u/work/.git ro,nosuid,nodev,noexec',
  ]);
  const n = plan.notes.filter((x) => x.startsWith('protect:'));
  t.equal(n.length, 1);
  t.match(n[0], `not present in ${work}`);
  t.match(n[0], '.vscode, .idea');
});

t.test('a symbolic link on the way inside a writable directory is refused, naming how to go on', async (t) => {
  const proj = mk('home/u/linked');
  mk('home/u/dotfiles/git');
  fs.symlinkSync('../dotfiles/git', `${proj}/.git`);
  t.throws(() => ops([rw(proj)], [rel('.git')]), {
    constructor: TsjailError,
    message:
      /linked\/\.git is a symbolic link \(-> \.\.\/dotfiles\/git\) inside a writable directory.*filesystem\.protect \(test\.json5:3\)/,
  });
  t.throws(() => ops([rw(proj)], builtin), /unprotect: \["\.git"\]/);
  // A link outside every writable directory is the host's own and followed.
  const abs: ProtectRequest = {
    path: `${root}/home/u/linked/.git/x`,
    relative: false,
    glob: false,
    origin: 'test.json5:4',
    builtin: false,
  };
  t.throws(() => ops([rw(proj)], [abs]), /symbolic link/);
});

t.test('absolute entries are protected where they lie inside a writable directory', async (t) => {
  const abs = (p: string): ProtectRequest => ({
    path: p,
    relative: false,
    glob: false,
    origin: 'test.json5:5',
    builtin: false,
  });
  const o = ops([rw(work)], [abs(`${work}/src/main.c`), abs(`${root}/home/u/elsewhere`)]);
  t.same(o.map(line), [
    'bind /home/u/work nosuid,nodev,noexec',
    'bindself /home/u/work/src nosuid,nodev,noexec',
    'bind /home/u/work/src/main.c ro,nosuid,nodev,noexec',
  ]);
  t.equal(
    o.find((x) => x.dest.endsWith('main.c'))!.op === 'bind' &&
      (o.find((x) => x.dest.endsWith('main.c')) as { kind: string }).kind,
    'file',
  );
});

t.test('the built-in list names no path twice and only relative ones', async (t) => {
  const names = DEFAULT_PROTECT.map((d) => d.path);
  t.equal(new Set(names).size, names.length);
  for (const n of names) t.notOk(n.startsWith('/') || n.includes('..') || n.includes('*'), n);
  for (const d of DEFAULT_PROTECT) t.ok(d.why.length > 0, d.path);
});

t.test('core.hooksPath of a protected repository is protected too (hooks kept in the work tree)', async (t) => {
  const proj = mk('home/u/husky');
  mk('home/u/husky/.git/hooks');
  mk('home/u/husky/.husky/pre-commit', 'npm test\n');
  mk(
    'home/u/husky/.git/config',
    '[core]\n\tbare = false\n[remote "origin"]\n\thooksPath = nope\n[Core]\n\thooksPath = ".husky"\n',
  );
  const o = ops([rw(proj)], [rel('.git')]);
  t.same(o.map(line), [
    'bind /home/u/husky nosuid,nodev,noexec',
    'bind /home/u/husky/.git ro,nosuid,nodev,noexec',
    'bind /home/u/husky/.husky ro,nosuid,nodev,noexec',
  ]);
  t.same(
    ops([rw(proj)], [rel('.envrc')]).map(line),
    ['bind /home/u/husky nosuid,nodev,noexec'],
    'only with .git protected',
  );
});
