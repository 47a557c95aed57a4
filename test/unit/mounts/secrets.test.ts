// Secret and denied paths are shown only to a grant that names them
// (tsjail-profile(5), "Secret paths"), and hidden inside grants that show
// their parent. Planned against a real host tree with real symlinks.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planMounts, type FsRequest } from '../../../src/mounts/plan.js';
import { secretPaths } from '../../../src/mounts/secrets.js';
import { TsjailError } from '../../../src/errors.js';

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-secrets-')));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home/u');
for (const d of ['.ssh', '.mozilla/p', '.config/chromium', '.config/gtk-3.0', 'Downloads', 'work', 'private']) {
  fs.mkdirSync(path.join(home, d), { recursive: true });
}
fs.writeFileSync(path.join(home, '.ssh/id_rsa'), 'KEY');
fs.symlinkSync(path.join(home, '.ssh'), path.join(home, 'Downloads/holiday-photos'));
fs.symlinkSync(path.join(home, 'private'), path.join(home, 'work/notes'));
const secrets = secretPaths({ home, env: {} });

const req = (p: string, access: FsRequest['access'], extra: Partial<FsRequest> = {}): FsRequest => ({
  path: p,
  access,
  layer: 1,
  origin: `test:${access}`,
  required: false,
  ...extra,
});
const plan = (requests: FsRequest[]) => planMounts({ requests, devices: [], secrets });
const refused = (requests: FsRequest[]): string => {
  try {
    plan(requests);
  } catch (e) {
    if (e instanceof TsjailError) return e.message;
    throw e;
  }
  return 'accepted';
};

