/**
 * The npm package as a new user gets it: `npm pack` of the checkout, then
 * `npm install -g` of that tarball (into a prefix of its own, so the
 * machine's global modules stay as they are, and from npm's cache: nothing
 * new is fetched), which builds the shim at install. The installed command
 * then reports everything present and runs a program as the test user. A
 * machine without a C compiler gets one line naming it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { asUser, IS_ROOT, REPO, removeDir, testUser, userEnv } from '../helpers/sandbox.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
const npm = spawnSync('npm', ['--version']).status === 0;
const gcc = spawnSync('sh', ['-c', 'command -v gcc && command -v make']).status === 0;
t.setTimeout(900_000);

function asTestUser(argv: string[]) {
  const a = asUser(argv, userEnv({}));
  return spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', cwd: testUser().home, timeout: 120_000 });
}

t.test(
  'npm pack, npm install -g of the tarball: the shim is built, doctor finds everything, a program runs',
  { skip: !npm ? 'npm is not installed' : !gcc ? 'gcc and make are needed to build the shim' : false },
  async (t) => {
    const work = fs.mkdtempSync('/var/tmp/tsjail-npm-');
    t.teardown(() => removeDir(work));
    fs.chmodSync(work, 0o755);
    // --ignore-scripts: the checkout is built already (npm test builds it);
    // running prepare here would rebuild dist/ under the tests running beside.
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
      cwd: REPO,
      encoding: 'utf8',
    }).trim();
    const tarball = path.join(work, packed.split('\n').pop()!);
    t.equal(path.basename(tarball), `tsjail-${pkg.version}.tgz`);
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    t.ok(listing.includes('package/shim-c/main.c'), "the shim's sources");
    t.notOk(listing.includes('package/shim-c/tsjail-shim'), 'no binary built for the packing machine');
    t.notOk(listing.includes('package/shim-c/tsjail-pulse-filter'), 'no binary built for the packing machine');

    const prefix = path.join(work, 'prefix');
    const install = spawnSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
      { encoding: 'utf8', cwd: work, timeout: 600_000 },
    );
    if (!t.equal(install.status, 0, `npm install -g: ${install.stdout}${install.stderr}`)) return;
    const root = path.join(prefix, 'lib', 'node_modules', 'tsjail');
    t.ok(fs.existsSync(path.join(root, 'shim-c', 'tsjail-shim')), 'the install step built the shim');
    t.ok(fs.existsSync(path.join(root, 'shim-c', 'tsjail-pulse-filter')), 'and the sound filter');
    if (IS_ROOT) execFileSync('chmod', ['-R', 'a+rX', prefix]);
    const bin = path.join(prefix, 'bin', 'tsjail');

    const doctor = asTestUser([process.execPath, bin, 'doctor']);
    t.equal(doctor.status, 0, doctor.status === 0 ? 'tsjail doctor: exit 0' : doctor.stdout + doctor.stderr);
    t.match(doctor.stdout, new RegExp(`^shim\\s+${root.replace(/[.+]/g, '\\$&')}/shim-c/tsjail-shim$`, 'm'));
    t.notMatch(doctor.stdout, /MISSING|REFUSED/);
    const version = asTestUser([process.execPath, bin, '--version']);
    t.equal(version.stdout, `${pkg.version}\n`);
    const r = asTestUser([process.execPath, bin, '/bin/sh', '-c', 'echo inside; test ! -e /etc/shadow']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'inside\n');
  },
);

t.test('the install step names a missing C compiler in one line', async (t) => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build-shim.mjs')], {
    encoding: 'utf8',
    env: { ...process.env, CC: 'tsjail-no-such-cc' },
  });
  t.equal(r.status, 1);
  t.equal(
    r.stderr,
    'tsjail: building its sandbox helper (shim-c/) needs tsjail-no-such-cc, not found on PATH (Debian, Ubuntu: sudo apt-get install gcc make libc6-dev); install tsjail again after that\n',
  );
});
