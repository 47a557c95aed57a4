// filesystem.args (SPEC v2, issue 12): the files a program is given on its
// command line are shown at their own path, read-only or writable as the
// profile says, and nothing beside them; never a secret or denied path,
// also not through a symlink; never the home folder or / whole. Each refusal
// has its outside control: the same file is there and readable by the same
// user without tsjail.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { asUser, makeUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';

const home = makeUserDir('file-args');
t.teardown(() => removeDir(home));
const docs = path.join(home, 'Documents');
const paper = path.join(docs, 'paper.txt');
const other = path.join(docs, 'other.txt');
const secret = path.join(home, '.ssh', 'id_probe');
const privateFile = path.join(home, 'private', 'diary.txt');
const link = path.join(docs, 'innocent.txt');
writeUserFile(paper, 'the paper\n');
writeUserFile(other, 'the other file\n');
writeUserFile(secret, 'PROBE-SECRET key\n', 0o600);
writeUserFile(privateFile, 'PROBE-SECRET diary\n');
fs.symlinkSync(secret, link);
fs.lchownSync(link, fs.statSync(home).uid, fs.statSync(home).gid);
const profiles = path.join(home, '.config', 'tsjail', 'profiles');
const profile = (args: string) =>
  `{\n  description: "test",\n  filesystem: {\n    tmpfs: ["\${HOME}"],\n    deny: ["\${HOME}/private"],\n    args: "${args}",\n  },\n  network: "none",\n}\n`;
writeUserFile(path.join(profiles, 'viewer.json5'), profile('ro'));
writeUserFile(path.join(profiles, 'editor.json5'), profile('rw'));
const opts = { home, cwd: home };
const sh = (p: string, script: string, ...args: string[]) =>
  tsjail(['-p', p, '/bin/sh', '-c', script, 'sh', ...args], opts);

/** The outside control: the test user reads `file` without tsjail. */
function readsOutside(t: Test, file: string): void {
  const argv = asUser(['/bin/cat', file], userEnv({ home }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  t.equal(r.status, 0, `outside tsjail the test user reads ${path.relative(home, file)}`);
}

t.test('profile check accepts args, and rejects a value it does not know', async (t) => {
  t.equal(tsjail(['profile', 'check', 'viewer', 'editor'], opts).status, 0);
  writeUserFile(path.join(profiles, 'bad.json5'), profile('write'));
  const r = tsjail(['profile', 'check', 'bad'], opts);
  t.equal(r.status, 125);
  t.match(r.stderr, /filesystem\.args.*unknown filesystem\.args value "write"/);
});

t.test('ro: the file named is readable, its neighbour is not there, nothing can be written', async (t) => {
  const r = sh(
    'viewer',
    'cat "$1"; cat "$2" 2>&1; echo more >> "$1"; echo "write=$?"; ls -A "$HOME/Documents"',
    paper,
    `--other=${path.join(docs, 'missing.txt')}`,
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^the paper$/m, 'the argument is shown');
  t.match(r.stdout, /^write=[1-9]/m, 'read-only');
  t.match(r.stdout, /^paper\.txt$/m);
  t.notMatch(r.stdout, /other\.txt|innocent/, 'nothing else of the folder');
  t.equal(fs.readFileSync(paper, 'utf8'), 'the paper\n', 'unchanged outside');
});

t.test('the value of --option=PATH is an argument too', async (t) => {
  const r = sh('viewer', 'cat "${1#--input=}"', `--input=${other}`);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'the other file\n');
});

t.test('rw: the file named is writable, the change is seen outside', async (t) => {
  const file = path.join(docs, 'draft.txt');
  writeUserFile(file, 'draft\n');
  const r = sh('editor', 'echo edited >> "$1"; echo "write=$?"', file);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^write=0$/m);
  t.equal(fs.readFileSync(file, 'utf8'), 'draft\nedited\n');
});

t.test('without filesystem.args (default) the argument is not shown', async (t) => {
  const r = tsjail(['-p', 'default', '/bin/cat', paper], opts);
  t.not(r.status, 0);
  t.match(r.stderr, /No such file or directory/);
});

for (const [what, file, why] of [
  ['a secret path', secret, /filesystem\.args .*the argument .*id_probe, inside the secret path .*\.ssh/],
  ['a symlink into a secret path', link, /filesystem\.args .*the argument .*innocent\.txt resolves to .*id_probe/],
  ['a path its profile denies', privateFile, /filesystem\.args .*the argument .*diary\.txt, inside the denied path/],
] as const) {
  t.test(`an argument naming ${what} is refused (125)`, async (t) => {
    readsOutside(t, file);
    const r = sh('viewer', 'cat "$1"', file);
    t.equal(r.status, 125, 'refused');
    t.match(r.stderr, why);
    t.notMatch(r.stdout, /PROBE-SECRET/);
  });
}

const haveGio = spawnSync('sh', ['-c', 'command -v gio'], { env: { PATH: userEnv({}).PATH } }).status === 0;
t.test(
  'rw: a save through a temporary file and a rename (GIO, as gedit and GIMP save) writes the named file in place',
  haveGio ? {} : { skip: 'gio is not installed here (Debian package libglib2.0-bin; .ci/run installs it)' },
  async (t) => {
    // The folder is not shown, only the file: it is an empty read-only
    // folder around it, so g_file_replace cannot make its temporary file
    // there (it could in the private home, and then not rename it over the
    // mount point: EBUSY) and rewrites the file itself.
    const file = path.join(home, 'Letters', 'saved.txt');
    writeUserFile(file, 'before\n');
    writeUserFile(path.join(home, 'Letters', 'beside.txt'), 'PROBE-SECRET beside\n');
    const r = sh(
      'editor',
      'echo after | gio save "$1"; echo "save=$?"; touch "${1%/*}/new.txt" 2>/dev/null; echo "new=$?"; ls -A "${1%/*}"',
      file,
    );
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^save=0$/m, 'gio save succeeded');
    t.equal(fs.readFileSync(file, 'utf8'), 'after\n', 'the file holds what was saved, outside too');
    t.match(r.stdout, /^new=[1-9]/m, 'no other file can be made beside it');
    t.match(r.stdout, /^saved\.txt$/m);
    t.notMatch(r.stdout, /beside|new\.txt/, 'nothing else of its folder is shown');
    t.notOk(fs.existsSync(path.join(home, 'Letters', 'new.txt')), 'nothing new in the folder outside');
  },
);

t.test('the home folder and / are never shown whole, with a note under -v', async (t) => {
  const r = tsjail(['-v', '-p', 'viewer', '/bin/sh', '-c', 'ls -A "$1"; ls -A "$2" | head -3', 'sh', home, '/'], opts);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /Documents|\.ssh|private/, 'the home is the empty private one');
  t.match(r.stderr, /filesystem\.args .*not shown: the argument .*it would show the home folder or all of \//);
});

t.test('a device node is never shown', async (t) => {
  const r = tsjail(['-v', '-p', 'viewer', '/bin/true', '/dev/null', '/proc/self/environ'], opts);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /not shown: the argument "\/dev\/null" \(a kernel or runtime tree\)/);
  t.match(r.stderr, /not shown: the argument "\/proc\/self\/environ"/);
});
