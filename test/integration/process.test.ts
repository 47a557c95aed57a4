// SPEC "Semantics users rely on", the process side: ids, capabilities,
// no_new_privs, session, PID namespace, hostname, environment, descriptors.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inSandbox, makeUserDir, removeDir, testUser, tsjail, writeUserFile } from '../helpers/sandbox.js';

const user = testUser();

t.test("the program runs with the caller's uid and gid", async (t) => {
  const r = inSandbox('id -u; id -g');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `${user.uid}\n${user.gid}\n`);
});

t.test('no capabilities in any set, no_new_privs on', async (t) => {
  const r = inSandbox('grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status');
  t.equal(r.status, 0, r.stderr);
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
    t.match(r.stdout, new RegExp(`^${set}:\\s+0000000000000000$`, 'm'), set);
  }
  t.match(r.stdout, /^NoNewPrivs:\s+1$/m);
});

t.test("its own PID namespace: tsjail's init is PID 1, the program is not, host PIDs are invisible", async (t) => {
  const r = inSandbox('echo $$; for p in /proc/[0-9]*; do echo "${p#/proc/} $(cat $p/comm)"; done');
  t.equal(r.status, 0, r.stderr);
  const [pid, ...procs] = r.stdout.trim().split('\n');
  t.not(pid, '1', 'the program is not PID 1');
  const comms = new Map(procs.map((l) => [l.split(' ')[0], l.split(' ')[1]] as const));
  t.equal(comms.get('1'), 'tsjail-init', "PID 1 is tsjail's init");
  for (const c of comms.values())
    t.ok(['cat', 'sh', 'tsjail-init'].includes(c!), `only the sandbox's own processes (${c})`);
  t.ok([...comms.values()].includes('sh'), 'the program itself is listed');
});

t.test('a new session: the program leads it and has no controlling terminal', async (t) => {
  const r = inSandbox(
    'read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; echo "$$ $sid"; (exec 3</dev/tty) 2>/dev/null && echo tty || echo notty',
  );
  t.equal(r.status, 0, r.stderr);
  const [line, tty] = r.stdout.trim().split('\n');
  const [pid, sid] = line!.split(' ');
  t.equal(sid, pid, 'session id is its own pid');
  t.equal(tty, 'notty');
});

t.test('hostname is "tsjail" unless the profile sets one', async (t) => {
  t.equal(inSandbox('hostname').stdout.trim(), 'tsjail');
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(path.join(dir, 'named.json5'), '{ hostname: "box42" }');
  t.equal(inSandbox('hostname', ['-p', path.join(dir, 'named.json5')]).stdout.trim(), 'box42');
});

t.test('environment: cleared, then PATH and kept variables, then env.set and --env', async (t) => {
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(
    path.join(dir, 'envp.json5'),
    '{ env: { keep: ["KEEP_*"], set: { FROM_PROFILE: "p", KEEP_ME: "overridden" } } }',
  );
  const r = inSandbox(
    'env | sort',
    ['-p', path.join(dir, 'envp.json5'), '--env', 'FROM_CLI=c', '--env', 'FROM_PROFILE=cli-wins'],
    {
      env: { SECRET_TOKEN: 'hunter2', KEEP_A: 'a', KEEP_ME: 'orig', LANG: 'C.UTF-8' },
    },
  );
  t.equal(r.status, 0, r.stderr);
  const env = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  t.notOk('SECRET_TOKEN' in env, 'unlisted variables are cleared');
  t.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin');
  t.equal(env.KEEP_A, 'a');
  t.equal(env.KEEP_ME, 'overridden', 'env.set after keep');
  t.equal(env.FROM_PROFILE, 'cli-wins', '--env last');
  t.equal(env.FROM_CLI, 'c');
  t.equal(env.LANG, 'C.UTF-8', 'base keeps LANG');
  t.equal(env.HOME, user.home);
});

t.test("the caller's descriptors other than 0, 1, 2 are not inherited", async (t) => {
  const fd = fs.openSync('/etc/hostname', 'r');
  t.teardown(() => fs.closeSync(fd));
  // The shell lists its own descriptors with a plain child (no pipeline or
  // command substitution, whose pipe ends the shell itself would hold).
  const r = tsjail(['--', '/bin/sh', '-c', 'ls -l /proc/$$/fd/'], {
    stdio: ['pipe', 'pipe', 'pipe', fd, fd, fd, fd],
  });
  t.equal(r.status, 0, r.stderr);
  const fds = [...r.stdout.matchAll(/ (\d+) -> /g)].map((m) => m[1]);
  t.same(fds, ['0', '1', '2'], r.stdout);
  t.notMatch(r.stdout, /hostname/, "the caller's open file is not reachable");
});

t.test("tsjail's init inside is not dumpable, so the program cannot reach into it", async (t) => {
  const r = inSandbox('ls /proc/1/root/ 2>&1 | head -1; cat /proc/1/environ 2>&1 | head -1');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /root.*Permission denied/, '/proc/1/root of the init is not reachable');
  t.match(r.stdout, /environ.*Permission denied/, 'nor its environment');
});
