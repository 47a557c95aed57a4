// Issue 11, a first hour without surprises: state directories are created
// rather than skipped, a writable path that can be neither is a warning, the
// fallback to default is said, --socket and --include add to any profile,
// base shows what common programs read, and every message of item 6.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asUser,
  IS_ROOT,
  makeUserDir,
  mkUserDir,
  removeDir,
  testUser,
  tsjail,
  tsjailArgv,
  tsjailRoot,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';
import { startXvfb } from '../helpers/xvfb.js';

const user = testUser();

t.test("state directories of a profile are created, 0700 and the caller's, and kept", async (t) => {
  const home = makeUserDir('state');
  t.teardown(() => removeDir(home));
  const script = 'echo kept > ~/.config/mozilla/probe && echo saved > ~/Downloads/file.txt';
  const r = tsjail(['-p', 'firefox', '--', '/bin/sh', '-c', script], { home });
  t.equal(r.status, 0, r.stderr);
  for (const d of ['.config/mozilla', '.mozilla', '.cache/mozilla', 'Downloads']) {
    const st = fs.statSync(path.join(home, d));
    t.ok(st.isDirectory(), `${d} exists on the host`);
    t.equal(st.mode & 0o777, 0o700, `${d}: mode 0700`);
    t.equal(st.uid, user.uid, `${d}: the caller's`);
  }
  t.equal(fs.readFileSync(path.join(home, '.config/mozilla/probe'), 'utf8'), 'kept\n', 'written inside, kept outside');
  t.equal(fs.readFileSync(path.join(home, 'Downloads/file.txt'), 'utf8'), 'saved\n', 'a download is kept');
  t.notMatch(r.stderr, /warning/, 'nothing to warn about');

  const dry = makeUserDir('state-dry');
  t.teardown(() => removeDir(dry));
  const plan = tsjail(['-p', 'firefox', '--dry-run', '-v', 'true'], { home: dry });
  t.equal(plan.status, 0, plan.stderr);
  t.match(
    plan.stderr,
    /\.config\/mozilla .*does not exist: a launch creates it/,
    '--dry-run says what a launch creates',
  );
  t.notOk(fs.existsSync(path.join(dry, '.config')), '--dry-run creates nothing');
});

t.test('a writable path that neither exists nor can be created is one warning line, without -v', async (t) => {
  const home = makeUserDir('state-warn');
  t.teardown(() => removeDir(home));
  writeUserFile(path.join(home, 'blocker'), 'a file where a directory would go\n');
  const profile = path.join(home, 'p.json5');
  writeUserFile(
    profile,
    '{ filesystem: { tmpfs: ["${HOME}"], rw: ["${HOME}/blocker/state", "/nonexistent-tsjail-test/data"] } }\n',
  );
  const r = tsjail(['-p', profile, '/bin/true'], { home });
  t.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
  t.equal(warnings.length, 2, r.stderr);
  t.match(
    r.stderr,
    /warning: .*p\.json5:1: writable \S+\/blocker\/state does not exist and cannot be created \(\S+blocker is not a directory\)/,
  );
  t.match(
    r.stderr,
    /warning: .*writable \/nonexistent-tsjail-test\/data does not exist, so what the program writes there is not kept/,
  );
});

t.test('falling back to default is said once; -q and -p silence it', async (t) => {
  const r = tsjail(['/bin/true']);
  t.equal(r.status, 0, r.stderr);
  t.equal(
    r.stderr.match(
      /no profile for true: using "default" \(no display, no network, empty home\); see `tsjail profile list`/g,
    )?.length,
    1,
    r.stderr,
  );
  t.notMatch(tsjail(['-q', '/bin/true']).stderr, /no profile/, '-q');
  t.notMatch(tsjail(['-p', 'default', '/bin/true']).stderr, /no profile/, 'a profile asked for by name');
  t.notMatch(tsjail(['-p', 'firefox', '/bin/true']).stderr, /no profile/, 'a profile that matches');
});

t.test('base shows /etc/machine-id and the common /etc files', async (t) => {
  const files = ['/etc/machine-id', '/etc/inputrc', '/etc/shells', '/etc/xdg', '/etc/papersize'].filter((f) =>
    fs.existsSync(f),
  );
  const r = tsjail(['-q', '--', '/bin/sh', '-c', files.map((f) => `test -e ${f} && echo ok ${f}`).join('; ')]);
  t.equal(r.stdout, files.map((f) => `ok ${f}\n`).join(''), r.stderr);
  if (fs.existsSync('/etc/machine-id')) {
    const inside = tsjail(['-q', 'cat', '/etc/machine-id']);
    t.equal(inside.stdout, fs.readFileSync('/etc/machine-id', 'utf8'), "the host's machine id");
  }
});

