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
import { REPO, tsjail } from '../helpers/sandbox.js';

const SECONDS = Number(process.env.TSJAIL_FUZZ_SECONDS ?? 60);
const clang = spawnSync('clang', ['--version']).status === 0;
// libFuzzer and the ASan runtime are not part of clang's own package on
// Debian (libclang-rt-14-dev, only a Recommends of clang).
const runtimeDir = clang ? spawnSync('clang', ['--print-runtime-dir'], { encoding: 'utf8' }).stdout.trim() : '';
const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
const fuzzRuntime = clang && fs.existsSync(path.join(runtimeDir, `libclang_rt.fuzzer-${arch}.a`));
const fuzzSkip = !clang
  ? 'clang is not installed (.ci/run installs it)'
  : !fuzzRuntime
    ? `clang's libFuzzer runtime is missing from ${runtimeDir} (Debian: libclang-rt-14-dev; .ci/run installs it)`
    : false;

t.test('plan parser unit tests under ASan and UBSan', async (t) => {
  const r = spawnSync('make', ['-s', '-C', path.join(REPO, 'shim-c'), 'check'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) t.comment(r.stdout + r.stderr);
  t.equal(r.status, 0, 'make check passes');
  t.notMatch(r.stdout, /^not ok/m);
  t.ok(/^ok /m.test(r.stdout), 'its tests ran');
});

t.test(`libFuzzer on the plan reader, ${SECONDS} s`, { skip: fuzzSkip }, async (t) => {
  const build = spawnSync('make', ['-s', '-C', path.join(REPO, 'shim-c'), 'fuzz'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (build.status !== 0) {
    // Nothing to run: say why once and stop.
    t.fail(
      `make fuzz failed (${build.error?.message ?? `status ${build.status}`}): ${`${build.stdout ?? ''}${build.stderr ?? ''}`.trim()}`,
    );
    return;
  }
  t.pass('make fuzz builds');
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
  const r = spawnSync(
    path.join(REPO, 'shim-c', 'fuzz', 'plan-fuzz'),
    [`-max_total_time=${SECONDS}`, '-max_len=65536', '-print_final_stats=1', corpus],
    { encoding: 'utf8', timeout: (SECONDS + 120) * 1000, maxBuffer: 1 << 26 },
  );
  if (r.error !== undefined || r.status !== 0) {
    t.fail(
      `the fuzzer did not exit cleanly (${r.error?.message ?? `status ${r.status}, signal ${r.signal}`}): ${(r.stderr ?? '').slice(-4000)}`,
    );
    return;
  }
  t.pass('the fuzzer exits cleanly');
  const runs = r.stderr.match(/Done (\d+) runs/);
  t.ok(runs, 'libFuzzer finished its budget');
  t.comment(`plan fuzzer: ${runs?.[1]} executions in ${SECONDS} s, no crash, leak or undefined behaviour`);
  t.notOk(/ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error/.test(r.stderr), 'no sanitizer report');
});
