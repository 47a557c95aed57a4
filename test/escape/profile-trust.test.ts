// Escape suite, issue 10 item 8: profiles nobody vouches for. A profile
// decides what the sandbox reaches, so whoever can change it attacks the
// caller: a profile owned by nobody, mode 0666, in a 1777 directory, and
// another user's NAME.local.json5 reached through XDG_CONFIG_HOME, each
// granting rw ~/.ssh. The control shows such a file is writable by that
// other user and that its contents, trusted, do show the key; under tsjail
// each is refused (125) by run and by profile check, under every shipped
// profile for the local file.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IS_ROOT, makeUserDir, removeDir, testUser, tsjail, tsjailRoot, writeUserFile } from '../helpers/sandbox.js';

const KEY = 'PROBE-PRIVATE-KEY';
const EVIL = '{ filesystem: { rw: ["${HOME}/.ssh"] } }\n';
const PROFILES = ['default', 'untrusted', 'firefox', 'chromium'];
const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
const NOBODY = nobody.status === 0 ? Number(nobody.stdout.trim()) : undefined;

if (!IS_ROOT || NOBODY === undefined) {
  t.skip('needs root (to make files owned by another user, "nobody") and the user nobody', async () => {});
} else {
  const user = testUser();
  const home = makeUserDir('profile-trust');
  writeUserFile(path.join(home, '.ssh/id_rsa'), `${KEY}\n`, 0o600);
  // A world-writable sticky directory, as /tmp is.
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-trust-'));
  fs.chmodSync(shared, 0o1777);
  t.teardown(() => {
    removeDir(home);
    removeDir(shared);
  });
  const put = (file: string, uid: number, mode: number, text = EVIL): string => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    fs.chownSync(file, uid, uid === user.uid ? user.gid : uid);
    fs.chmodSync(file, mode);
    return file;
  };
  const cat = ['--', 'cat', path.join(home, '.ssh/id_rsa')];

  t.test('control: nobody can change the planted profile, and its contents, trusted, show the key', async (t) => {
    const planted = put(path.join(shared, 'evil.json5'), NOBODY, 0o666);
    const w = spawnSync('setpriv', [
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      'sh',
      '-c',
      `echo '// x' >> ${planted}`,
    ]);
    t.equal(w.status, 0, 'another user writes the profile');
    const mine = put(path.join(home, 'mine.json5'), user.uid, 0o644);
    const r = tsjail(['-p', mine, ...cat], { home });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, KEY, 'the same profile from a trusted file grants ~/.ssh');
  });

  t.test("-p PATH: refused unless the file and every directory above it are the caller's or root's", async (t) => {
    const cases: [string, number, number, RegExp][] = [
      ['nobody-0666.json5', NOBODY, 0o666, /is owned by uid \d+, not by you or root/],
      ['nobody-0644.json5', NOBODY, 0o644, /is owned by uid \d+, not by you or root/],
      ['mine-0666.json5', user.uid, 0o666, /is writable by others \(mode 0666\)/],
      ['mine-0664.json5', user.uid, 0o664, /is writable by others \(mode 0664\)/],
    ];
    for (const [name, uid, mode, why] of cases) {
      const file = put(path.join(shared, name), uid, mode);
      for (const verb of [
        ['run', '-p', file, ...cat],
        ['profile', 'check', file],
      ]) {
        const r = tsjail(verb, { home });
        t.equal(r.status, 125, `${verb[0]} ${name}`);
        t.match(r.stderr, new RegExp(`^tsjail: ${file}: not trusted: .*`, 'm'));
        t.match(r.stderr, why);
        t.notMatch(r.stdout, KEY);
      }
    }
    // The caller's own file in the sticky directory: only the caller (or root) can replace it.
    const own = put(path.join(shared, 'mine-0644.json5'), user.uid, 0o644);
    t.match(tsjail(['-p', own, ...cat], { home }).stdout, KEY, "the caller's own file in a sticky directory is used");
    // ...but not in a writable directory without the sticky bit, nor through a directory of someone else.
    const open = fs.mkdtempSync(path.join(shared, 'open-'));
    fs.chmodSync(open, 0o777);
    const inOpen = put(path.join(open, 'p.json5'), user.uid, 0o644);
    const r1 = tsjail(['-p', inOpen, ...cat], { home });
    t.equal(r1.status, 125);
    t.match(r1.stderr, `the directory ${open} is writable by others (mode 0777)`);
    const theirs = fs.mkdtempSync(path.join(shared, 'theirs-'));
    fs.chownSync(theirs, NOBODY, NOBODY);
    fs.chmodSync(theirs, 0o755);
    const inTheirs = put(path.join(theirs, 'p.json5'), user.uid, 0o644);
    const r2 = tsjail(['-p', inTheirs, ...cat], { home });
    t.equal(r2.status, 125);
    t.match(r2.stderr, `the directory ${theirs} is owned by uid ${NOBODY}`);
    t.notMatch(r1.stdout + r2.stdout, KEY);
  });

  t.test('a symlink to a trusted file, planted by someone else in a sticky directory, is refused', async (t) => {
    const target = put(path.join(home, 'target.json5'), user.uid, 0o644);
    const link = path.join(shared, 'link.json5');
    fs.symlinkSync(target, link);
    fs.lchownSync(link, NOBODY, NOBODY);
    const r = tsjail(['-p', link, ...cat], { home });
    t.equal(r.status, 125);
    t.match(r.stderr, `the symlink ${link} is owned by uid ${NOBODY}`);
  });

  // Another user's configuration directory, reached through XDG_CONFIG_HOME.
  const other = fs.mkdtempSync(path.join(shared, 'other-config-'));
  fs.chmodSync(other, 0o755);
  fs.chownSync(other, NOBODY, NOBODY);
  for (const profile of PROFILES) {
    t.test(`${profile}: another user's ${profile}.local.json5 through XDG_CONFIG_HOME is refused`, async (t) => {
      const local = put(path.join(other, 'tsjail/profiles', `${profile}.local.json5`), NOBODY, 0o644);
      for (const d of [path.join(other, 'tsjail'), path.join(other, 'tsjail/profiles')])
        fs.chownSync(d, NOBODY, NOBODY);
      t.teardown(() => fs.rmSync(local, { force: true }));
      const env = { XDG_CONFIG_HOME: other };
      const r = tsjail(['-p', profile, ...cat], { home, env });
      t.equal(r.status, 125);
      t.match(r.stderr, `${local}: not trusted: ${local} is owned by uid ${NOBODY}`);
      t.notMatch(r.stdout, KEY);
      const c = tsjail(['profile', 'check', profile], { home, env });
      t.equal(c.status, 125, 'profile check says the same');
      t.match(c.stderr, `${local}: not trusted`);
      // Without the foreign local file the shipped profile runs and shows no key.
      fs.rmSync(local);
      const plain = tsjail(['-p', profile, ...cat], { home, env });
      t.not(plain.status, 125, plain.stderr);
      t.notMatch(plain.stdout, KEY);
    });
  }

  t.test('a snippet nobody vouches for is refused where it is included', async (t) => {
    const dir = makeUserDir('trust-snippets');
    t.teardown(() => removeDir(dir));
    const snippet = put(path.join(dir, 'include/evil.json5'), user.uid, 0o666);
    fs.chownSync(path.dirname(snippet), user.uid, user.gid);
    const prof = put(path.join(dir, 'app.json5'), user.uid, 0o644, '{ include: ["evil"] }\n');
    const env = { TSJAIL_PROFILE_PATH: `${dir}:${path.join(tsjailRoot(), 'profiles')}` };
    const r = tsjail(['-p', 'app', ...cat], { home, env });
    t.equal(r.status, 125);
    t.match(r.stderr, /snippet "evil": not trusted: .* is writable by others \(mode 0666\)/);
    t.notMatch(r.stdout, KEY);
    fs.chmodSync(snippet, 0o644);
    t.ok(prof);
    t.match(tsjail(['-p', 'app', ...cat], { home, env }).stdout, KEY, 'the same snippet, trusted, is merged');
  });
}
