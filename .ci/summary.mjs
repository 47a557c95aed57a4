// CI's closing report, from the TAP stream `npm test` printed (tap's own
// reporter when not on a terminal): every skipped or todo test with its
// reason, then the one summary line "N passed, N failed, N skipped", where
// skipped counts tap's skip and todo together and the numbers are tap's own
// totals ("# { total: N, pass: N, fail: N, skip: N, todo: N }").
//
//   node .ci/summary.mjs LOG STATUS [CHECKS_FAILED]
//
// STATUS is npm test's exit status: a non-zero status without a failing test
// (the build broke), or no totals line at all, still counts as one failure.
// CHECKS_FAILED is how many of the checks run before the tests (typecheck,
// lint) failed; each is one more failure.
import { readFileSync } from 'node:fs';

const [logFile, statusText = '0', checksText = '0'] = process.argv.slice(2);
const lines = readFileSync(logFile, 'utf8').split('\n');

// "# Subtest: NAME" opens a level, the "ok N - NAME" at the same indentation
// closes it; a directive "# SKIP reason" or "# TODO reason" marks a skip.
const stack = [];
const skipped = [];
for (const line of lines) {
  const indent = line.length - line.trimStart().length;
  const text = line.trim().replace(/ # time=\S+$/, '');
  const sub = /^# Subtest: (.*)$/.exec(text);
  if (sub) {
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({ indent, name: sub[1] });
    continue;
  }
  const result = /^(?:not )?ok \d+(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$/i.exec(text);
  if (result) {
    while (stack.length > 0 && stack[stack.length - 1].indent > indent) stack.pop();
    const top = stack[stack.length - 1];
    const own = top !== undefined && top.indent === indent && top.name === result[1];
    if (own) stack.pop();
    if (result[2] !== undefined) {
      const where = [...stack.map((s) => s.name), result[1] ?? '(unnamed)'].join(' > ');
      // t.skip('reason') names the test by its reason and gives no other.
      const reason = result[3]?.trim();
      skipped.push(`${result[2].toLowerCase()}: ${where}${reason ? `: ${reason}` : ''}`);
    }
    continue;
  }
  // A whole file skipped by plan: "1..0 # reason".
  const plan = /^1\.\.0(?: # (.*))?$/.exec(text);
  if (plan && stack.length > 0) {
    skipped.push(`skip: ${stack.map((s) => s.name).join(' > ')}: ${plan[1]?.trim() || '(no reason given)'}`);
  }
}

const summary = lines.filter((l) => /^# \{ total: /.test(l)).pop() ?? '';
const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary)?.[1] ?? 0);
const pass = count('pass');
let fail = count('fail');
const skip = count('skip') + count('todo');
// No totals at all means tap never finished: that is a failure too.
if ((Number(statusText) !== 0 || summary === '') && fail === 0) fail = 1;
fail += Number(checksText);

if (skipped.length > 0) {
  console.log(`skipped (${skipped.length} tests; tap counts ${skip}):`);
  for (const s of skipped) console.log(`  ${s}`);
}
console.log(`${pass} passed, ${fail} failed, ${skip} skipped`);
