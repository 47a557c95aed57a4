# Shared by the benchmark scripts: the unprivileged user, the staged tree it
# runs tsjail from, and a runner that drops to that user.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_USER=${BENCH_USER:-tsjailtest}
# One staged tree per checkout: another checkout benchmarking at the same time re-stages its own.
STAGE=${STAGE:-/var/tmp/tsjail-bench-stage-$(printf %s "$REPO" | sha256sum | cut -c1-12)}
OUT=${OUT:-$REPO/bench/out}
mkdir -p "$OUT"

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing (apt-get install -y $2)" >&2; exit 1; }; }

# Run a command as the benchmark user (or as ourselves when not root).
as_user() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid="$BENCH_USER" --regid="$BENCH_USER" --init-groups --reset-env \
      env -i HOME="/home/$BENCH_USER" USER="$BENCH_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
  else
    "$@"
  fi
}

stage() {
  [ -x "$REPO/shim-c/tsjail-shim" ] && [ -f "$REPO/dist/cli/main.js" ] || { echo "bench: run npm run build first" >&2; exit 1; }
  if [ "$(id -u)" -eq 0 ]; then
    id "$BENCH_USER" >/dev/null 2>&1 || useradd --create-home "$BENCH_USER"
    chmod 755 "/home/$BENCH_USER"
    rm -rf "$STAGE"; mkdir -p "$STAGE/shim-c"
    for d in package.json bin dist profiles node_modules bench; do cp -al "$REPO/$d" "$STAGE/$d" 2>/dev/null || cp -a "$REPO/$d" "$STAGE/$d"; done
    # Every program the shim starts beside a sandbox is found next to it (an allow list's proxy, the sound filter).
    cp -a "$REPO/shim-c/tsjail-shim" "$REPO/shim-c/tsjail" "$REPO/shim-c/tsjail-net-proxy" "$REPO/shim-c/tsjail-pulse-filter" "$STAGE/shim-c/"
    chmod -R a+rX "$STAGE"
    TSJAIL="$STAGE/bin/tsjail.js"
  else
    TSJAIL="$REPO/bin/tsjail.js"
  fi
  NODE=$(command -v node)
}

# W: a fresh work directory of the benchmark user's (removed at exit), with
# W/repo a git repository of 10,000 committed files (bench/report.sh,
# bench/learn.sh); q: a command line quoted for hyperfine.
git_workdir() {
  need git git
  W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
  trap 'rm -rf "$W"' EXIT
  as_user sh -c "cd '$W' && git init -q repo && cd repo && for d in \$(seq 100); do mkdir d\$d; for f in \$(seq 100); do echo \$d\$f > d\$d/f\$f; done; done && git add -A && git -c user.email=b@e -c user.name=b commit -qm init"
}
q() { printf '%q ' "$@"; }
