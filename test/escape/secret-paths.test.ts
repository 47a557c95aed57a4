// Escape suite, issue 10 item 2: a secret path reached through a symlink the
// sandbox planted. A firefox sandbox (which may write ~/Downloads) leaves
// `~/Downloads/holiday-photos -> ~/.ssh`; later the user runs a tool from
// there. tsjail binds the physical directory, so the current directory, a
// --ro of it, a glob or a user directory reaching it would show the key.
// Each is tried under every shipped profile; the control shows the key is
// readable outside through the same link.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  asUser,
  makeUserDir,
  mkUserDir,
  removeDir,
  tsjail,
  writeUserFile,
  type RunResult,
} from '../helpers/sandbox.js';

const KEY = 'PROBE-PRIVATE-KEY';
const home = makeUserDir('secret-paths');
t.teardown(() => removeDir(home));
writeUserFile(path.join(home, '.ssh/id_rsa'), `${KEY}\n`, 0o600);
mkUserDir(path.join(home, 'Downloads'));
const planted = path.join(home, 'Downloads/holiday-photos');
const PROFILES = ['default', 'untrusted', 'firefox', 'chromium'];

const refusedLine = (r: RunResult): string => r.stderr.split('\n').find((l) => l.includes('a secret path')) ?? r.stderr;

t.test('control: a firefox sandbox plants the link, and outside it leads to the key', async (t) => {
  const r = tsjail(['-p', 'firefox', '--', 'ln', '-s', path.join(home, '.ssh'), planted], { home });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readlinkSync(planted), path.join(home, '.ssh'), 'the sandbox wrote the link into ~/Downloads');
  const outside = tsjailFree(['cat', 'id_rsa'], planted);
  t.match(outside, KEY, 'cd ~/Downloads/holiday-photos && cat id_rsa prints the key without tsjail');
});

/** The same command as the test user, without tsjail, from `cwd` (with the logical $PWD). */
function tsjailFree(argv: string[], cwd: string): string {
  const a = asUser(argv, { PATH: '/usr/bin:/bin', HOME: home, PWD: cwd });
  return spawnSync(a[0]!, a.slice(1), { cwd, encoding: 'utf8' }).stdout;
}

for (const profile of PROFILES) {
  t.test(`${profile}: started in the planted directory, the key stays out`, async (t) => {
    const r = tsjail(['-v', '-p', profile, '--', 'cat', 'id_rsa'], { home, cwd: planted, env: { PWD: planted } });
    t.notMatch(r.stdout, KEY, 'the key is not printed');
    if (profile === 'default' || profile === 'untrusted') {
      // These show the current directory: refused, the one line naming both paths.
      t.equal(r.status, 125);
      t.match(refusedLine(r), `the current directory ${planted} resolves to ${path.join(home, '.ssh')}, a secret path`);
    } else {
      // The browsers never show the current directory: the program starts in
      // the home, and -v says where the directory really was.
      t.equal(r.status, 1);
      t.match(r.stderr, `current directory: $PWD is ${planted}, physically ${path.join(home, '.ssh')}`);
    }
  });

  t.test(`${profile}: --ro of the planted directory is refused`, async (t) => {
    for (const spelled of ['.', planted]) {
      // From the planted directory itself (where default and untrusted
      // already refuse the current directory) and, naming it absolutely, from the home.
      for (const cwd of spelled === '.' ? [planted] : [planted, home]) {
        const r = tsjail(['-p', profile, '--ro', spelled, '--', 'cat', path.join(planted, 'id_rsa')], {
          home,
          cwd,
          env: { PWD: cwd },
        });
        t.equal(r.status, 125, `--ro ${spelled} from ${cwd}`);
        // default and untrusted: a secret path; the browsers may write
        // ~/Downloads, so there the link is refused as one the sandbox planted.
        t.match(
          r.stderr,
          /^tsjail: (--ro: .*holiday-photos resolves to .*\.ssh, a secret path|.*the current directory .*a secret path|--ro .*: not following .*holiday-photos)/m,
        );
        t.notMatch(r.stdout, KEY);
      }
    }
  });

  t.test(`${profile}: a glob in the user's local profile that matches the link does not show it`, async (t) => {
    const local = path.join(home, '.config/tsjail/profiles', `${profile}.local.json5`);
    writeUserFile(local, '{ filesystem: { ro: ["${HOME}/Downloads/*"] } }\n');
    t.teardown(() => fs.rmSync(local, { force: true }));
    const r = tsjail(['-p', profile, '--', 'cat', path.join(planted, 'id_rsa')], { home });
    t.notMatch(r.stdout, KEY);
    if (profile === 'default' || profile === 'untrusted') {
      t.equal(r.status, 125);
      t.match(
        r.stderr,
        `a match of the glob \${HOME}/Downloads/* ${planted} resolves to ${path.join(home, '.ssh')}, a secret path`,
      );
    } else {
      // The browsers may write ~/Downloads: the link is one the sandbox could
      // have planted, so it is not followed (a warning, the entry skipped).
      t.match(r.stderr, `warning: ${local}:1 ${planted}: not following`);
      t.not(r.status, 0);
    }
  });

  t.test(`${profile}: a user directory configured as ~/.ssh is refused`, async (t) => {
    // A sandbox that could write ~/.config could leave this behind; the
    // browsers' downloads snippet grants ${XDG_DOWNLOAD_DIR} writable.
    const dirs = path.join(home, '.config/user-dirs.dirs');
    writeUserFile(dirs, 'XDG_DOWNLOAD_DIR="$HOME/.ssh"\nXDG_DOCUMENTS_DIR="$HOME/.ssh"\n');
    const local = path.join(home, '.config/tsjail/profiles', `${profile}.local.json5`);
    if (profile === 'default' || profile === 'untrusted')
      writeUserFile(local, '{ filesystem: { ro: ["${XDG_DOCUMENTS_DIR}"] } }\n');
    t.teardown(() => {
      fs.rmSync(dirs, { force: true });
      fs.rmSync(local, { force: true });
    });
    const r = tsjail(['-p', profile, '--', 'cat', path.join(home, '.ssh/id_rsa')], { home });
    t.equal(r.status, 125);
    t.match(r.stderr, /\$\{XDG_(DOWNLOAD|DOCUMENTS)_DIR\} \(a user directory/);
    t.notMatch(r.stdout, KEY);
  });
}

t.test('naming the secret path shows it: the rule refuses only implicit reach', async (t) => {
  const r = tsjail(['-p', 'untrusted', '--ro', path.join(home, '.ssh'), '--', 'cat', path.join(home, '.ssh/id_rsa')], {
    home,
  });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, KEY);
  const inside = tsjail(['-p', 'untrusted', '--ro', home, '--', 'sh', '-c', `ls -A ${home}; cat ${home}/.ssh/id_rsa`], {
    home,
  });
  t.match(inside.stdout, 'Downloads', 'a grant of the home shows the home');
  t.notMatch(inside.stdout, KEY, '...but hides ~/.ssh inside it');
});
