/**
 * Runs once before the test files (tap's "before"). As root (CI): create the
 * unprivileged test user and stage the built tree where that user can read
 * it, because the checkout may sit under /root. As anyone else: nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_ROOT, REPO, STAGE, STAGE_PREFIX, TEST_USER } from './helpers/sandbox.js';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status}`);
}

for (const f of [
  'dist/cli/main.js',
  'shim-c/tsjail-shim',
  'shim-c/tsjail',
  'shim-c/tsjail-pulse-filter',
  'shim-c/tsjail-net-proxy',
]) {
  if (!fs.existsSync(path.join(REPO, f))) throw new Error(`${f} is missing: run npm run build first`);
}

if (IS_ROOT) {
  if (spawnSync('id', ['-u', TEST_USER]).status !== 0)
    run('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER]);
  fs.chmodSync(`/home/${TEST_USER}`, 0o755);
  // A fresh copy per run, swapped in with an atomic rename of a symlink, so a
  // run that is still using the previous copy keeps it; copies older than
  // half a day (of any checkout) are removed. An hour was less than a full
  // run on a loaded machine: another checkout's set-up removed a running
  // suite's copy under it (every launch then failed: no bin/tsjail.js).
  const dir = `${STAGE}.${Date.now()}-${process.pid}`;
  fs.mkdirSync(dir, { recursive: true });
  for (const item of [
    'package.json',
    'bin',
    'dist',
    'profiles',
    'node_modules',
    'shim-c/tsjail-shim',
    'shim-c/tsjail',
    'shim-c/tsjail-pulse-filter',
    'shim-c/tsjail-net-proxy',
    'test/helpers',
  ]) {
    const dest = path.join(dir, item);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    // Hard links are instant and share the modes npm gave; fall back to a copy across file systems.
    if (spawnSync('cp', ['-al', path.join(REPO, item), dest]).status !== 0)
      run('cp', ['-a', path.join(REPO, item), dest]);
  }
  run('chmod', ['-R', 'a+rX', dir]);
  const link = `${STAGE}.link-${process.pid}`;
  fs.symlinkSync(dir, link);
  const st = fs.lstatSync(STAGE, { throwIfNoEntry: false });
  if (st && !st.isSymbolicLink()) fs.rmSync(STAGE, { recursive: true, force: true });
  fs.renameSync(link, STAGE);
  const parent = path.dirname(STAGE);
  for (const name of fs.readdirSync(parent)) {
    const full = path.join(parent, name);
    if (!name.startsWith(path.basename(STAGE_PREFIX)) || full === dir || full === STAGE) continue;
    // Copies only: another checkout's link stays for its own runs to replace.
    // Another set-up may be removing it at the same time.
    const st = fs.lstatSync(full, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink() && Date.now() - st.mtimeMs > 12 * 3600_000)
      fs.rmSync(full, { recursive: true, force: true });
  }
}
