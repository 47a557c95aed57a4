// SPEC "Semantics users rely on", the filesystem side, tried the way an
// escaping program would: read outside, write read-only paths, execute from
// writable ones (also through ld.so), reach the host's /tmp, home or /run.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inSandbox, makeUserDir, removeDir, testUser, writeUserFile } from '../helpers/sandbox.js';

const user = testUser();
const home = makeUserDir('home');
t.teardown(() => removeDir(home));
writeUserFile(path.join(home, '.ssh/id_probe'), 'PRIVATE KEY', 0o600);
writeUserFile(path.join(home, 'notes.txt'), 'host notes');
writeUserFile(path.join(home, 'work/data.txt'), 'data');
const opts = { home, cwd: home };
const ldso = fs.existsSync('/lib64/ld-linux-x86-64.so.2')
  ? '/lib64/ld-linux-x86-64.so.2'
  : '/lib/ld-linux-aarch64.so.1';

t.test('nothing of the host is visible unless named', async (t) => {
  const r = inSandbox(
    'ls -A /; echo ---; ls -A "$HOME"; echo ---; ls /home /run /var /srv /mnt /media /sys /root 2>&1; cat /etc/shadow 2>&1; true',
    [],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  const [rootList, homeList, rest] = r.stdout.split('---\n');
  const top = rootList!.trim().split('\n').sort();
  for (const hidden of ['home', 'run', 'var', 'srv', 'mnt', 'media', 'sys', 'root', 'boot', 'opt']) {
    if (hidden === home.split('/')[1]) continue; // the path to the (empty) home exists
    t.notOk(top.includes(hidden), `/${hidden} absent`);
  }
  t.equal(homeList!.trim(), '', 'home is empty: the default profile gives an empty home');
  t.match(rest, /\/etc\/shadow: No such file/);
  t.match(rest, /\/sys.*No such file/);
});

t.test('the host /tmp is never shown; /tmp is private', async (t) => {
  const marker = `/tmp/tsjail-host-marker-${process.pid}`;
  fs.writeFileSync(marker, 'host');
  t.teardown(() => fs.rmSync(marker, { force: true }));
  const r = inSandbox(
    `ls -A /tmp; test -e ${marker} && echo LEAK; echo inside > /tmp/from-sandbox && echo wrote`,
    [],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /LEAK/);
  t.match(r.stdout, /wrote/);
  t.notOk(fs.existsSync('/tmp/from-sandbox'), 'the write stayed inside');
});

t.test('read-only paths cannot be written, created in, or removed from', async (t) => {
  const r = inSandbox(
    'echo x >> work/data.txt; echo "rc=$?"; touch work/new; echo "rc=$?"; rm work/data.txt; echo "rc=$?"; cat work/data.txt',
    ['--ro', `${home}/work`],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^rc=[1-9]/m);
  t.notMatch(r.stdout, /rc=0/);
  t.match(r.stdout, /^data$/m, 'still readable');
  t.match(r.stderr, /Read-only file system/);
  t.equal(fs.readFileSync(path.join(home, 'work/data.txt'), 'utf8'), 'data', 'host file untouched');
});

t.test('writable paths are writable, and the writes reach the host', async (t) => {
  const r = inSandbox('echo more >> work/data.txt && mkdir work/d && echo ok', ['--rw', `${home}/work`], opts);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(home, 'work/data.txt'), 'utf8'), 'datamore\n');
  t.ok(fs.statSync(path.join(home, 'work/d')).isDirectory());
  fs.writeFileSync(path.join(home, 'work/data.txt'), 'data');
  fs.rmdirSync(path.join(home, 'work/d'));
});

t.test('nothing can be executed from a writable path, not even through ld.so', async (t) => {
  const bin = path.join(home, 'work/mytrue');
  fs.copyFileSync('/bin/true', bin);
  fs.chmodSync(bin, 0o755);
  if (process.getuid!() === 0) fs.chownSync(bin, user.uid, user.gid);
  t.teardown(() => fs.rmSync(bin, { force: true }));
  const rw = inSandbox(
    `${bin}; echo "direct=$?"; ${ldso} ${bin}; echo "ldso=$?"; cp /bin/true /tmp/t && /tmp/t; echo "tmp=$?"; cp /bin/true /dev/shm/t && /dev/shm/t; echo "shm=$?"`,
    ['--rw', `${home}/work`],
    opts,
  );
  t.match(rw.stdout, /direct=126/);
  t.match(rw.stdout, /ldso=(1|126|127)/);
  t.notMatch(rw.stdout, /ldso=0/);
  t.match(rw.stdout, /tmp=126/);
  t.match(rw.stdout, /shm=126/);
  const ro = inSandbox(`${bin}; echo "direct=$?"`, ['--ro', `${home}/work`], opts);
  t.match(ro.stdout, /direct=0/, 'read-only paths may be executed');
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(path.join(dir, 'x.json5'), `{ filesystem: { rw: ["${home}/work"], exec: ["${home}/work"] } }`);
  const ex = inSandbox(`${bin}; echo "direct=$?"`, ['-p', path.join(dir, 'x.json5')], opts);
  t.match(ex.stdout, /direct=0/, 'exec lists a writable path that may be executed');
});

