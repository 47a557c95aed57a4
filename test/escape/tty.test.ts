// The caller's terminal under job control (issue 10, item 5). An interactive
// bash runs on a fresh pseudo-terminal (tty-driver.py, python3's pty module)
// and starts tsjail the way a user does, in the foreground and with `&`.
// Outside controls: a background job in a session of its own, as the
// sandbox's program used to be, reads what is typed at the next prompt and
// changes the terminal's modes. Under every shipped profile tsjail's job is
// stopped by SIGTTIN/SIGTTOU instead, ^Z, bg and fg work, the window size
// follows, and the caller's modes are as before.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asUser, makeUserDir, removeDir, tsjailArgv, userEnv } from '../helpers/sandbox.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = makeUserDir('tty');
t.teardown(() => removeDir(work));
const PROFILES = ['default', 'untrusted', 'firefox', 'chromium'];

type Step = ['send', string] | ['expect', string] | ['absent', string] | ['winsize', number, number];
interface Driven {
  ok: boolean;
  why?: string;
  output: string;
}

const PROMPT = 'PROMPT> ';
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
// The sandbox's shell prints markers computed at run time, so the echo of
// the typed command line never matches them.
const MARK = (name: string): string => `echo "${name}-$((6*7))"`;
const SEEN = (name: string): ['expect', string] => ['expect', `${name}-42`];

function drive(steps: Step[]): Driven {
  const all: Step[] = [
    ['expect', PROMPT],
    ['send', `TJ=${sq(tsjailArgv([]).join(' '))}; S0=$(stty -g)\n`],
    ['expect', PROMPT],
    ...steps,
  ];
  const argv = asUser(['python3', path.join(here, 'tty-driver.py'), JSON.stringify(all)], userEnv({}));
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    cwd: work,
    timeout: 240_000,
    killSignal: 'SIGKILL',
  });
  try {
    return JSON.parse(r.stdout) as Driven;
  } catch {
    return { ok: false, why: `driver failed: ${r.stderr}`, output: r.stdout };
  }
}

function check(t: Test, d: Driven, what: string): void {
  t.ok(d.ok, `${what}${d.ok ? '' : `: ${d.why}\n${d.output}`}`);
}

const sandbox = (profile: string, script: string): string => `$TJ -p ${profile} -- /bin/sh -c ${sq(script)}`;
const MODES_KEPT: Step[] = [
  ['send', '[ "$(stty -g)" = "$S0" ] && echo "modes-$((1+1))"\n'],
  ['expect', '^modes-2$'],
];

t.test(
  "control: a background job in its own session reads the next prompt's input and changes the modes",
  async (t) => {
    // It starts reading once bash runs the foreground command (which does
    // not read the terminal), so nothing else competes for what is typed.
    const thief = `while [ ! -e go ]; do sleep 0.1; done; ${MARK('reading')}; read -r x; echo "stolen:$x"`;
    const d = drive([
      ['send', 'rm -f go\n'],
      ['expect', PROMPT],
      ['send', `setsid /bin/sh -c ${sq(thief)} &\n`],
      ['expect', PROMPT],
      ['send', 'touch go; sleep 5\n'],
      SEEN('reading'),
      ['send', 'secret\n'],
      ['expect', 'stolen:secret'],
      ['expect', PROMPT],
      ['send', `setsid -w /bin/sh -c 'stty -echo'\n`],
      ['expect', PROMPT],
      ['send', '[ "$(stty -g)" = "$S0" ] || echo "changed-$((1+1))"\n'],
      ['expect', '^changed-2$'],
    ]);
    check(t, d, 'outside tsjail the job reads "secret" and turns echo off');
  },
);

