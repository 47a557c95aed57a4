#!/usr/bin/env bash
# What the report of discarded files (issue 11: the files a program left in
# the sandbox's private home and /tmp, said at exit) costs when nothing was
# written: a sandboxed /bin/true with the report on (-v: the shim counts the
# inodes of each private tmpfs with statfs before and after, and walks none)
# against the same with it off (-q -v), interleaved in one hyperfine run.
# Both print the same -v lines, so the difference is the report's alone.
#   sudo bash bench/discard.sh [RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-60}
need hyperfine hyperfine
stage
W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
trap 'rm -rf "$W"' EXIT
H=/home/$BENCH_USER
[ "$(id -u)" -eq 0 ] || H=$HOME
q() { printf '%q ' "$@"; }
cd "$H"
as_user hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$W/discard.json" \
  "$(q "$NODE" "$TSJAIL" -v /bin/true)" "$(q "$NODE" "$TSJAIL" -q -v /bin/true)" >/dev/null 2>"$W/hyperfine.err" ||
  { cat "$W/hyperfine.err"; exit 1; }
cp "$W/discard.json" "$OUT/discard.json"
node - "$W/discard.json" <<'JS'
const res = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')).results;
const [on, off] = res.map((r) => ({ med: r.median * 1000, sd: r.stddev * 1000 }));
console.log(`/bin/true, ${res[0].times.length} runs each, median ms (stddev)`);
console.log(`report on  (-v)     ${on.med.toFixed(2)} (${on.sd.toFixed(2)})`);
console.log(`report off (-q -v)  ${off.med.toFixed(2)} (${off.sd.toFixed(2)})`);
console.log(`difference          ${(on.med - off.med).toFixed(2)} ms`);
JS
