// SPEC v2 `root: DIR` / `--root DIR` and `uid: 0` / `--uid 0` (issue 19): a
// directory tree as the system, and root inside without privilege outside.
// The trees are built here from Debian's static busybox (busybox-static),
// one merged-usr (bin -> usr/bin) and one with real /bin and /sbin.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inSandbox, IS_ROOT, makeUserDir, removeDir, testUser, tsjail, writeUserFile } from '../helpers/sandbox.js';
import { privateNetworkSkip } from '../helpers/internet.js';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'ls', 'id', 'cat', 'echo', 'touch', 'mount', 'stat', 'chown', 'grep', 'test', 'true'];
const user = testUser();
const isStatic = fs.existsSync(BUSYBOX) && !spawnSync('ldd', [BUSYBOX], { encoding: 'utf8' }).stdout.includes('=>');
const haveGcc = spawnSync('gcc', ['--version']).status === 0;

// The file's limit covers its slowest test's own (a Debian system built by
// mmdebstrap, 1 500 s): tap's 300 s for the file cut that test off under load.
t.setTimeout(1_800_000);
const work = makeUserDir('tree');
t.teardown(() => removeDir(work));
const home = makeUserDir('home');
t.teardown(() => removeDir(home));
writeUserFile(path.join(home, '.ssh/id_tree'), 'PRIVATE KEY', 0o600);
writeUserFile(path.join(home, 'shared/note.txt'), 'host note');
const opts = { home, cwd: home };

// A static probe: PTRACE_TRACEME, whose answer says whether ptrace is reachable at all.
const PTRACE_PROBE = `#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
int main(void) { long r = ptrace(PTRACE_TRACEME, 0, 0, 0); printf("ptrace=%ld %s\\n", r, r ? strerror(errno) : "ok"); return 0; }
`;

/** A busybox tree at DIR: merged (/bin a link to usr/bin) or not. */
function makeTree(dir: string, merged: boolean): void {
  const bin = merged ? path.join(dir, 'usr/bin') : path.join(dir, 'bin');
  for (const d of [bin, path.join(dir, 'etc'), path.join(dir, 'usr/share'), path.join(dir, 'root')])
    fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(bin, a));
  if (merged) fs.symlinkSync('usr/bin', path.join(dir, 'bin'));
  else fs.mkdirSync(path.join(dir, 'usr/bin'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\n${user.name}:x:${user.uid}:${user.gid}::/h:/bin/sh\n`,
  );
  fs.writeFileSync(path.join(dir, 'etc/group'), `root:x:0:\n`);
  fs.writeFileSync(path.join(dir, 'usr/share/tree-marker'), `tree ${merged ? 'merged' : 'split'}\n`);
  if (haveGcc) {
    fs.writeFileSync(path.join(work, 'ptrace.c'), PTRACE_PROBE);
    const cc = spawnSync('gcc', ['-static', '-O1', '-o', path.join(bin, 'ptrace-probe'), path.join(work, 'ptrace.c')], {
      encoding: 'utf8',
    });
    if (cc.status !== 0) throw new Error(`gcc -static: ${cc.stderr}`);
  }
  chownTree(dir);
}

function chownTree(dir: string): void {
  if (!IS_ROOT) return;
  spawnSync('chown', ['-R', '-h', `${user.uid}:${user.gid}`, dir]);
}

const skip = isStatic ? false : `${BUSYBOX} is not a static busybox (Debian: busybox-static)`;
const merged = path.join(work, 'merged');
const split = path.join(work, 'split');
if (!skip) {
  makeTree(merged, true);
  makeTree(split, false);
}

t.test('the tree is the system: its /usr, not the host’s; granted host paths still appear', { skip }, async (t) => {
  for (const tree of [merged, split]) {
    const r = inSandbox(
      'cat /usr/share/tree-marker; ls /usr; test -e /usr/lib/x86_64-linux-gnu || test -e /usr/lib/aarch64-linux-gnu && echo HOST-LIBS; ' +
        'cat ~/shared/note.txt; cat ~/.ssh/id_tree 2>&1; echo rc=$?; ls /',
      ['--root', tree, '--ro', path.join(home, 'shared')],
      opts,
    );
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, tree === merged ? /tree merged/ : /tree split/, `${tree}: the tree's /usr`);
    t.notMatch(r.stdout, /HOST-LIBS/, "the host's libraries are not there");
    t.match(r.stdout, /host note/, 'a granted host path is there');
    t.notMatch(r.stdout, /PRIVATE KEY/, 'a secret of the host is not');
    t.match(r.stdout, /rc=1/);
  }
  // The outside control: the same host files exist and are readable outside.
  t.ok(fs.existsSync('/usr/lib/x86_64-linux-gnu') || fs.existsSync('/usr/lib/aarch64-linux-gnu'));
  t.match(fs.readFileSync(path.join(home, '.ssh/id_tree'), 'utf8'), /PRIVATE KEY/);
});

