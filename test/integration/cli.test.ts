// The command line of SPEC: --dry-run, -v, the profile verbs, --help,
// --version, `run --`, and user namespaces being refused.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { bigPtraceProfile } from '../helpers/profiles.js';
import { asUser, makeUserDir, removeDir, tsjail, tsjailArgv, userEnv, writeUserFile } from '../helpers/sandbox.js';

t.test('--dry-run prints one JSON document on stdout and nothing else; -v goes to stderr', async (t) => {
  const r = tsjail(['--dry-run', '-v', 'ls', '-l']);
  t.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  t.equal(plan.profile, 'default');
  t.same(plan.argv, ['ls', '-l']);
  t.ok(plan.mounts.some((m: { op: string; dest: string }) => m.op === 'bind' && m.dest === '/usr'));
  t.match(r.stderr, /bind \/usr/);
});

t.test('run -- takes a program whose name starts with a dash as the program', async (t) => {
  const r = tsjail(['run', '--dry-run', '--', '--help']);
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout).argv, ['--help']);
  const args = tsjail(['--dry-run', 'prog', '--net', 'host', '-v']);
  t.same(JSON.parse(args.stdout).argv, ['prog', '--net', 'host', '-v'], 'options after PROGRAM belong to it');
});

t.test('profile verbs', async (t) => {
  const list = tsjail(['profile', 'list']);
  t.equal(list.status, 0, list.stderr);
  t.match(list.stdout, /^default\s+\S+default\.json5/m);
  const show = tsjail(['profile', 'show', 'default']);
  t.equal(show.status, 0, show.stderr);
  t.equal(JSON.parse(show.stdout).network.mode, 'none');
  const dir = makeUserDir('prof');
  t.teardown(() => removeDir(dir));
  writeUserFile(
    path.join(dir, 'bad.json5'),
    '{\n  filesystem: {\n    ro: ["relative/path"],\n  },\n  netwrok: "host",\n}\n',
  );
  const check = tsjail(['profile', 'check', path.join(dir, 'bad.json5')]);
  t.equal(check.status, 125);
  t.match(check.stderr, new RegExp(`${dir}/bad\\.json5:3: filesystem\\.ro\\[0\\]`));
  t.match(check.stderr, /bad\.json5:5: .*netwrok.*did you mean "network"/);
  const ok = tsjail(['profile', 'check', 'default']);
  t.equal(ok.status, 0, ok.stderr);
  const explain = tsjail(['profile', 'explain', 'default']);
  t.equal(explain.status, 0, explain.stderr);
  t.match(explain.stdout, /no network/);
});

t.test('profile check refuses what run refuses, at FILE:LINE, and accepts what run accepts', async (t) => {
  const dir = makeUserDir('check');
  t.teardown(() => removeDir(dir));
  const cases: [string, string, RegExp][] = [
    [
      'syscall',
      '{\n  syscalls: {\n    allow: ["@default", "no_such_call"],\n  },\n}\n',
      /:3: syscalls\.allow: unknown syscall "no_such_call"$/,
    ],
    [
      'group',
      '{\n  syscalls: {\n    allow: [\n      "@default",\n      "@no-such-group",\n    ],\n  },\n}\n',
      /:5: syscalls\.allow: unknown group "@no-such-group"$/,
    ],
    [
      'dbus',
      '{\n  dbus: {\n    session: {\n      talk: ["org.freedesktop.Notifications",\n             "org.freedesktop.systemd1"],\n    },\n  },\n}\n',
      /:5: dbus\.session\.talk: "org\.freedesktop\.systemd1" would reach org\.freedesktop\.systemd1: /,
    ],
    [
      'big',
      bigPtraceProfile(),
      /:5: syscalls\.allow: the seccomp filter for \S+ would have \d+ instructions, more than the kernel's 4096; the 200 argument rules for ptrace \(from here to \S+:204\)/,
    ],
  ];
  for (const [name, text, line] of cases) {
    const file = path.join(dir, `${name}.json5`);
    writeUserFile(file, text);
    const check = tsjail(['profile', 'check', file]);
    t.equal(check.status, 125, `${name}: check refuses`);
    const lines = check.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${name}: one line: ${check.stderr}`);
    t.match(lines[0], new RegExp(`^tsjail: ${file.replace(/[.]/g, '\\.')}${line.source}`), name);
    t.equal(check.stdout, '', `${name}: no "ok"`);
    const run = tsjail(['-p', file, '--dry-run', 'true']);
    t.equal(run.status, 125, `${name}: run refuses`);
    t.equal(run.stderr, check.stderr, `${name}: with the same line`);
  }
  // Absent paths and sockets are skipped by run, and pass check.
  const absent = path.join(dir, 'absent.json5');
  writeUserFile(absent, '{\n  filesystem: { ro: ["/no/such/dir"] },\n  sockets: ["wayland", "x11"],\n}\n');
  const ok = tsjail(['profile', 'check', absent]);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /: ok$/m);
  t.equal(tsjail(['-p', absent, '--dry-run', 'true']).status, 0);
});

t.test('--help and --version', async (t) => {
  const h = tsjail(['--help']);
  t.equal(h.status, 0);
  t.match(h.stdout, /profile list/);
  const v = tsjail(['--version']);
  t.equal(v.status, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+/);
});

t.test('refused user namespaces are explained, not "uid map: Permission denied"', async (t) => {
  // Inside a user namespace of our own, user.max_user_namespaces is ours to set to 0.
  const inner = [...tsjailArgv(['true'])].map((a) => `'${a}'`).join(' ');
  const argv = asUser(
    [
      'unshare',
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      `echo 0 > /proc/sys/user/max_user_namespaces && exec ${inner}`,
    ],
    userEnv({}),
  );
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  t.equal(r.status, 125, r.stderr);
  t.match(r.stderr, /max_user_namespaces/);
  t.match(r.stderr, /hint:.*sysctl/);
});
