// libFuzzer targets of shim-c/fuzz for test/fuzz/shim-plan.test.ts and
// test/fuzz/pulse-filter.test.ts: whether they can be built here (fuzzSkip:
// false, or why not), building them, a bounded run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './sandbox.js';

const clang = spawnSync('clang', ['--version']).status === 0;
// libFuzzer and the ASan runtime are not part of clang's own package on
// Debian (libclang-rt-14-dev, only a Recommends of clang).
const runtimeDir = clang ? spawnSync('clang', ['--print-runtime-dir'], { encoding: 'utf8' }).stdout.trim() : '';
const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
const fuzzRuntime = clang && fs.existsSync(path.join(runtimeDir, `libclang_rt.fuzzer-${arch}.a`));
export const fuzzSkip = !clang
  ? 'clang is not installed (.ci/run installs it)'
  : !fuzzRuntime
    ? `clang's libFuzzer runtime is missing from ${runtimeDir} (Debian: libclang-rt-14-dev; .ci/run installs it)`
    : false;

export const FUZZ_SECONDS = Number(process.env.TSJAIL_FUZZ_SECONDS ?? 60);

interface T {
  pass(m: string): void;
  fail(m: string): void;
  ok(v: unknown, m: string): void;
  notOk(v: unknown, m: string): void;
  comment(m: string): void;
}

/** `make -C shim-c TARGET`; false (after saying why, once) when it fails. */
export function buildFuzzer(t: T, target: string): boolean {
  const build = spawnSync('make', ['-s', '-C', path.join(REPO, 'shim-c'), target], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (build.status !== 0) {
    t.fail(
      `make ${target} failed (${build.error?.message ?? `status ${build.status}`}): ${`${build.stdout ?? ''}${build.stderr ?? ''}`.trim()}`,
    );
    return false;
  }
  t.pass(`make ${target} builds`);
  return true;
}

/**
 * Run shim-c/BINARY on CORPUS for FUZZ_SECONDS and check it ended cleanly:
 * no sanitizer report, nor a line matching `breach` (the target's own
 * oracle), described by `what`.
 */
export function runFuzzer(t: T, binary: string, corpus: string, maxLen: number, breach?: RegExp, what = ''): void {
  const r = spawnSync(
    path.join(REPO, 'shim-c', binary),
    [
      `-max_total_time=${FUZZ_SECONDS}`,
      `-max_len=${maxLen}`,
      '-print_final_stats=1',
      `-artifact_prefix=${corpus}/`,
      corpus,
    ],
    { encoding: 'utf8', timeout: (FUZZ_SECONDS + 120) * 1000, maxBuffer: 1 << 26 },
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
  t.comment(`${binary}: ${runs?.[1]} executions in ${FUZZ_SECONDS} s, no crash, leak or undefined behaviour${what}`);
  t.notOk(/ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error/.test(r.stderr), 'no sanitizer report');
  if (breach) t.notOk(breach.test(r.stderr), `no report of its oracle${what}`);
}
