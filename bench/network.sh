#!/usr/bin/env bash
# Issue 16's network figures, each row started by the unprivileged user,
# medians and their ratios against the host's network:
#   - the launch of /bin/true with --net host, --net private (pasta) and an
#     allow list (--allow-host: tsjail-net-proxy), all planned by the Node
#     CLI (TSJAIL_PLAN_CACHE=off: "private" and allow are never cached, so
#     host is measured the same way);
#   - a 100 MiB download over HTTP from a server in a network namespace of
#     its own standing for "the internet" (a veth pair and a /32 route of
#     198.51.100.0/24; nothing leaves this machine): outside any sandbox,
#     under --net host, --net private and through the proxy; each row's
#     throughput as a fraction of --net host's and of pasta's without the
#     proxy (--net private).
# A measurement, never asserted by a test: the figures depend on the machine
# and its load.
#   sudo bash bench/network.sh [RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-20}
[ "$(id -u)" -eq 0 ] || { echo "bench: the test network needs root" >&2; exit 1; }
need pasta passt; need curl curl; need python3 python3
stage
W=$(mktemp -d /var/tmp/tsjail-bench-net-XXXX); chmod 755 "$W"
NS=tsjail-bench-$$
VETH=tjb$(( $$ % 100000 ))
ADDR=198.51.100.252
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null
  ip link delete "$VETH" 2>/dev/null || true
  ip netns delete "$NS" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "$VETH" type veth peer name tjn netns "$NS"
ip link set "$VETH" up
ip route add "$ADDR/32" dev "$VETH"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$ADDR/32" dev tjn
ip -n "$NS" link set tjn up
ip -n "$NS" route add default dev tjn
head -c $((100 * 1024 * 1024)) /dev/urandom > "$W/100M"
chmod 644 "$W/100M"
ip netns exec "$NS" python3 -m http.server -b "$ADDR" -d "$W" 8080 >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://$ADDR:8080/" && break; sleep 0.1; done

H=/home/$BENCH_USER
cd "$H"
run() { as_user env TSJAIL_PLAN_CACHE=off "$NODE" "$TSJAIL" "$@"; }
declare -A OPTS=([host]="-p default --net host" [private]="-p default --net private" [allow]="-p default --allow-host $ADDR:8080")

echo "launch of /bin/true, $RUNS runs each (median; ratio against host)"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timeit() { # RUNS COMMAND...: the median wall time in ms
  local n=$1; shift
  for _ in $(seq "$n"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
  done | median
}
declare -A LAUNCH
for row in host private allow; do
  # A launch that fails is fast: each row is run once first and not timed if it fails.
  # shellcheck disable=SC2086
  if ! err=$(run ${OPTS[$row]} -- /bin/true 2>&1 >/dev/null); then
    printf '  %-8s failed: %s\n' "$row" "$(printf %s "$err" | grep -v warning | head -1)"
    continue
  fi
  # shellcheck disable=SC2086
  LAUNCH[$row]=$(timeit "$RUNS" run ${OPTS[$row]} -- /bin/true)
  printf '  %-8s %6s ms  x%s\n' "$row" "${LAUNCH[$row]}" "$(awk -v a="${LAUNCH[$row]}" -v b="${LAUNCH[host]}" 'BEGIN {printf "%.2f", a/b}')"
done

DL=$(( RUNS < 5 ? RUNS : 5 ))
echo "100 MiB download over HTTP from the test internet, $DL runs each (curl's own transfer time, median)"
echo "  throughput as a fraction of --net host's and of --net private's (pasta without the proxy): 1.00 is as fast"
CURL=(curl -sS -o /dev/null -w '%{time_total}\n' "http://$ADDR:8080/100M")
dl() { # COMMAND...: curl's transfer time in ms, median of DL runs
  for _ in $(seq "$DL"); do { "$@" 2>/dev/null || true; } | tail -1 | awk '{printf "%d\n", $1 * 1000}'; done | median
}
declare -A DOWN
DOWN[outside]=$(dl as_user "${CURL[@]}")
for row in host private allow; do
  # shellcheck disable=SC2086
  DOWN[$row]=$(dl run ${OPTS[$row]} -- "${CURL[@]}")
done
ratio() { # ROW BASE: BASE's time over ROW's, i.e. ROW's throughput as a fraction of BASE's
  if [ "${DOWN[$2]:-0}" -gt 0 ]; then awk -v a="${DOWN[$1]}" -v b="${DOWN[$2]}" 'BEGIN {printf "%.2f", b/a}'; else echo '-'; fi
}
printf '  %-8s %9s %10s %8s %11s\n' '' time MiB/s 'x host' 'x private'
for row in outside host private allow; do
  [ "${DOWN[$row]:-0}" -gt 0 ] || { printf '  %-8s failed (curl said nothing: run the row by hand)\n' "$row"; continue; }
  printf '  %-8s %6s ms %10s %8s %11s\n' "$row" "${DOWN[$row]}" \
    "$(awk -v t="${DOWN[$row]}" 'BEGIN {printf "%.0f", 100 / (t / 1000)}')" "$(ratio "$row" host)" "$(ratio "$row" private)"
done
