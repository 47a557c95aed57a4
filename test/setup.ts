/**
 * Runs once before the test files (tap's "before"). As root (CI): create the
 * unprivileged test user and stage the built tree where that user can read
 * it, because the checkout may sit under /root. As anyone else: nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_ROOT, REPO, STAGE, STAGE_PREFIX, TEST_USER } from './helpers/sandbox.js';

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or '' once it is gone. */
function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * Whether a staged copy may still be used: its runner (same pid, same start
 * time) lives. Copies named the older way (no runner in the name) are kept
 * for half a day, as before.
 */
function inUse(name: string, mtimeMs: number): boolean {
  const m = /\.run-(\d+)-(\d+)-\d+$/.exec(name);
  if (!m) return Date.now() - mtimeMs < 12 * 3600_000;
  return startTime(Number(m[1])) === m[2];
}

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
  // run that is still using the previous copy keeps it. Each copy is named
  // after the tap runner that uses it (our parent, which also runs every
  // test file) and that runner's start time: a copy is removed once its
  // runner is gone, never while it lives, however long a loaded machine
  // makes the run. (An age limit removed a running suite's copy under it.)
  const runner = `${process.ppid}-${startTime(process.ppid)}`;
  const dir = `${STAGE}.run-${runner}-${process.pid}`;
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
    if (!st || st.isSymbolicLink() || inUse(name, st.mtimeMs)) continue;
    fs.rmSync(full, { recursive: true, force: true });
  }
}
