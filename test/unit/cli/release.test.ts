/**
 * One version: package.json's (set with `npm version`, which runs
 * scripts/version.mjs). tsjail --version prints it (version.test.ts); here
 * the Debian changelog, CHANGELOG.md and the man pages' title lines are held
 * to it, and scripts/version.mjs is shown to bring them along to a new one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { REPO } from '../../helpers/sandbox.js';

const read = (f: string, root = REPO) => fs.readFileSync(path.join(root, f), 'utf8');
const versionOf = (root: string) => ({
  pkg: (JSON.parse(read('package.json', root)) as { version: string }).version,
  debian: /^tsjail \(([^)]+)\)/.exec(read('debian/changelog', root))?.[1],
  changelog: /^## \[(\d[^\]]*)\]/m.exec(read('CHANGELOG.md', root))?.[1],
  man1: /^\.TH .*"tsjail ([^"]+)"/m.exec(read('man/tsjail.1', root))?.[1],
  man5: /^\.TH .*"tsjail ([^"]+)"/m.exec(read('man/tsjail-profile.5', root))?.[1],
});

t.test("debian/changelog, CHANGELOG.md and the man pages name package.json's version", async (t) => {
  const v = versionOf(REPO);
  t.same(v, { pkg: v.pkg, debian: v.pkg, changelog: v.pkg, man1: v.pkg, man5: v.pkg });
  t.match(read('CHANGELOG.md'), /^## \[Unreleased\]$/m, 'keep-a-changelog: changes land under Unreleased');
});

t.test('scripts/version.mjs brings them to a new version', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-version-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of [
    'package.json',
    'CHANGELOG.md',
    'debian/changelog',
    'man/tsjail.1',
    'man/tsjail-profile.5',
    'scripts/version.mjs',
  ]) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
  const pkg = JSON.parse(read('package.json', dir)) as { version: string };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7' }));
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'version.mjs')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.same(versionOf(dir), { pkg: '9.8.7', debian: '9.8.7', changelog: '9.8.7', man1: '9.8.7', man5: '9.8.7' });
  t.match(read('CHANGELOG.md', dir), /^## \[Unreleased\]\n\n## \[9\.8\.7\] - \d{4}-\d\d-\d\d$/m);
  t.match(read('debian/changelog', dir), /^ -- .+ <.+> {2}\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/m);
  if (spawnSync('dpkg-parsechangelog', ['--help']).status === 0) {
    const p = spawnSync('dpkg-parsechangelog', ['-l', path.join(dir, 'debian', 'changelog'), '-S', 'Version'], {
      encoding: 'utf8',
    });
    t.equal(p.stdout.trim(), '9.8.7', `dpkg-parsechangelog reads it ${p.stderr}`);
  }
});
