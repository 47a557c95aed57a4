import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { VERSION } from '../../../src/cli/version.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
const bundle = new URL('../../../dist/tsjail.cjs', import.meta.url);
const bin = new URL('../../../bin/tsjail.js', import.meta.url);

t.test("the version tsjail prints is package.json's", async (t) => {
  t.equal(VERSION, pkg.version, 'unbundled: read from package.json');
});

t.test('the bundle has the version written in at bundle time', async (t) => {
  const text = fs.readFileSync(bundle, 'utf8');
  t.notMatch(text, /__TSJAIL_VERSION__/, 'esbuild replaced the placeholder');
  const r = spawnSync(process.execPath, [bin.pathname, '--version'], { encoding: 'utf8' });
  t.equal(r.stdout, `${pkg.version}\n`, 'tsjail --version (bin/tsjail.js runs the bundle)');
});
