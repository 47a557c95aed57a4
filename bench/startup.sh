#!/usr/bin/env bash
# Start-up latency of a sandboxed /bin/true: tsjail beside bubblewrap doing the
# same work (the same mounts, from tsjail's own plan, with tsjail's seccomp
# filter when one is compiled) and beside Firejail, in one run on this machine.
# Every sandbox is started by the unprivileged user. Prints medians and ratios.
#   sudo bash bench/startup.sh [RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-40}
need hyperfine hyperfine; need bwrap bubblewrap; need firejail firejail
stage
W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
trap 'rm -rf "$W"' EXIT
H=/home/$BENCH_USER
[ "$(id -u)" -eq 0 ] || H=$HOME

# tsjail's plan for /bin/true under the default profile, from the home directory
# (so the current directory adds no mount), and bwrap's equivalent of it.
(cd "$H" && as_user "$NODE" "$TSJAIL" --dry-run /bin/true) > "$W/plan.json"
FILTER_ARGS=()
if as_user "$NODE" "$TSJAIL" seccomp compile default -o "$W/filter.bpf" 2>/dev/null; then FILTER_ARGS=(--seccomp-fd 10); else : > "$W/filter.bpf"; fi
gcc -O2 -Wall -o "$W/fdexec" "$BENCH_DIR/fdexec.c"
chmod 644 "$W"/*; chmod 755 "$W/fdexec"
# Every sandbox row goes through fdexec, so its small cost is the same in each.
FX=("$W/fdexec" 10 "$W/filter.bpf")
mapfile -t BWRAP_ARGS < <(node "$BENCH_DIR/plan-to-bwrap.mjs" "${FILTER_ARGS[@]}" < "$W/plan.json" | node -e 'for (const a of JSON.parse(require("fs").readFileSync(0,"utf8"))) console.log(a)')
q() { printf '%q ' "$@"; }

cmds=(
  "$(q "${FX[@]}" "$NODE" "$TSJAIL" /bin/true)"
  "$(q "${FX[@]}" bwrap "${BWRAP_ARGS[@]}" /bin/true)"
  "$(q "${FX[@]}" bwrap --ro-bind / / /bin/true)"
  "$(q "${FX[@]}" firejail --quiet --noprofile /bin/true)"
  "$(q "${FX[@]}" firejail --quiet --profile=/etc/firejail/default.profile /bin/true)"
  "$(q "${FX[@]}" "$NODE" -e 0)"
)
names=("tsjail default" "bwrap, same mounts+filter" "bwrap --ro-bind / /" "firejail --noprofile" "firejail default.profile" "node -e 0")
args=()
for c in "${cmds[@]}"; do args+=("$c"); done
cd "$H"
as_user hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$W/startup.json" "${args[@]}" >/dev/null 2>"$W/hyperfine.err" || { cat "$W/hyperfine.err"; exit 1; }
cp "$W/startup.json" "$OUT/startup.json"
node - "$W/startup.json" "${names[@]}" <<'JS'
const fs = require('fs');
const [file, ...names] = process.argv.slice(2);
const res = JSON.parse(fs.readFileSync(file, 'utf8')).results;
const med = (r) => r.median * 1000;
const base = med(res[1]), fj = med(res[4]);
console.log(`start-up of /bin/true, ${res[0].times.length} runs each, median (min-max) ms; ratios against bwrap doing the same work and Firejail's default profile`);
res.forEach((r, i) => {
  console.log(`${names[i].padEnd(28)} ${med(r).toFixed(2).padStart(8)} (${(r.min * 1000).toFixed(2)}-${(r.max * 1000).toFixed(2)})  x bwrap ${(med(r) / base).toFixed(2)}  x firejail ${(med(r) / fj).toFixed(2)}`);
});
JS