t.test('the tree is read-only unless granted writable', { skip }, async (t) => {
  const r = inSandbox('touch /usr/share/new 2>&1; echo rc=$?', ['--root', merged], opts);
  t.match(r.stdout, /rc=1/, r.stdout);
  t.notOk(fs.existsSync(path.join(merged, 'usr/share/new')));
  const prof = makeUserDir('prof');
  t.teardown(() => removeDir(prof));
  writeUserFile(path.join(prof, 'w.json5'), `{ root: { writable: true } }`);
  const w = inSandbox('touch /usr/share/new; echo rc=$?', ['-p', path.join(prof, 'w.json5'), '--root', merged], opts);
  t.match(w.stdout, /rc=0/, w.stderr);
  t.ok(fs.existsSync(path.join(merged, 'usr/share/new')), 'written in the tree on the host');
  fs.rmSync(path.join(merged, 'usr/share/new'));
});

t.test('--uid 0: root inside, the caller outside; mount and ptrace still refused', { skip }, async (t) => {
  const rw = makeUserDir('rw');
  t.teardown(() => removeDir(rw));
  const r = inSandbox(
    `id -u; id -g; id -un; touch ${rw}/made; mount -t tmpfs none /tmp 2>&1; echo mount=$?; ` +
      `${haveGcc ? 'ptrace-probe; ' : ''}grep CapEff /proc/self/status; cat ~/.ssh/id_tree 2>&1; true`,
    ['--root', merged, '--uid', '0', '--rw', rw],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^0\n0\nroot\n/, 'uid and gid 0, named root by the tree');
  const st = fs.statSync(path.join(rw, 'made'));
  t.equal(st.uid, user.uid, 'the file belongs to the caller outside');
  t.equal(st.gid, user.gid);
  t.match(r.stdout, /mount=[1-9]/, 'mount refused');
  t.match(r.stdout, /CapEff:\s+0+\n/, 'no capabilities');
  t.notMatch(r.stdout, /PRIVATE KEY/);
  if (haveGcc) {
    t.match(r.stdout, /ptrace=-1 Operation not permitted/, 'ptrace refused');
    // Outside control: the same probe may ptrace outside.
    const out = spawnSync(path.join(merged, 'usr/bin/ptrace-probe'), { encoding: 'utf8' });
    t.match(out.stdout, /ptrace=0 ok/);
  }
});