t.test('deny wins over an allow of the same or a parent path', async (t) => {
  const r = inSandbox(
    'cat .ssh/id_probe; echo "rc=$?"; ls -A .ssh 2>&1; cat notes.txt',
    ['--rw', home, '--deny', `${home}/.ssh`],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /PRIVATE KEY/);
  t.match(r.stdout, /rc=1/);
  t.match(r.stdout, /host notes/, 'the rest of the granted path is there');
  const same = inSandbox('cat .ssh/id_probe', ['--ro', `${home}/.ssh`, '--deny', `${home}/.ssh`], opts);
  t.notMatch(same.stdout, /PRIVATE KEY/);
});

t.test('the current directory is shown read-only, but never the home or the root', async (t) => {
  const r = inSandbox('pwd; ls; touch x 2>&1; echo "rc=$?"', [], { home, cwd: path.join(home, 'work') });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^${path.join(home, 'work')}$`, 'm'));
  t.match(r.stdout, /data\.txt/);
  t.match(r.stdout, /rc=1/);
  const h = inSandbox('pwd; ls -A', [], { home, cwd: home });
  t.equal(h.stdout.trim(), home, 'from the home directory: an empty home, nothing of the host');
});

t.test('a path in a profile that does not exist is skipped, and -v says so', async (t) => {
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(path.join(dir, 'm.json5'), `{ filesystem: { ro: ["${home}/missing-dir"] } }`);
  const r = inSandbox('echo ran', ['-v', '-p', path.join(dir, 'm.json5')], opts);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /skipped .*missing-dir.*does not exist/);
});

t.test('/etc holds only what programs need; resolv.conf works', async (t) => {
  const r = inSandbox(
    'ls /etc; cat /etc/resolv.conf >/dev/null && echo resolv-ok; getent passwd "$(id -u)" >/dev/null && echo passwd-ok',
    ['--net', 'host'],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /^(shadow|gshadow|sudoers|ssh)$/m);
  t.match(r.stdout, /resolv-ok/);
  t.match(r.stdout, /passwd-ok/);
});

t.test('symlinked grants keep working: the link is recreated, its target shown', async (t) => {
  const target = makeUserDir('elsewhere');
  t.teardown(() => removeDir(target));
  writeUserFile(path.join(target, 'f.txt'), 'through the link');
  const link = path.join(home, 'Linked');
  fs.symlinkSync(target, link);
  if (process.getuid!() === 0) fs.lchownSync(link, user.uid, user.gid);
  t.teardown(() => fs.rmSync(link, { force: true }));
  const r = inSandbox('cat Linked/f.txt; readlink Linked', ['--ro', link], opts);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /through the link/);
  t.match(r.stdout, new RegExp(target));
});

t.test('network "none": only a loopback that is up', async (t) => {
  // Interface flags through an ioctl on a unix socket: netlink (ip) and inet
  // sockets are refused by the filter when there is no network.
  const flags = `import socket, fcntl, struct
s = socket.socket(socket.AF_UNIX)
r = fcntl.ioctl(s, 0x8913, struct.pack("16sH14s", b"lo", 0, b""))
print("lo up" if struct.unpack("16sH", r[:18])[1] & 1 else "lo down")`;
  const r = inSandbox(
    `cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; /usr/bin/python3 -c '${flags}'`,
    [],
    opts,
  );
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.same(lines, ['lo', 'lo up'], 'only lo, and it is up');
  const host = inSandbox('cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "', ['--net', 'host'], opts);
  t.ok(
    host.stdout
      .trim()
      .split('\n')
      .some((l) => l !== 'lo'),
    "with --net host the host's interfaces are there",
  );
});
