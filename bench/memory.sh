#!/usr/bin/env bash
# Memory that stays beside a sandboxed program: every process of the sandbox
# tree except the payload (`sleep`), for tsjail, bubblewrap doing the same
# work, and Firejail, started by the unprivileged user; read as root from
# /proc/PID/smaps_rollup. Prints medians over ROUNDS interleaved rounds.
#   sudo bash bench/memory.sh [ROUNDS]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench/memory.sh reads other processes' smaps: run it as root" >&2; exit 1; }
need bwrap bubblewrap; need firejail firejail
stage
W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
trap 'rm -rf "$W"' EXIT
H=/home/$BENCH_USER
(cd "$H" && as_user "$NODE" "$TSJAIL" --dry-run /bin/sleep 30) > "$W/plan.json"
mapfile -t BWRAP_ARGS < <(node "$BENCH_DIR/plan-to-bwrap.mjs" < "$W/plan.json" | node -e 'for (const a of JSON.parse(require("fs").readFileSync(0,"utf8"))) console.log(a)')

# Sum over a process tree, leaving out processes whose comm is "sleep".
measure() {
  local root=$1 rss=0 pss=0 uss=0 n=0
  local pids; pids=$(ps -e -o pid=,ppid= | awk -v r="$root" '{p[$1]=$2} END {for (k in p) {x=k; while (x && x!=r) x=p[x]; if (x==r) print k}}')
  for p in $pids; do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && continue
    read -r r s u < <(awk '/^Rss:/{r=$2} /^Pss:/{s=$2} /^Private_(Clean|Dirty):/{u+=$2} END{print r, s, u}' /proc/$p/smaps_rollup)
    rss=$((rss + r)); pss=$((pss + s)); uss=$((uss + u)); n=$((n + 1))
  done
  echo "$n $rss $pss $uss"
}

run_one() {
  local name=$1; shift
  # exec all the way down: $! is then the launcher itself, not a shell.
  (cd "$H" && exec setpriv --reuid="$BENCH_USER" --regid="$BENCH_USER" --init-groups --reset-env \
    env -i HOME="$H" USER="$BENCH_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@" >/dev/null 2>&1) &
  local pid=$!
  sleep 1.5
  echo "$name|$(measure "$pid")" >> "$W/mem.txt"
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.3
}

FAST="$(dirname "$TSJAIL")/../shim-c/tsjail"
(cd "$H" && as_user "$FAST" /bin/sleep 0) # plans and caches: the row below runs the cached plan
for _ in $(seq "$ROUNDS"); do
  run_one "tsjail default" "$NODE" "$TSJAIL" /bin/sleep 30
  run_one "tsjail cached (C entry)" "$FAST" /bin/sleep 30
  run_one "bwrap, same mounts" bwrap "${BWRAP_ARGS[@]}" /bin/sleep 30
  run_one "firejail default.profile" firejail --quiet --profile=/etc/firejail/default.profile /bin/sleep 30
done
cp "$W/mem.txt" "$OUT/memory.txt"
node - "$W/mem.txt" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.split('|'));
const by = new Map();
for (const [name, v] of rows) { const [n, rss, pss, uss] = v.split(' ').map(Number); if (!by.has(name)) by.set(name, []); by.get(name).push({ n, rss, pss, uss }); }
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const mib = (k) => (k / 1024).toFixed(2);
console.log('memory beside a sandboxed sleep (all processes but the payload), MiB, median of rounds');
const ref = med(by.get('bwrap, same mounts').map((x) => x.pss));
for (const [name, xs] of by) {
  console.log(`${name.padEnd(26)} processes ${med(xs.map((x) => x.n))}  RSS ${mib(med(xs.map((x) => x.rss)))}  PSS ${mib(med(xs.map((x) => x.pss)))}  USS ${mib(med(xs.map((x) => x.uss)))}  PSS x bwrap ${(med(xs.map((x) => x.pss)) / ref).toFixed(2)}`);
}
JS
