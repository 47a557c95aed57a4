#!/usr/bin/env bash
# Every launch figure of issue 13 in one run, each row started by the
# unprivileged user, medians with their ratios against the targets:
#   - tsjail cached (the C entry point runs the cached plan) and cold launches
#     of /bin/true under default and firefox: "cold" is a launch whose plan
#     is not cached (its entry removed before each run: the Node CLI plans,
#     stores the plan and launches; the compiled seccomp filter is kept by
#     policy hash, as after any earlier launch of the same rules), "cold,
#     nothing kept" is TSJAIL_PLAN_CACHE=off (the filter compiled too);
#   - firefox as Firejail's firefox.profile runs it, on the host's network
#     (bench-firefox-host: the shipped profile with its "private-network"
#     snippet replaced by "network"), which every ratio uses, and the shipped
#     profile as it is: its private network starts pasta at every launch,
#     so those rows include the network set-up and are never cached;
#   - bwrap doing the same mounts with tsjail's own seccomp filter (built
#     from tsjail's plan), Firejail's default and firefox profiles;
#   - 0, 20, 80, 200 and 500 extra read-only paths, tsjail cached against bwrap;
#   - 20 sandboxes started at once;
#   - memory beside a sandboxed sleep (bench/memory.sh, as root) and the
#     seccomp per-syscall figures (bench/seccomp/run.sh, needs libseccomp-dev).
# The machine's load is printed before and after: on a shared machine the
# absolute times move with it, the ratios less.
#   sudo bash bench/launch.sh [RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-30}
need hyperfine hyperfine; need bwrap bubblewrap; need firejail firejail
stage
W=$(mktemp -d /var/tmp/tsjail-bench-XXXX); chmod 755 "$W"; [ "$(id -u)" -eq 0 ] && chown "$BENCH_USER" "$W"
trap 'rm -rf "$W"' EXIT
H=/home/$BENCH_USER
[ "$(id -u)" -eq 0 ] || H=$HOME
FAST="$(dirname "$TSJAIL")/../shim-c/tsjail"
cd "$H"

# The extra paths: N directories, each granted read-only by profile pN.
mkdir -p "$W/paths"
for i in $(seq 500); do mkdir -p "$W/paths/d$i"; done
PROFILES="$H/.config/tsjail/profiles"
as_user mkdir -p "$PROFILES"
# firefox on the host's network, as Firejail's firefox.profile runs it.
sed 's/"private-network"/"network"/' "$REPO/profiles/firefox.json5" > "$W/firefox-host.json5"
grep -q '"network"' "$W/firefox-host.json5" && ! grep -q 'private-network' "$W/firefox-host.json5" ||
  { echo "bench: profiles/firefox.json5 no longer includes private-network: update bench/launch.sh" >&2; exit 1; }
as_user cp "$W/firefox-host.json5" "$PROFILES/bench-firefox-host.json5"
for n in 0 20 80 200 500; do
  { printf '{ filesystem: { ro: ['; for i in $(seq "$n"); do printf '"%s",' "$W/paths/d$i"; done; printf '] } }\n'; } > "$W/p$n.json5"
  as_user cp "$W/p$n.json5" "$PROFILES/bench-p$n.json5"
done
chmod -R a+rX "$W"