t.test('--include and --socket add to the default profile from the command line', async (t) => {
  const r = tsjail(['-q', '--include', 'desktop', '--dry-run', 'true']);
  t.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  t.ok(
    plan.files.some((f: string) => f.endsWith('include/desktop.json5')),
    'the snippet is merged',
  );
  const missing = tsjail(['--include', 'no-such-snippet', 'true']);
  t.equal(missing.status, 125);
  t.match(missing.stderr, /^tsjail: --include: snippet "no-such-snippet" not found/);
  const bad = tsjail(['--socket', 'telepathy', 'true']);
  t.equal(bad.status, 125);
  t.match(bad.stderr, /--socket: unknown socket "telepathy" \(one of: wayland, x11/);

  const tools = ['Xvfb', 'xauth', 'xwd'].filter((p) => !installed(p));
  if (tools.length > 0) {
    t.skip(`--socket x11 on a display: ${tools.join(', ')} not installed here (.ci/run installs them)`, async () => {});
    return;
  }
  if (IS_ROOT && !fs.existsSync('/tmp/.X11-unix')) {
    fs.mkdirSync('/tmp/.X11-unix', { recursive: true });
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
  }
  const home = makeUserDir('socket');
  t.teardown(() => removeDir(home));
  const auth = path.join(home, '.Xauthority');
  const { n } = await startXvfb(t, home, auth, crypto.randomBytes(16).toString('hex'));
  const opts = { home, env: { DISPLAY: `:${n}`, XAUTHORITY: auth } };
  const shot = ['xwd', '-root', '-silent', '-out', '/dev/null'];
  const without = tsjail(['-q', '--', ...shot], opts);
  t.not(without.status, 0, 'default has no display (control)');
  const withSocket = tsjail(['-q', '--include', 'desktop', '--socket', 'x11', '--', ...shot], opts);
  t.equal(withSocket.status, 0, `--socket x11 reaches the display: ${withSocket.stderr}`);
});

t.test('messages: no empty "did you mean", option and verb suggestions, value names in --help', async (t) => {
  const cases: [string[], RegExp][] = [
    [['profile'], /^tsjail: tsjail profile needs a subcommand; one of: list, show, check, explain\n$/],
    [['profile', 'lst'], /^tsjail: tsjail profile lst: unknown; did you mean `tsjail profile list`\?\n$/],
    [['-p'], /^tsjail: -p needs a value \(NAME\|PATH\)\n$/],
    [['--rox', '/usr', 'true'], /^tsjail: unknown option --rox; did you mean --ro\?\n$/],
    [['--profiel', 'x', 'true'], /^tsjail: unknown option --profiel; did you mean --profile\?\n$/],
  ];
  for (const [args, msg] of cases) {
    const r = tsjail(args);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, msg, args.join(' '));
    t.notMatch(r.stderr, /did you mean one of:?\s*$/m, `${args.join(' ')}: no empty list`);
  }
  const typo = tsjail(['doctr']);
  t.equal(typo.status, 127);
  t.match(
    typo.stderr,
    /^tsjail: doctr: no such program, in the sandbox or on the host; did you mean the command `tsjail doctor`\?\n$/,
  );
  const far = tsjail(['no-such-program-anywhere']);
  t.equal(far.status, 127);
  t.notMatch(far.stderr, /did you mean/, 'no verb is near');

  const help = tsjail(['--help']);
  t.equal(help.status, 0);
  t.notMatch(help.stdout, /#0/, 'no #0 in --help');
  t.match(help.stdout, /\[-p,--profile NAME\|PATH\] \[--ro PATH\]/);
  t.match(tsjail(['run', '--help']).stdout, /--include SNIPPET/);
});

t.test('"not found in the sandbox" says where the program is on the host and which option shows it', async (t) => {
  const home = makeUserDir('hidden');
  t.teardown(() => removeDir(home));
  const bin = path.join(home, 'tools');
  writeUserFile(path.join(bin, 'hello-tool'), '#!/bin/sh\necho hello from the tool\n', 0o755);
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const r = tsjail(['-q', 'hello-tool'], { home, env });
  t.equal(r.status, 127, r.stderr);
  t.match(
    r.stderr,
    new RegExp(
      `^tsjail: hello-tool: not found in the sandbox; it exists on the host as ${bin}/hello-tool, which profile default does not show .*: --ro ${bin} shows it\\n$`,
    ),
  );
  const shown = tsjail(['-q', '--ro', bin, 'hello-tool'], { home, env });
  t.equal(shown.stdout, 'hello from the tool\n', `the option named shows it: ${shown.stderr}`);
});

t.test('a symlink named after a program runs it under its profile, never itself', async (t) => {
  const home = makeUserDir('argv0');
  t.teardown(() => removeDir(home));
  const bin = path.join(home, 'bin');
  mkUserDir(bin);
  const link = path.join(bin, 'sh');
  fs.symlinkSync(path.join(tsjailRoot(), 'bin', 'tsjail.js'), link);
  if (IS_ROOT) fs.lchownSync(link, user.uid, user.gid);
  // First on PATH: the lookup must pass over the link to /usr/bin/sh.
  const env = userEnv({ home, env: { PATH: `${bin}:/usr/bin:/bin` } });
  const argv = asUser([process.execPath, link, '-c', 'echo "$0 $(hostname)"; ls -A ~'], env);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: home, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^\/usr\/bin\/sh tsjail\n$/, 'the real sh ran inside a sandbox (its hostname, its empty home)');
  t.match(r.stderr, /no profile for sh: using "default"/, 'under the profile named after the link');
});

