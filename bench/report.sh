#!/usr/bin/env bash
# The cost of --report-fd (issue 18: at most 10% on a file-heavy job):
# `git status` in a repository of 10,000 files, under the dev profile, with
# and without the report (every open and exec, and with Landlock every call
# that makes or removes an entry, then goes through the reporter, which
# reads its path and lets it go on). Started by the
# unprivileged user; prints the medians and the ratio.
#   sudo bash bench/report.sh [RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-15}
need hyperfine hyperfine
stage
git_workdir
cd "$W/repo"
as_user hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/report.json" \
  "$(q "$NODE" "$TSJAIL" -p dev -- git status --porcelain)" \
  "$(q sh -c "exec $NODE $TSJAIL -p dev --report-fd 3 -- git status --porcelain 3>/dev/null")" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const [plain, rep] = r.map((x) => x.median * 1000);
console.log(`git status, 10000 files, dev profile: ${plain.toFixed(1)} ms; with --report-fd: ${rep.toFixed(1)} ms (${((rep / plain - 1) * 100).toFixed(1)}%)`);
' "$W/report.json"
