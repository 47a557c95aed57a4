// Bad input everywhere: every failure is one line and exit 125 before
// anything starts; odd but valid input (spaces, glob characters, many paths)
// works; a program named like an option is never taken for one.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asUser,
  inSandbox,
  makeUserDir,
  removeDir,
  tsjail,
  tsjailArgv,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';

const dir = makeUserDir('bad');
t.teardown(() => removeDir(dir));

function oneLine(t: Test, r: { status: number | null; stderr: string; stdout: string }, what: string): void {
  t.equal(r.status, 125, `${what}: exit 125`);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('tsjail: see') && !l.startsWith('tsjail: hint'));
  t.equal(lines.length, 1, `${what}: one line (${r.stderr.trim()})`);
  t.notMatch(r.stderr, /\n\s+at |TypeError|RangeError/, `${what}: no stack trace`);
  t.equal(r.stdout, '', `${what}: nothing on stdout`);
}

t.test('options fed wrong values', async (t) => {
  const cases: string[][] = [
    ['--net', '5', 'true'],
    ['--net', '', 'true'],
    ['--env', 'NOEQUALS', 'true'],
    ['--env', 'A\nB=1', 'true'],
    ['-p', '', 'true'],
    ['-p', '../x', 'true'],
    ['--ro', '', 'true'],
    ['--ro', `${dir}/no\nsuch`, 'true'],
    ['--rw', `${dir}/nope`, 'true'],
    ['--deny', '/definitely/missing', 'true'],
    ['--tmpfs', `${dir}/*`, 'true'],
    ['--ro', '/', 'true'],
    ['--rw', '/tmp', 'true'],
    ['--ro', '/proc/self', 'true'],
    ['--profile'],
    ['run'],
    [],
  ];
  for (const args of cases) oneLine(t, tsjail(args), JSON.stringify(args));
});

t.test('a non-UTF-8 path is an error, not a crash', async (t) => {
  const cmd = `exec ${tsjailArgv([])
    .map((a) => `'${a}'`)
    .join(' ')} --ro "$(printf '${dir}/\\377\\376')" true`;
  const argv = asUser(['/bin/sh', '-c', cmd], userEnv({}));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  oneLine(t, r, 'non-UTF-8 --ro');
});

t.test('profile values of the wrong type, huge or with control characters', async (t) => {
  const docs: Record<string, string> = {
    huge_limit: '{ limits: { nofile: 1e30 } }',
    negative: '{ limits: { nproc: -1 } }',
    long_host: `{ hostname: "${'h'.repeat(1000)}" }`,
    nul_path: '{ filesystem: { ro: ["/usr\\u0000/bin"] } }',
    port: '{ network: { mode: "host", tcp: { connect: [70000] } } }',
    types: '{ filesystem: "ro", devices: 3, nestedSandbox: "yes" }',
    dotdot: '{ filesystem: { ro: ["/usr/../etc"] } }',
    relative: '{ filesystem: { rw: ["docs"] } }',
    unknown_var: '{ filesystem: { ro: ["${NOT_A_VAR}/x"] } }',
    bad_syscall: '{ syscalls: { allow: ["@default", { name: "ioctl", args: [{ arg: 9, op: "==", value: 1 }] }] } }',
    syntax: '{ filesystem: { ro: [ }',
    empty: '',
    array: '[]',
  };
  for (const [name, text] of Object.entries(docs)) {
    writeUserFile(path.join(dir, `${name}.json5`), text);
    const r = tsjail(['-p', path.join(dir, `${name}.json5`), 'true']);
    oneLine(t, r, name);
    t.match(r.stderr, new RegExp(`${name}\\.json5(:\\d+)?`), `${name}: names the file`);
  }
});

t.test('paths with spaces and glob characters are taken literally from the command line', async (t) => {
  const odd = path.join(dir, 'a dir [with] *stars* {x,y}');
  fs.mkdirSync(odd);
  writeUserFile(path.join(odd, 'f.txt'), 'odd');
  const r = inSandbox(`cat "${odd}/f.txt"`, ['--ro', odd]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'odd');
});

t.test('10,000 paths on the command line are refused in one line; 20,000 program arguments pass', async (t) => {
  const args: string[] = [];
  for (let i = 0; i < 10000; i++) args.push('--ro', dir);
  const r = tsjail([...args, 'true']);
  oneLine(t, r, '10,000 --ro');
  t.match(r.stderr, /too many options before the program/);
  const many = Array.from({ length: 20000 }, (_, i) => String(i));
  const e = tsjail(['--', '/bin/echo', ...many]);
  t.equal(e.status, 0, e.stderr);
  t.equal(e.stdout, many.join(' ') + '\n', 'every argument reaches the program, in order');
});

t.test('a newline in a profile path is a valid (missing) path, reported on one line', async (t) => {
  writeUserFile(path.join(dir, 'nl.json5'), '{ filesystem: { ro: ["/usr\\n/bin"] } }');
  const r = tsjail(['-v', '-p', path.join(dir, 'nl.json5'), 'true']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /skipped \/usr\\n\/bin .*does not exist/);
});

t.test('a program named like an option is run as a program, never parsed as one (CVE-2024-32462)', async (t) => {
  for (const name of ['--plan-fd', '-p', '--help', '--version', '--dry-run']) {
    const r = tsjail(['run', '--', name]);
    t.equal(r.status, 127, `${name}: looked up as a program`);
    t.match(r.stderr, /not found in the sandbox/);
  }
  const bin = path.join(dir, '--tool');
  fs.copyFileSync('/bin/echo', bin);
  fs.chmodSync(bin, 0o755);
  const r = tsjail(['run', '--ro', dir, '--', bin, '--plan-fd', '3'], { cwd: dir });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '--plan-fd 3\n', 'and its own options reach it untouched');
});