# bwrap's equivalents, from tsjail's own plans, with tsjail's seccomp filter.
as_user "$NODE" "$TSJAIL" seccomp compile default -o "$W/filter.bpf"
as_user "$NODE" "$TSJAIL" seccomp compile bench-firefox-host -o "$W/filter-firefox.bpf"
gcc -O2 -Wall -o "$W/fdexec" "$BENCH_DIR/fdexec.c"
chmod 644 "$W"/*.bpf; chmod 755 "$W/fdexec"
bwrap_of() { # PLAN-ARGS... -> bwrap argv (one per line) in $W/bwrap-NAME
  local name=$1; shift
  as_user "$NODE" "$TSJAIL" --dry-run "$@" > "$W/plan-$name.json"
  node "$BENCH_DIR/plan-to-bwrap.mjs" --seccomp-fd 10 < "$W/plan-$name.json" |
    node -e 'for (const a of JSON.parse(require("fs").readFileSync(0,"utf8"))) console.log(a)' > "$W/bwrap-$name"
}
bwrap_of default /bin/true
bwrap_of firefox -p bench-firefox-host /bin/true
as_user "$NODE" "$TSJAIL" --dry-run -p firefox /bin/true > "$W/plan-firefox-private.json"
FIREFOX_NET=$(node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(p.namespaces.includes("net") ? "private (pasta)" : "host (the fallback: pasta cannot run here)")' < "$W/plan-firefox-private.json")
for n in 0 20 80 200 500; do bwrap_of "p$n" -p "bench-p$n" /bin/true; done
bw() { local name=$1 filter=$2; mapfile -t a < "$W/bwrap-$name"; q "$W/fdexec" 10 "$filter" bwrap "${a[@]}" /bin/true; }

# Prime the cache for every cached row (a first launch plans and stores).
as_user "$FAST" /bin/true >/dev/null 2>&1 || true
for p in bench-firefox-host bench-p0 bench-p20 bench-p80 bench-p200 bench-p500; do as_user "$FAST" -p "$p" /bin/true >/dev/null 2>&1 || true; done
# The cold rows' command lines are their own (another key), so that removing
# their entry before each run leaves every other row's: ENTRY-OF ARGS... is
# the file of the plan a launch of ARGS stores (src/cache/store.ts names it).
entry_of() {
  as_user "$FAST" "$@" >/dev/null 2>&1 || true
  as_user "$NODE" --input-type=module -e '
    const [root, uid, ...head] = process.argv.slice(1);
    const { cacheKey, entryPath } = await import(`${root}/dist/cache/store.js`);
    const { VERSION } = await import(`${root}/dist/cli/version.js`);
    console.log(entryPath(process.env.HOME + "/.cache/tsjail", cacheKey(VERSION, Number(uid), head)));
  ' "$(dirname "$TSJAIL")/.." "$(as_user id -u)" "$@"
}
COLD_DEFAULT=$(entry_of -p default /bin/true)
COLD_FIREFOX=$(entry_of --profile bench-firefox-host /bin/true)
[ -f "$COLD_DEFAULT" ] && [ -f "$COLD_FIREFOX" ] || { echo "bench: the cold rows' launches stored no plan ($COLD_DEFAULT, $COLD_FIREFOX)" >&2; exit 1; }

names=() cmds=() preps=()
row() { names+=("$1"); cmds+=("$2"); preps+=("${3:-true}"); }
q() { printf '%q ' "$@"; }
row "tsjail cached, default" "$(q "$FAST" /bin/true)"
row "tsjail cold, default" "$(q "$FAST" -p default /bin/true)" "$(q rm -f "$COLD_DEFAULT")"
row "tsjail cold nothing kept, default" "$(q env TSJAIL_PLAN_CACHE=off "$FAST" /bin/true)"
row "tsjail cached, firefox" "$(q "$FAST" -p bench-firefox-host /bin/true)"
row "tsjail cold, firefox" "$(q "$FAST" --profile bench-firefox-host /bin/true)" "$(q rm -f "$COLD_FIREFOX")"
row "tsjail cold nothing kept, firefox" "$(q env TSJAIL_PLAN_CACHE=off "$FAST" -p bench-firefox-host /bin/true)"
row "tsjail firefox, private network" "$(q "$FAST" -p firefox /bin/true)"
row "bwrap, default's mounts+filter" "$(bw default "$W/filter.bpf")"
row "bwrap, firefox's mounts+filter" "$(bw firefox "$W/filter-firefox.bpf")"
row "firejail default.profile" "$(q firejail --quiet --profile=/etc/firejail/default.profile /bin/true)"
# Its D-Bus filtering needs a session bus, which the benchmark user has not.
row "firejail firefox.profile" "$(q firejail --quiet --ignore=dbus-user --ignore=dbus-system --profile=/etc/firejail/firefox.profile /bin/true)"
for n in 0 20 80 200 500; do
  row "tsjail cached, $n paths" "$(q "$FAST" -p "bench-p$n" /bin/true)"
  row "bwrap, $n paths" "$(bw "p$n" "$W/filter.bpf")"
done
par() { printf 'for i in $(seq 20); do %s & done; wait' "$1"; }
row "20 at once: tsjail cached" "$(q sh -c "$(par "$(q "$FAST" /bin/true) >/dev/null 2>&1")")"
row "20 at once: bwrap" "$(q sh -c "$(par "$(bw default "$W/filter.bpf") >/dev/null 2>&1")")"
row "node -e 0" "$(q "$NODE" -e 0)"

prep_args=()
for p in "${preps[@]}"; do prep_args+=(--prepare "$p"); done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
as_user hyperfine -N --warmup 3 --runs "$RUNS" "${prep_args[@]}" --export-json "$W/launch.json" "${cmds[@]}" >/dev/null 2>"$W/hyperfine.err" ||
  { cat "$W/hyperfine.err"; exit 1; }
cp "$W/launch.json" "$OUT/launch.json"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), node $("$NODE" --version)"
echo "load average (1, 5, 15 min): $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after"
echo "firefox's own profile (network private) ran on: $FIREFOX_NET network; the other firefox rows on the host's"
node - "$W/launch.json" "${names[@]}" <<'JS'
const fs = require('fs');
const [file, ...names] = process.argv.slice(2);
const res = JSON.parse(fs.readFileSync(file, 'utf8')).results;
const t = Object.fromEntries(res.map((r, i) => [names[i], r.median * 1000]));
console.log(`launch of /bin/true, ${res[0].times.length} runs each, median (min-max) ms`);
res.forEach((r, i) => console.log(`${names[i].padEnd(34)} ${(r.median * 1000).toFixed(2).padStart(8)} (${(r.min * 1000).toFixed(2)}-${(r.max * 1000).toFixed(2)})`));
const ratio = (what, a, b, target) => {
  const x = t[a] / t[b];
  console.log(`${what.padEnd(58)} ${x.toFixed(2)}x  target <= ${target}x  ${x <= target ? 'met' : 'NOT met'}`);
};
console.log('\nratios (one run)');
ratio('cached default / bwrap with the same mounts and filter', 'tsjail cached, default', "bwrap, default's mounts+filter", 0.8);
ratio('cached firefox / bwrap with the same mounts and filter', 'tsjail cached, firefox', "bwrap, firefox's mounts+filter", 0.8);
ratio('cold firefox / firejail firefox.profile', 'tsjail cold, firefox', 'firejail firefox.profile', 0.5);
ratio('cold firefox, nothing kept / firejail firefox.profile', 'tsjail cold nothing kept, firefox', 'firejail firefox.profile', 0.5);
ratio('cold default / firejail default.profile', 'tsjail cold, default', 'firejail default.profile', 0.5);
ratio('cold default, nothing kept / firejail default.profile', 'tsjail cold nothing kept, default', 'firejail default.profile', 0.5);
const fp = t['tsjail firefox, private network'] / t['firejail firefox.profile'];
console.log(`${'firefox private network (pasta) / firejail firefox.profile'.padEnd(58)} ${fp.toFixed(2)}x  (not a target: firejail starts no network)`);
ratio('80 paths: tsjail cached / bwrap', 'tsjail cached, 80 paths', 'bwrap, 80 paths', 0.5);
for (const n of [20, 80, 200, 500]) {
  const a = (t[`tsjail cached, ${n} paths`] - t['tsjail cached, 0 paths']) / n;
  const b = (t[`bwrap, ${n} paths`] - t['bwrap, 0 paths']) / n;
  console.log(`per extra path at ${String(n).padStart(3)}: tsjail ${a.toFixed(3)} ms, bwrap ${b.toFixed(3)} ms (${(a / b).toFixed(2)}x)`);
}
ratio('20 at once: tsjail cached / bwrap', '20 at once: tsjail cached', '20 at once: bwrap', 1);
JS
if [ "$(id -u)" -eq 0 ]; then bash "$BENCH_DIR/memory.sh" 3; fi
if [ -f /usr/include/seccomp.h ]; then sh "$BENCH_DIR/seccomp/run.sh"; else echo "seccomp per-syscall figures: apt-get install -y libseccomp-dev (bench/seccomp/run.sh)"; fi
