import t from 'tap';
import * as fs from 'node:fs';
import { VERSION } from '../../../src/cli/version.js';

t.test("the version tsjail prints is package.json's", async (t) => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  t.equal(VERSION, pkg.version);
});