t.test(
  'the list covers keys, keyrings, browser profiles and tsjail itself, for HOME and the XDG directories',
  async (t) => {
    const list = secretPaths({
      home: '/home/u',
      env: { XDG_CONFIG_HOME: '/cfg', XDG_RUNTIME_DIR: '/run/user/7', SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1' },
    }).map((s) => s.path);
    for (const p of [
      '/home/u/.ssh',
      '/home/u/.gnupg',
      '/home/u/.local/share/keyrings',
      '/home/u/.mozilla',
      '/home/u/.config/chromium',
      '/cfg/chromium',
      '/home/u/.config/tsjail',
      '/cfg/tsjail',
      '/home/u/.password-store',
      '/home/u/.aws',
      '/home/u/.kube',
      '/home/u/.docker/config.json',
      '/home/u/.netrc',
      '/home/u/.pki',
      '/run/user/7',
      '/tmp/ssh-x/agent.1',
    ]) {
      t.ok(list.includes(p), p);
    }
    t.same(
      secretPaths({ home: '/', env: {} }).filter((s) => s.path.startsWith('/.')),
      [],
      'no home: nothing under /',
    );
  },
);

t.test('the current directory resolved into a secret path is refused, saying both names', async (t) => {
  const msg = refused([
    req(path.join(home, '.ssh'), 'ro', {
      implicit: 'the current directory',
      spelled: path.join(home, 'Downloads/holiday-photos'),
    }),
  ]);
  t.match(
    msg,
    `the current directory ${home}/Downloads/holiday-photos resolves to ${home}/.ssh, a secret path (SSH keys`,
  );
  t.match(msg, `--ro ${home}/.ssh`);
  t.match(
    refused([req(path.join(home, '.ssh'), 'ro', { implicit: 'the current directory' })]),
    'a secret path',
    'also when $PWD is the secret path itself',
  );
});

t.test(
  'a path reaching a secret path through a symlink is refused, a glob match and a user directory too',
  async (t) => {
    t.match(refused([req(path.join(home, 'Downloads/holiday-photos'), 'ro')]), 'resolves to');
    t.match(
      refused([req(path.join(home, 'Downloads/holiday-photos'), 'rw', { required: true, origin: '--rw' })]),
      /^--rw: /,
    );
    t.match(
      refused([
        req(path.join(home, 'Downloads/*'), 'ro', { glob: true, implicit: 'a match of the glob ~/Downloads/*' }),
      ]),
      'a match of the glob',
    );
    t.match(
      refused([req(path.join(home, '.ssh'), 'rw', { implicit: '${XDG_DOWNLOAD_DIR} (a user directory)' })]),
      'XDG_DOWNLOAD_DIR',
    );
    t.match(
      refused([req(path.join(home, '.ssh'), 'ro', { spelled: path.join(home, 'Downloads/holiday-photos') })]),
      'resolves to',
      'a relative --ro under a logical $PWD',
    );
  },
);

t.test('a grant that names a secret path shows it; so does an implicit one inside what it names', async (t) => {
  t.equal(refused([req(path.join(home, '.mozilla'), 'rw')]), 'accepted', 'firefox naming its own profile');
  t.equal(refused([req(path.join(home, '.ssh'), 'ro', { origin: '--ro' })]), 'accepted', '--ro ~/.ssh');
  t.equal(
    refused([
      req(path.join(home, '.ssh'), 'ro'),
      req(path.join(home, '.ssh'), 'ro', { implicit: 'the current directory' }),
    ]),
    'accepted',
  );
  t.match(
    refused([
      req(path.join(home, '.ssh'), 'ro'),
      req(path.join(home, '.ssh'), 'rw', { implicit: 'the current directory' }),
    ]),
    'a secret path',
    'but not more writable than it',
  );
});

t.test('a denied path is reached only by a grant that names it', async (t) => {
  const deny = req(path.join(home, 'private'), 'deny');
  t.match(
    refused([deny, req(path.join(home, 'work/notes'), 'ro')]),
    `${home}/work/notes resolves to ${home}/private, a denied path (test:deny)`,
  );
  t.match(
    refused([deny, req(path.join(home, 'private'), 'ro', { implicit: 'the current directory' })]),
    'a denied path',
  );
  t.equal(
    refused([deny, req(path.join(home, 'private'), 'ro')]),
    'accepted',
    'named: deny still wins at the same path (SPEC)',
  );
  const p = plan([deny, req(path.join(home, 'private'), 'ro')]);
  t.notOk(p.ops.find((o) => o.op === 'bind' && o.dest === path.join(home, 'private')));
});

t.test('a secret path inside a grant is hidden unless named', async (t) => {
  const p = plan([req(home, 'ro'), req(path.join(home, '.mozilla'), 'rw')]);
  const denied = p.ops.filter((o) => o.op === 'deny').map((o) => o.dest);
  t.ok(denied.includes(path.join(home, '.ssh')), '~/.ssh hidden');
  t.ok(denied.includes(path.join(home, '.config/chromium')), 'another browser hidden');
  t.notOk(denied.includes(path.join(home, '.mozilla')), 'the named profile is not');
  t.ok(p.ops.find((o) => o.op === 'bind' && o.dest === path.join(home, '.mozilla')));
  t.notOk(denied.includes(path.join(home, '.config/gtk-3.0')), 'ordinary settings stay');
  const inCwd = plan([req(path.join(home, '.config'), 'ro', { implicit: 'the current directory' })]);
  t.ok(
    inCwd.ops.find((o) => o.op === 'deny' && o.dest === path.join(home, '.config/chromium')),
    'inside the current directory too',
  );
});

t.test('without secrets (a caller that passes none) only denies are guarded', async (t) => {
  t.doesNotThrow(() => planMounts({ requests: [req(path.join(home, 'Downloads/holiday-photos'), 'ro')], devices: [] }));
});

t.test('an empty tmpfs at exactly a secret path inside a grant replaces it instead of hiding it', async (t) => {
  // The desktop's runtime directory (XDG_RUNTIME_DIR inside the home, as in
  // a test session) under a writable home: a fresh tmpfs, where tsjail then
  // writes the display's cookie, holds nothing of the host's sockets.
  const runtime = path.join(home, 'run');
  fs.mkdirSync(path.join(runtime, 'pulse'), { recursive: true });
  const withRuntime = secretPaths({ home, env: { XDG_RUNTIME_DIR: runtime } });
  t.ok(
    withRuntime.some((s) => s.path === runtime),
    'the runtime directory is a secret path',
  );
  const p = planMounts({ requests: [req(home, 'rw'), req(runtime, 'tmpfs')], devices: [], secrets: withRuntime });
  t.notOk(
    p.ops.some((o) => o.op === 'deny' && o.dest === runtime),
    'not hidden under the tmpfs',
  );
  t.ok(
    p.ops.some((o) => o.op === 'tmpfs' && o.dest === runtime),
    'an empty tmpfs there',
  );
  t.ok(
    p.ops.some((o) => o.op === 'deny' && o.dest === path.join(home, '.ssh')),
    'other secrets stay hidden',
  );
  const without = planMounts({ requests: [req(home, 'rw')], devices: [], secrets: withRuntime });
  t.ok(
    without.ops.some((o) => o.op === 'deny' && o.dest === runtime),
    'without the tmpfs it is hidden',
  );
});
