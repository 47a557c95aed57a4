#!/usr/bin/env bash
# What the report of discarded files costs (issue 11 item 2: the files a
# program left in the sandbox's private home, /tmp or a profile's tmpfs,
# said at exit). The shim runs the same launch plan twice, with its DISCARD
# records (the report on: init counts each private tmpfs's inodes with
# statfs before and after the program, and walks only one whose count grew)
# and without them (off); both plans come from the plan cache of one
# `tsjail -v` launch (bench/discard-plans.mjs), so nothing else differs and
# no Node start-up blurs the figure. Rows:
#   - /bin/true, nothing written: the cost the issue requires to be nil;
#   - sh writing 200 files into the private home and /tmp, for scale: the
#     walk and the line said.
# On and off alternate in ROUNDS hyperfine rounds (load that comes and goes
# hits both); medians over all runs, their ratio and difference. It refuses
# to run on a busy machine (1-minute load above a quarter of the CPUs)
# unless BENCH_NOISY=1, and prints the load before and after.
#   sudo bash bench/discard.sh [RUNS] [ROUNDS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-200}
ROUNDS=${2:-10}
need hyperfine hyperfine
need gcc gcc
load() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE=$(load)
if [ "${BENCH_NOISY:-0}" != 1 ] && awk -v l="$LOAD_BEFORE" -v n="$(nproc)" 'BEGIN { exit !(l > n / 4) }'; then
  echo "bench: the machine is busy (load $LOAD_BEFORE on $(nproc) CPUs); wait for it to be quiet, or BENCH_NOISY=1 to measure anyway" >&2
  exit 1
fi
stage
SHIM="$(dirname "$TSJAIL")/../shim-c/tsjail-shim"
W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
trap 'rm -rf "$W"' EXIT
H=/home/$BENCH_USER
[ "$(id -u)" -eq 0 ] || H=$HOME
cd "$H"
gcc -O2 -Wall -o "$W/fdexec" "$BENCH_DIR/fdexec.c"

# NAME PROGRAM ARG...: the on and off plans of `tsjail -v -p default PROGRAM ARG...`.
plans() {
  local name=$1 cache="$W/cache-$1"
  shift
  as_user mkdir -m 700 "$cache"
  as_user env XDG_CACHE_HOME="$cache" "$NODE" "$TSJAIL" -v -p default "$@" >/dev/null 2>"$W/plan-$name.err" ||
    { cat "$W/plan-$name.err"; exit 1; }
  local f
  f=$(as_user sh -c 'ls "$1"/tsjail/plan-*' sh "$cache") ||
    { echo "bench: tsjail -v -p default $1 left no plan in the cache (TSJAIL_CACHE_DEBUG=1 says why)" >&2; exit 1; }
  as_user "$NODE" "$BENCH_DIR/discard-plans.mjs" "$f" "$W/$name" "$@"
}
WRITE='for i in $(seq 100); do : > ~/f$i; : > /tmp/f$i; done'
plans true /bin/true
plans write /bin/sh -c "$WRITE"

q() { printf '%q ' "$@"; }
run() { q "$W/fdexec" 3 "$W/$1.plan" "$SHIM" --plan-fd 3; }
# Control: each plan runs, and only the report-on plan of the writer says anything.
for p in true-on true-off write-on write-off; do
  as_user "$W/fdexec" 3 "$W/$p.plan" "$SHIM" --plan-fd 3 >/dev/null 2>"$W/$p.err" ||
    { echo "bench: plan $p failed:" >&2; cat "$W/$p.err" >&2; exit 1; }
done
grep -q 'are discarded' "$W/write-on.err" || { echo "bench: the report-on plan said nothing" >&2; exit 1; }
if [ -s "$W/true-on.err" ] || [ -s "$W/true-off.err" ] || [ -s "$W/write-off.err" ]; then
  echo "bench: a plan printed something:" >&2; cat "$W"/*-o*.err >&2; exit 1
fi

per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for r in $(seq "$ROUNDS"); do
  as_user hyperfine -N --warmup 3 --runs "$per" --export-json "$W/round-$r.json" \
    "$(run true-on)" "$(run true-off)" "$(run write-on)" "$(run write-off)" >/dev/null 2>"$W/hyperfine.err" ||
    { cat "$W/hyperfine.err"; exit 1; }
done
LOAD_AFTER=$(load)
node - "$W" "$ROUNDS" "$LOAD_BEFORE" "$LOAD_AFTER" "$OUT/discard.json" <<'JS'
const fs = require('fs');
const [dir, rounds, before, after, out] = process.argv.slice(2);
const names = ['true-on', 'true-off', 'write-on', 'write-off'];
const times = names.map(() => []);
// hyperfine gives CPU time (user + system of the shim and the sandbox) as a mean per round.
const cpu = names.map(() => []);
for (let r = 1; r <= Number(rounds); r++)
  JSON.parse(fs.readFileSync(`${dir}/round-${r}.json`, 'utf8')).results.forEach((x, i) => {
    times[i].push(...x.times);
    cpu[i].push(x.user + x.system);
  });
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = Object.fromEntries(names.map((n, i) => [n, median(times[i]) * 1000]));
const iqr = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return (s[Math.floor(s.length * 0.75)] - s[Math.floor(s.length * 0.25)]) * 1000;
};
console.log(`the shim running one plan with the discard report on and off, ${times[0].length} runs each in ${rounds} alternating rounds`);
console.log(`load (1 min) before ${before}, after ${after}`);
console.log('row                                  wall: median ms  (IQR)   CPU: median of round means ms');
const label = { 'true-on': '/bin/true, report on', 'true-off': '/bin/true, report off', 'write-on': '200 files written, report on', 'write-off': '200 files written, report off' };
const cpuMs = Object.fromEntries(names.map((n, i) => [n, median(cpu[i]) * 1000]));
names.forEach((n, i) => console.log(`${label[n].padEnd(36)} ${ms[n].toFixed(3).padStart(15)}  (${iqr(times[i]).toFixed(3)})  ${cpuMs[n].toFixed(3).padStart(10)}`));
for (const w of ['true', 'write']) {
  const d = (m) => `on/off ${(m[`${w}-on`] / m[`${w}-off`]).toFixed(3)}x, ${((m[`${w}-on`] - m[`${w}-off`]) * 1000).toFixed(0)} us`;
  console.log(`${w === 'true' ? 'nothing written' : '200 files written'}: wall ${d(ms)}; CPU ${d(cpuMs)}`);
}
fs.writeFileSync(out, JSON.stringify({ rounds: Number(rounds), load: { before, after }, medians_ms: ms, cpu_ms: cpuMs, times_s: Object.fromEntries(names.map((n, i) => [n, times[i]])) }, null, 2) + '\n');
JS