t.test(
  'files written to the private home and /tmp are reported at exit, with the count and up to three paths',
  async (t) => {
    const home = makeUserDir('discard');
    t.teardown(() => removeDir(home));
    const write = 'echo x > ~/important.txt; mkdir -p /tmp/a; echo y > /tmp/a/b; touch ~/c ~/d';
    const r = tsjail(['-v', '--', '/bin/sh', '-c', write], { home });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => /discarded/.test(l));
    t.equal(lines.length, 1, 'one line');
    t.match(lines[0], /^tsjail: 4 files written to the sandbox's private directories are discarded: /);
    const shown = /discarded: (.*), \.\.\.; keep such files with --rw DIR or the profile's filesystem\.rw/.exec(
      lines[0]!,
    );
    t.ok(shown, lines[0]!);
    const paths = shown![1]!.split(', ');
    t.equal(paths.length, 3, 'three paths shown');
    for (const p of paths) t.ok([`${home}/important.txt`, '/tmp/a/b', `${home}/c`, `${home}/d`].includes(p), p);
    t.notOk(fs.existsSync(path.join(home, 'important.txt')), 'the file is indeed gone');

    const nothing = tsjail(['-v', '--', '/bin/sh', '-c', 'mkdir ~/empty-dir; echo to stdout'], { home });
    t.equal(nothing.status, 0, nothing.stderr);
    t.notMatch(nothing.stderr, /discarded/, 'nothing said when no file was written');
    // What a desktop program leaves in the runtime directory (dconf's change
    // flag, say) is runtime state, not work: every GTK program would be said.
    const desktop = ['--include', 'desktop', '--socket', 'x11'];
    const write2 = 'echo x > "$XDG_RUNTIME_DIR/flag" && echo y > ~/work.txt';
    const runtime = tsjail(['-v', ...desktop, '--', '/bin/sh', '-c', write2], { home });
    t.equal(runtime.status, 0, runtime.stderr);
    t.match(
      runtime.stderr,
      /tmpfs \/run\/user\/\d+ .*\[tmpfs \(desktop runtime directory\)\]/,
      'a private runtime dir',
    );
    t.match(
      runtime.stderr,
      new RegExp(`1 file written to the sandbox's private directories is discarded: ${home}/work\\.txt;`),
      'the home file is said, the runtime directory file is not',
    );
    const kept = tsjail(['-v', '--rw', home, '--', '/bin/sh', '-c', 'echo x > ~/kept.txt'], { home });
    t.notMatch(kept.stderr, /discarded/, 'nothing said of a file written where it is kept');
    t.ok(fs.existsSync(path.join(home, 'kept.txt')));
    const quiet = tsjail(['-q', '-v', '--', '/bin/sh', '-c', 'echo x > ~/important.txt'], { home });
    t.notMatch(quiet.stderr, /discarded/, '-q silences it');
    const notTty = tsjail(['--', '/bin/sh', '-c', 'echo x > ~/important.txt'], { home });
    t.notMatch(notTty.stderr, /discarded/, 'stderr not a terminal, no -v: quiet');
    if (!installed('script')) {
      t.skip('on a terminal: script(1) is not installed here', async () => {});
      return;
    }
    // On a terminal (script's pty), without -v.
    const argv = asUser(
      [
        'script',
        '-qec',
        tsjailArgv(['/bin/sh', '-c', 'echo x > ~/on-a-tty.txt'])
          .map((a) => `'${a}'`)
          .join(' '),
        '/dev/null',
      ],
      userEnv({ home }),
    );
    const tty = spawnSync(argv[0]!, argv.slice(1), { cwd: home, encoding: 'utf8', timeout: 60_000 });
    t.match(
      tty.stdout,
      /1 file written to the sandbox's private directories is discarded: \S+\/on-a-tty\.txt;/,
      'said on a terminal',
    );
  },
);
