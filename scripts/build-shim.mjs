#!/usr/bin/env node
// npm's install step (package.json "install"), in a checkout and in an
// installed tarball alike: build the C programs of shim-c/ for this machine.
// The package carries their sources, not binaries, because they must match
// the machine's architecture and C library; this needs a C compiler and
// make, and says so in one line when they are missing.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const onPath = (cmd) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
const cc = process.env.CC || 'gcc';
const missing = [cc, 'make'].filter((c) => !onPath(c));
if (missing.length > 0) {
  console.error(
    `tsjail: building its sandbox helper (shim-c/) needs ${missing.join(' and ')}, not found on PATH ` +
      '(Debian, Ubuntu: sudo apt-get install gcc make libc6-dev); install tsjail again after that',
  );
  process.exit(1);
}
const r = spawnSync('make', ['-s', '-C', path.join(root, 'shim-c')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'tsjail: building shim-c/ failed (see above); it needs a C11 compiler, make and the C library headers (Debian: libc6-dev)',
  );
  process.exit(1);
}
