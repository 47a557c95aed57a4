#!/bin/sh
# Builds and runs the seccomp benchmark: tsjail's compiled @default filter vs
# libseccomp's binary tree for the same policy vs no filter.
# Needs gcc and libseccomp-dev (Debian: apt-get install -y libseccomp-dev).
# Usage: bench/seccomp/run.sh [-n CALLS] [-r ROUNDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs bench/seccomp/make-filters.ts "$work"
gcc -O2 -Wall -Wextra -o "$work/bench" "$here/bench.c" -lseccomp
"$work/bench" "$@" "$work/tsjail.bpf" "$work/policy.txt"
