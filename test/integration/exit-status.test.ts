// SPEC "Exit status": the program's own, 128+N for a signal, 125 for tsjail's
// own failures (nothing started), 126 found but not executable, 127 not found.
import t from 'tap';
import { inSandbox, tsjail } from '../helpers/sandbox.js';

t.test("the program's own exit status comes back", async (t) => {
  t.equal(inSandbox('exit 0').status, 0);
  t.equal(inSandbox('exit 3').status, 3);
  t.equal(inSandbox('exit 125').status, 125, 'even one that looks like ours');
});

t.test('killed by signal N gives 128+N', async (t) => {
  t.equal(inSandbox('kill -TERM $$').status, 128 + 15);
  t.equal(inSandbox('kill -KILL $$').status, 128 + 9);
  t.equal(inSandbox('kill -SEGV $$').status, 128 + 11);
});

t.test('a program missing inside the sandbox gives 127 and one line', async (t) => {
  const r = tsjail(['--', 'no-such-program-anywhere']);
  t.equal(r.status, 127);
  t.match(r.stderr, /no-such-program-anywhere.*not found/);
  // Besides the line a machine without a delegated pids cgroup adds for the
  // default profile's limits.pids (limits.required: false).
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('tsjail: warning: not enforced here: limits.'));
  t.equal(lines.length, 1, r.stderr);
  const abs = tsjail(['--', '/usr/bin/does-not-exist']);
  t.equal(abs.status, 127);
});

t.test('a program found but not executable gives 126', async (t) => {
  const r = tsjail(['--', '/etc/passwd']);
  t.equal(r.status, 126, r.stderr);
  t.match(r.stderr, /passwd.*cannot execute/);
});

t.test('bad options and profiles give 125, one line, nothing started', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--bogus', 'true'], /bogus|Unsupported option|Unknown/i],
    [['--net', 'sideways', 'true'], /--net/],
    [['--ro', '/definitely/not/here', 'true'], /--ro \/definitely\/not\/here: no such file/],
    [['-p', 'no-such-profile', 'true'], /no-such-profile/],
    [['-p', '/nonexistent/dir/x.json5', 'true'], /x\.json5/],
    [['--env', '1BAD=x', 'true'], /--env/],
  ];
  for (const [args, msg] of cases) {
    const r = tsjail([...args]);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, msg, args.join(' '));
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.equal(r.stdout, '', 'nothing on stdout');
  }
});
