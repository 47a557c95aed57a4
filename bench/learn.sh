#!/usr/bin/env bash
# What tsjail learn costs (issue 18: learning costs what it costs, but a
# browser start must stay usable): the same job run plainly under its base
# profile and learned (`tsjail learn`, every allowed system call handed to
# the reporter, which records it and lets it go on). Jobs: `git status` in a
# repository of 10,000 files under dev, and, when firefox is installed, a
# headless Firefox screenshot of a local page under the firefox profile
# (fewer runs). Started by the unprivileged user; prints the medians and the
# ratio. A measurement, never asserted. Here (2 cores shared with other
# helpers' work, load average about 9; 3 runs, 1 of the browser): git status 1310 ms run, 1948 ms learned (x1.49);
# Firefox 8091 ms run, 9304 ms learned (x1.15).
#   sudo bash bench/learn.sh [RUNS] [BROWSER_RUNS]
source "$(dirname "$0")/lib.sh"
RUNS=${1:-10}
BROWSER_RUNS=${2:-3}
need hyperfine hyperfine
stage
git_workdir
report() {
  node -e '
const [file, what] = process.argv.slice(1);
const r = JSON.parse(require("fs").readFileSync(file, "utf8")).results;
const [plain, learn] = r.map((x) => x.median * 1000);
console.log(`${what}: run ${plain.toFixed(0)} ms; learn ${learn.toFixed(0)} ms (x${(learn / plain).toFixed(2)})`);
' "$1" "$2"
}
cd "$W/repo"
as_user hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/git.json" \
  --prepare "rm -f $W/git.json5" \
  "$(q "$NODE" "$TSJAIL" -p dev -- git status --porcelain)" \
  "$(q "$NODE" "$TSJAIL" learn -p dev -o "$W/git.json5" -- git status --porcelain)" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
report "$W/git.json" "git status, 10000 files, dev profile"
if command -v firefox >/dev/null; then
  # Its page in the directory it starts in: learn shows that one writable, run does with --rw.
  cd "$W"
  echo '<html><body><h1>bench</h1></body></html>' > "$W/page.html"; chmod 644 "$W/page.html"
  FF=(firefox --headless --no-remote --screenshot "$W/shot.png" "file://$W/page.html")
  as_user hyperfine -N --runs "$BROWSER_RUNS" --export-json "$W/ff.json" \
    --prepare "rm -f $W/ff.json5 $W/shot.png" \
    "$(q "$NODE" "$TSJAIL" -p firefox --rw "$W" -- "${FF[@]}")" \
    "$(q "$NODE" "$TSJAIL" learn -p firefox -o "$W/ff.json5" -- "${FF[@]}")" >/dev/null 2>"$W/err" || { echo "firefox rows failed:"; cat "$W/err"; exit 1; }
  report "$W/ff.json" "firefox --headless --screenshot, firefox profile"
else
  echo "firefox: not installed, no browser row"
fi
