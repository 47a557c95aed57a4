#!/usr/bin/env node
// tsjail launcher. `npm run build` bundles the CLI into one CommonJS file
// (dist/tsjail.cjs) and records V8's compiled code for it after a
// representative run (dist/tsjail.cjs.cache). Loading both skips parsing and
// compiling most of tsjail on every start, which is where its start-up time
// went. A cache V8 rejects (another Node version) is ignored: the bundle is
// then compiled as usual.
//
// V8's optimising compiler is off (--no-opt, set before the bundle is
// compiled, so the code cache is written and read under the same flags, as
// V8 requires): a launch lives for a fraction of a second, and TurboFan's
// work on its hot functions, on threads of its own, was never repaid: a cold
// launch took 10-15% less CPU without it (bench/launch.sh's cold rows,
// interleaved, here), planning 500 paths included. Only the CLI runs so;
// the library (src/lib) leaves its host process's flags alone.
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--no-opt');

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