for (const profile of PROFILES) {
  t.test(
    `${profile}: a background sandbox is stopped by SIGTTIN and SIGTTOU, never reads or changes the caller's terminal`,
    async (t) => {
      const d = drive([
        ['send', `${sandbox(profile, `${MARK('ready')}; read -r x; echo "stolen:$x"`)} &\n`],
        SEEN('ready'),
        ['send', 'sleep 2\n'],
        ['send', 'secret\n'],
        // bash got the line the sandbox wanted: it was stopped instead.
        ['expect', 'secret: command not found'],
        ['absent', 'stolen:'],
        ['expect', PROMPT],
        ['send', 'jobs -l\n'],
        ['expect', 'Stopped \\(tty input\\)'],
        ['expect', PROMPT],
        ['send', 'fg\n'],
        ['send', 'later\n'],
        ['expect', 'stolen:later'],
        ['expect', PROMPT],
        ['send', 'echo "rc=$?"\n'],
        ['expect', 'rc=0'],
        // Changing modes from the background: SIGTTOU, and the caller's modes stay.
        ['send', `${sandbox(profile, `${MARK('started')}; stty -echo; ${MARK('after')}`)} &\n`],
        SEEN('started'),
        ['send', 'sleep 1; jobs -l\n'],
        ['expect', 'Stopped \\(tty output\\)'],
        ['expect', PROMPT],
        ...MODES_KEPT,
        ['send', 'fg\n'],
        SEEN('after'),
        ['expect', PROMPT],
        ...MODES_KEPT,
      ]);
      check(t, d, `${profile}: stopped in the background, input went to bash, modes kept`);
    },
  );

  t.test(
    `${profile}: ^Z stops the job, bg and fg resume it, modes restored, window size follows, status kept`,
    async (t) => {
      const d = drive([
        [
          'send',
          `${sandbox(profile, `stty -echo; ${MARK('started')}; read -r l; echo "got:$l"; cat; ${MARK('done')}; stty size; read -r x; stty size; exit 7`)}\n`,
        ],
        SEEN('started'),
        ['send', '\x1a'],
        ['expect', 'Stopped'],
        ['expect', PROMPT],
        // Stopped: the caller's terminal has its own modes back (raw and the
        // sandbox's -echo were the pty's and the relay's).
        ...MODES_KEPT,
        // In the background cat reads its terminal: SIGTTIN stops it again.
        ['send', 'bg\n'],
        ['expect', PROMPT],
        ['send', 'sleep 1; jobs -l\n'],
        ['expect', 'Stopped \\(tty input\\)'],
        ['expect', PROMPT],
        ['send', 'fg\n'],
        ['send', 'abc\n'],
        // The program's own answer, not the echo of a terminal still in
        // cooked mode (^D typed before the relay takes the terminal is the
        // case of its own below).
        ['expect', '^got:abc$'],
        ['send', '\x04'],
        SEEN('done'),
        ['expect', '^24 80$'],
        ['winsize', 40, 100],
        ['send', '\n'],
        ['expect', '^40 100$'],
        ['expect', PROMPT],
        ['send', 'echo "rc=$?"\n'],
        ['expect', 'rc=7'],
        ...MODES_KEPT,
        // Killed by a signal: 128 + N, as SPEC says.
        ['send', `${sandbox(profile, 'kill -TERM $$')}; echo "rc=$?"\n`],
        ['expect', 'rc=143'],
      ]);
      check(t, d, `${profile}: job control, window size and status`);
    },
  );
}

// ^D typed while the caller's terminal is still cooked: right after fg, or
// before the sandbox has started, what is typed waits in the terminal's
// line buffer, where the kernel keeps ^D as an end-of-file mark that it hands
// out as a NUL byte once the mode turns raw. The relay takes those lines and
// marks before it goes raw, so the program sees the line and end of file, as
// it does without tsjail (the control). `dd` reads the first line ("go") and
// leaves the rest typed ahead in the cooked terminal before tsjail starts.
const typedAhead = (run: string): Step[] => [
  ['send', `${MARK('gate')}; dd bs=3 count=1 >/dev/null 2>&1; ${run}; echo "rc=$?"\n`],
  SEEN('gate'),
  ['send', 'go\nabc\n\x04'],
  ['expect', '^\\s*a\\s+b\\s+c\\s+\\\\n\\s*$'],
  SEEN('eof'),
  ['expect', '^rc=0$'],
];
const READER = `cat | od -An -c; ${MARK('eof')}`;

t.test('control: a line and ^D typed ahead on a cooked terminal reach cat as the line and end of file', async (t) => {
  check(t, drive(typedAhead(`/bin/sh -c ${sq(READER)}`)), 'without tsjail cat reads "abc" and ends');
});

for (const profile of PROFILES) {
  t.test(
    `${profile}: a line and ^D typed before the relay went raw reach the program as the line and end of file`,
    async (t) => {
      check(t, drive(typedAhead(sandbox(profile, READER))), `${profile}: cat reads "abc", no NUL, and ends`);
    },
  );
}
