#!/usr/bin/env node
// tsjail launcher. `npm run build` bundles the CLI into one CommonJS file
// (dist/tsjail.cjs) and records V8's compiled code for it after a
// representative run (dist/tsjail.cjs.cache). Loading both skips parsing and
// compiling most of tsjail on every start, which is where its start-up time
// went. A cache V8 rejects (another Node version) is ignored: the bundle is
// then compiled as usual.
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'tsjail.cjs');
const cacheFile = `${file}.cache`;
const writeCache = process.env.TSJAIL_CODE_CACHE === 'write';
let cachedData;
if (!writeCache) {
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
const code = await mod.exports.main(process.argv.slice(2), process.argv[1]);
if (writeCache) fs.writeFileSync(cacheFile, script.createCachedData());
process.exitCode = code;