t.test('capabilities: kept inside the namespace as asked, nothing more', { skip }, async (t) => {
  const prof = makeUserDir('prof');
  t.teardown(() => removeDir(prof));
  writeUserFile(
    path.join(prof, 'pm.json5'),
    `{ uid: 0, capabilities: ["chown", "fowner"], syscalls: { allow: ["@default", "@chown"] } }`,
  );
  const r = inSandbox(
    'grep -E "Cap(Eff|Amb|Bnd)" /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f; echo chown=$?; stat -c %u /tmp/f; ' +
      'mount -t tmpfs none /tmp 2>&1; echo mount=$?',
    ['-p', path.join(prof, 'pm.json5'), '--root', merged],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  // CAP_CHOWN (0) and CAP_FOWNER (3): 0x9.
  t.match(r.stdout, /CapEff:\s+0+9\n/);
  t.match(r.stdout, /CapAmb:\s+0+9\n/);
  t.match(r.stdout, /CapBnd:\s+0+9\n/);
  t.match(r.stdout, /mount=[1-9]/, 'no CAP_SYS_ADMIN, and mount is refused by seccomp anyway');
  const full = fs.readFileSync('/etc/subuid', 'utf8').includes(`${user.name}:`) && fs.existsSync('/usr/bin/newuidmap');
  if (full) {
    t.match(r.stdout, /chown=0\n1\n/, 'with /etc/subuid and newuidmap, uid 1 is mapped and chown to it works');
  } else {
    t.match(r.stdout, /chown=1/, 'one id mapped: chown to another id fails');
    t.match(r.stderr, /only uid and gid 0 are mapped/, 'and tsjail said so');
  }
});

t.test(
  'network "private" with a tree: its own resolver bound over the tree’s file, which stays as it is',
  { skip: skip || privateNetworkSkip() || false },
  async (t) => {
    const tree = path.join(work, 'net');
    makeTree(tree, true);
    const resolv = path.join(tree, 'etc/resolv.conf');
    const theirs = 'nameserver 192.0.2.53\n';
    writeUserFile(resolv, theirs);
    // Control: with the host's network the sandbox reads the tree's file.
    const host = inSandbox('cat /etc/resolv.conf', ['--root', tree, '--net', 'host'], opts);
    t.equal(host.stdout, theirs, `the tree's own under --net host (${host.stderr.trim()})`);

    const r = inSandbox(
      'cat /etc/resolv.conf; echo changed > /etc/resolv.conf 2>/dev/null && echo WROTE || echo read-only',
      ['--root', tree, '--net', 'private'],
      opts,
    );
    t.equal(r.status, 0, r.stderr);
    t.notMatch(r.stdout, /192\.0\.2\.53/, "not the tree's resolver");
    t.match(r.stdout, /^nameserver \d+\.\d+\.\d+\.\d+$/m, "the private network's own");
    t.match(r.stdout, /^read-only$/m, 'which the sandbox cannot change');
    t.equal(fs.readFileSync(resolv, 'utf8'), theirs, "the tree's file is left as it was");

    // A link in its place: a mount point is never followed, so it is refused, naming the fix.
    fs.rmSync(resolv);
    fs.symlinkSync('../run/resolv.conf', resolv);
    chownTree(tree);
    const link = tsjail(['--root', tree, '--net', 'private', '--', '/bin/true'], opts);
    t.equal(link.status, 125, 'a link: refused');
    t.match(link.stderr, /resolv\.conf is a symbolic link; make it a regular file/);
    t.equal(link.stderr.trim().split('\n').length, 1, 'in one line');
    fs.rmSync(resolv);
    const none = tsjail(['--root', tree, '--net', 'private', '--', '/bin/true'], opts);
    t.equal(none.status, 125, 'none: refused');
    t.match(none.stderr, /resolv\.conf does not exist; make it a regular file/);
  },
);

t.test('bad trees are refused with one line and 125', { skip }, async (t) => {
  const file = path.join(work, 'a-file');
  writeUserFile(file, 'x');
  const empty = path.join(work, 'empty');
  fs.mkdirSync(empty);
  chownTree(empty);
  const open = path.join(work, 'open');
  makeTree(open, true);
  fs.chmodSync(path.join(open, 'usr'), 0o777);
  const cases: [string[], RegExp][] = [
    [['--root', path.join(work, 'missing'), 'sh'], /no such directory/],
    [['--root', file, 'sh'], /not a directory/],
    [['--root', empty, 'sh'], /no executable \/bin\/sh/],
    [['--root', open, 'sh'], /writable by nobody but you or root/],
    [['--root', merged, 'no-such-program'], /not found in the system tree/],
    [['--root', merged, '--ro', '/usr/share', 'sh'], /--ro \/usr\/share: \/usr comes from the system tree/],
    [['--uid', '7', 'sh'], /--uid/],
  ];
  for (const [args, msg] of cases) {
    const r = tsjail(args, opts);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, msg, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

// Issue 19 item 3 and the README's example, for real: a minbase Debian tree
// built by the user with mmdebstrap --mode=unshare, a package installed in
// it as "root" under os-build, then run from it under the default profile.
const mmdebstrap = spawnSync('mmdebstrap', ['--version']).status === 0;
const newuidmap = fs.existsSync('/usr/bin/newuidmap');
const subuid = (() => {
  try {
    return fs
      .readFileSync('/etc/subuid', 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${user.name}:`));
  } catch {
    return false;
  }
})();
const mirror = spawnSync('getent', ['hosts', 'deb.debian.org']).status === 0;
const osBuildSkip = !mmdebstrap
  ? 'mmdebstrap is not installed'
  : !newuidmap
    ? 'newuidmap is not installed (Debian: uidmap)'
    : !subuid
      ? `${user.name} has no range in /etc/subuid`
      : !mirror
        ? 'deb.debian.org does not resolve here: no Debian mirror to build a tree from'
        : false;

t.test(
  'os-build: mmdebstrap a tree, apt-get install hello in it as root, run hello from it',
  { skip: osBuildSkip, timeout: 1_500_000 },
  async (t) => {
    const tree = path.join(work, 'bookworm');
    const hostHello = fs.existsSync('/usr/bin/hello');
    const build = inSandbox('true', [], opts); // the test user can run tsjail at all
    t.equal(build.status, 0, build.stderr);
    const mm = spawnSync(
      'setpriv',
      [
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        '--init-groups',
        '--',
        'env',
        `HOME=${home}`,
        'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
        'mmdebstrap',
        '--quiet',
        '--variant=minbase',
        '--mode=unshare',
        'bookworm',
        tree,
      ],
      { cwd: home, encoding: 'utf8', timeout: 1_200_000 },
    );
    t.equal(mm.status, 0, `mmdebstrap: ${mm.stderr.slice(-2000)}`);
    if (mm.status !== 0) return;
    t.teardown(() => spawnSync('rm', ['-rf', tree]));
    const install = tsjail(
      [
        '-p',
        'os-build',
        '--root',
        tree,
        '--uid',
        '0',
        '--',
        'sh',
        '-c',
        'apt-get update -q && apt-get install -y -q hello',
      ],
      { ...opts, timeout: 600_000 },
    );
    t.equal(install.status, 0, `${install.stdout.slice(-1500)}\n${install.stderr.slice(-1500)}`);
    t.match(install.stdout, /Setting up hello/);
    const hello = tsjail(['--root', tree, '--', 'hello'], opts);
    t.equal(hello.status, 0, hello.stderr);
    t.equal(hello.stdout, 'Hello, world!\n');
    // Installed in the tree on the host, owned by the tree's root (the first subordinate uid).
    const st = fs.statSync(path.join(tree, 'usr/bin/hello'));
    t.not(st.uid, 0, 'nothing of the host was written as root');
    t.match(fs.readFileSync('/etc/subuid', 'utf8'), new RegExp(`^${user.name}:${st.uid}:`, 'm'));
    t.equal(fs.existsSync('/usr/bin/hello'), hostHello, "the host's own /usr is untouched");
  },
);
