// The shim's plan reader under sanitizers: its unit tests (make check, ASan
// and UBSan) and a bounded libFuzzer run seeded with a real plan. The run's
// length is TSJAIL_FUZZ_SECONDS (default 60, CI's smoke budget).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePlan } from '../../src/plan/encode.js';
import { planFromJson } from '../helpers/plan-json.js';
import { FUZZ_SECONDS, buildFuzzer, fuzzSkip, runFuzzer } from '../helpers/libfuzzer.js';
import { REPO, tsjail } from '../helpers/sandbox.js';

t.test('plan parser unit tests under ASan and UBSan', async (t) => {
  const r = spawnSync('make', ['-s', '-C', path.join(REPO, 'shim-c'), 'check'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) t.comment(r.stdout + r.stderr);
  t.equal(r.status, 0, 'make check passes');
  t.notMatch(r.stdout, /^not ok/m);
  t.ok(/^ok /m.test(r.stdout), 'its tests ran');
});

t.test(`libFuzzer on the plan reader, ${FUZZ_SECONDS} s`, { skip: fuzzSkip }, async (t) => {
  if (!buildFuzzer(t, 'fuzz/plan-fuzz')) return;
  const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-plan-corpus-'));
  t.teardown(() => fs.rmSync(corpus, { recursive: true, force: true }));
  // Seeds: real plans as tsjail makes them.
  for (const [i, args] of [
    ['--dry-run', 'true'],
    ['--dry-run', '--net', 'host', '-p', 'untrusted', 'ls', '-l'],
  ].entries()) {
    const dry = tsjail(args);
    t.equal(dry.status, 0, dry.stderr);
    fs.writeFileSync(path.join(corpus, `seed-${i}`), encodePlan(planFromJson(JSON.parse(dry.stdout))));
  }
  runFuzzer(t, 'fuzz/plan-fuzz', corpus, 65536);
});
