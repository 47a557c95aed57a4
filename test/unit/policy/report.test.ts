// src/policy/report.ts: the REPORT_PATH records of reporting and of learning
// list each observed call once (the shim refuses a number listed twice).
import t from 'tap';
import { learnedPaths, reportedPaths } from '../../../src/policy/report.js';

const observed = [
  { name: 'openat', nr: 257, errno: 0 },
  { name: 'execve', nr: 59, errno: 0 },
  { name: 'mkdir', nr: 83, errno: 0 },
  { name: 'unlinkat', nr: 263, errno: 0 },
];

t.test('reporting and learning: every observed path call once, with its path argument', async (t) => {
  for (const [what, recs] of [
    ['reporting', reportedPaths(observed)],
    ['learning', learnedPaths(observed)],
  ] as const) {
    t.same(
      recs.map((r) => r.nr).sort((a, b) => a - b),
      [59, 83, 257, 263],
      `${what}: each call once`,
    );
    t.equal(recs.find((r) => r.nr === 263)?.pathArg, 1, `${what}: unlinkat's path is its second argument`);
  }
  t.match(reportedPaths(observed).find((r) => r.nr === 83)?.json, /"key":"filesystem.rw"/, 'an entry: filesystem.rw');
  t.match(learnedPaths(observed).find((r) => r.nr === 83)?.json, /"entry":true/, 'learning marks entries');
});
