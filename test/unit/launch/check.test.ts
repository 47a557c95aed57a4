// `profile check` refuses exactly what `run` refuses because of the profile.
// Every place on run's way from a merged profile to the launch plan that can
// refuse (a `throw new ...`, or an error pushed to a list) is listed below,
// with a profile that reaches it or why none can: run's path (planSandbox)
// and check's (checkSandbox) must then agree. A new refusal in these folders
// fails the first test until it is listed.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { TsjailError } from '../../../src/errors.js';
import { checkSandbox, planSandbox, type LaunchHost } from '../../../src/launch/sandbox.js';
import { LATEST_ABI } from '../../../src/landlock/abi.js';
import { ProfileError, loadProfile, tryLoadProfile } from '../../../src/profile/index.js';
import { bigPtraceProfile } from '../../helpers/profiles.js';
import { SHIPPED, vars, writeTree } from '../profile/helpers.js';

const SRC = new URL('../../../src/', import.meta.url);
/** The stages after profile loading (src/profile's own errors are the loader's, which both verbs share). */
const STAGES = ['desktop', 'landlock', 'launch', 'mounts', 'plan', 'policy', 'seccomp'];
/** Test-only modules and tsjail's own check code. */
const NOT_RUN = [
  'seccomp/interp.ts',
  'seccomp/evaluate.ts',
  'seccomp/groups-doc.ts',
  'seccomp/tables/generate.ts',
  'launch/sandbox.ts',
];

type Site =
  /** The profile alone makes run refuse: check must refuse it too, with the same message. */
  | { file: string; at: string; profile: string; message: RegExp; setup?: (dir: string) => void }
  /** Depends on the machine, the session or the command line at launch time, or guards tsjail's own invariants. */
  | { file: string; at: string; not: string; launch?: { profile: string; host: Partial<LaunchHost>; message: RegExp } };

const sc = (list: string, entry: string, extra = '') =>
  `{\n  syscalls: {${extra}\n    ${list}: [\n      ${entry},\n    ],\n  },\n}\n`;
const arg = (cond: string, name = 'ioctl') => sc('allow', `{ name: "${name}", args: [${cond}] }`);
const fsys = (kind: string, p: string) => `{\n  filesystem: {\n    ${kind}: ["${p}"],\n  },\n}\n`;
const AT = (line: number) => new RegExp(`^\\S+p\\.json5:${line}: `);

/** $DIR/w writable, and a symbolic link in it. */
const RW_W = '{\n  filesystem: {\n    rw: ["$DIR/w"],\n  },\n}\n';
const linkInWritable = (name: string, target: string) => (dir: string) => {
  fs.mkdirSync(`${dir}/w`);
  fs.symlinkSync(target, `${dir}/w/${name}`);
};

const CLI = 'a command-line option (--ro/--rw/--tmpfs/--deny/--env); check has none';
const INVARIANT =
  "an invariant of tsjail's own output, checked again before it reaches the kernel or the shim; no profile reaches it";
const HANDOVER = 'at the hand-over, after planning (the shim, xdg-dbus-proxy): the machine at launch time';

const SITES: Site[] = [
  // src/seccomp/policy.ts: each entry of syscalls.allow/deny
  {
    file: 'seccomp/policy.ts',
    at: 'is not an integer',
    profile: arg('{ arg: 1, op: "==", value: 1.5 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'is beyond 2^53',
    profile: arg('{ arg: 2, op: "==", value: 9007199254740993 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'unknown constant',
    profile: arg('{ arg: 1, op: "==", value: "NO_SUCH_CONSTANT" }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'must be a number or a constant name',
    profile: arg('{ arg: 1, op: "==", value: true }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'does not fit the ${width}-bit argument (max',
    profile: arg('{ arg: 1, op: "==", value: "0x100000000" }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: '${v} does not fit the ${width}-bit argument`',
    profile: arg('{ arg: 1, op: "==", value: -2147483649 }'),
    message: AT(4),
  },
  { file: 'seccomp/policy.ts', at: 'a condition must be an object', profile: arg('1'), message: AT(4) },
  {
    file: 'seccomp/policy.ts',
    at: 'unknown condition key',
    profile: arg('{ arg: 1, op: "==", value: 1, what: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'arg must be an integer from 0 to 5',
    profile: arg('{ arg: 6, op: "==", value: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: '; arg ${arg} does not exist',
    profile: arg('{ arg: 0, op: "==", value: 1 }', 'getpid'),
    message: AT(4),
  },
  { file: 'seccomp/policy.ts', at: 'op must be one of', profile: arg('{ arg: 1, op: "~", value: 1 }'), message: AT(4) },
  {
    file: 'seccomp/policy.ts',
    at: 'mask is only allowed with op',
    profile: arg('{ arg: 1, op: "==", value: 1, mask: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'op "in" needs an array value',
    profile: arg('{ arg: 1, op: "in", value: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'op "in" with an empty list',
    profile: arg('{ arg: 1, op: "in", value: [] }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'needs a single value',
    profile: arg('{ arg: 1, op: "==", value: [1, 2] }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'op "&==" needs a mask',
    profile: arg('{ arg: 1, op: "&==", value: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'has bits outside mask',
    profile: arg('{ arg: 1, op: "&==", value: 2, mask: 1 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: '"< 0" never matches',
    profile: arg('{ arg: 1, op: "<", value: 0 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'never matches on a ${width}-bit argument',
    profile: arg('{ arg: 1, op: ">", value: 4294967295 }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'unknown group',
    profile: sc('allow', '"@no-such-group"'),
    message: /p\.json5:4: syscalls\.allow: unknown group "@no-such-group"$/,
  },
  {
    file: 'seccomp/policy.ts',
    at: 'unknown entry key',
    profile: sc('allow', '{ name: "read", what: 1 }'),
    message: AT(4),
  },
  { file: 'seccomp/policy.ts', at: 'entry needs a "name"', profile: sc('allow', '{ args: [] }'), message: AT(4) },
  {
    file: 'seccomp/policy.ts',
    at: 'argument conditions apply to one syscall',
    profile: sc('allow', '{ name: "@default", args: [] }'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: '"args" must be a list of conditions',
    profile: sc('allow', '{ name: "read", args: 1 }'),
    message: AT(4),
  },
  { file: 'seccomp/policy.ts', at: 'an entry is a syscall name', profile: sc('allow', '5'), message: AT(4) },
  {
    file: 'seccomp/policy.ts',
    at: 'knownAnywhere(x.name)',
    profile: sc('allow', '"no_such_call"'),
    message: /p\.json5:4: syscalls\.allow: unknown syscall "no_such_call"$/,
  },
  {
    file: 'seccomp/policy.ts',
    at: 'cannot be denied: tsjail needs it',
    profile: sc('deny', '"execve"'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'which tsjail needs to start the program',
    profile: sc('deny', '"@default"'),
    message: AT(4),
  },
  {
    file: 'seccomp/policy.ts',
    at: 'throw new SeccompPolicyError(errors)',
    not: 'resolvePolicy after validatePolicy found nothing: ' + INVARIANT,
  },
  // src/seccomp/verify.ts: the finished program
  {
    file: 'seccomp/verify.ts',
    at: 'throw new SeccompTooLargeError(n)',
    profile: bigPtraceProfile(),
    message:
      /p\.json5:5: syscalls\.allow: the seccomp filter for \S+ would have \d+ instructions, more than the kernel's 4096; the 200 argument rules for ptrace/,
  },
  ...[
    'empty seccomp program',
    'does not end with a return',
    'not allowed',
    'bad k',
    'bad jt/jf',
    'outside struct seccomp_data',
    'jump past the end',
    'jump past the end',
    'jt/jf set on a non-conditional',
  ].map((at): Site => ({ file: 'seccomp/verify.ts', at, not: `the compiler's output: ${INVARIANT}` })),
  // src/desktop
  { file: 'desktop/index.ts', at: 'unknown socket', profile: '{\n  sockets: [\n    "x12",\n  ],\n}\n', message: AT(3) },
  {
    file: 'desktop/dbus.ts',
    at: 'would reach ${bad.name}',
    profile:
      '{\n  dbus: {\n    session: {\n      talk: ["org.freedesktop.Notifications",\n             "org.freedesktop.systemd1"],\n    },\n  },\n}\n',
    message: /p\.json5:5: dbus\.session\.talk: "org\.freedesktop\.systemd1" would reach/,
  },
  {
    file: 'desktop/x11.ts',
    at: 'is not a local display',
    not: "the session's DISPLAY at launch time",
    launch: {
      profile: '{\n  sockets: ["x11"],\n}\n',
      host: { env: { DISPLAY: 'far.example:0' } },
      message: /x11: DISPLAY=far\.example:0 is not a local display/,
    },
  },
  {
    file: 'desktop/dbus.ts',
    at: 'is not a name tsjail refuses; nothing to allow',
    profile: '{\n  dbus: {\n    session: {\n      dangerouslyAllow: ["org.example.App"],\n    },\n  },\n}\n',
    message: /p\.json5:4: dbus\.session\.dangerouslyAllow: "org\.example\.App" is not a name tsjail refuses/,
  },
  {
    file: 'desktop/x11.ts',
    at: 'x11-isolated: DISPLAY=${display} is not a local display',
    not: "the session's DISPLAY at launch time",
    launch: {
      profile: '{\n  sockets: ["x11-isolated"],\n}\n',
      host: { env: { DISPLAY: 'far.example:0' } },
      message: /x11-isolated: DISPLAY=far\.example:0 is not a local display/,
    },
  },
  ...[
    'needs Xephyr (Debian package',
    'no free X display number',
    'cannot start Xephyr',
    'Xephyr: ${',
    'Xephyr was not ready within',
    'throw new TsjailError(\n',
    'Xephyr reported display ${JSON',
    'is not its socket',
    'every display number tried',
  ].map((at): Site => ({
    file: 'desktop/xephyr.ts',
    at,
    not: `Xephyr installed and its nested server started: the machine and the session at launch time`,
  })),
  { file: 'desktop/x11.ts', at: 'not an Xauthority file', not: "the session's Xauthority file at launch time" },
  ...['truncated at byte', 'runs past the end', 'truncated at byte', 'is too long'].map((at): Site => ({
    file: 'desktop/xauth.ts',
    at,
    not: "reading the session's Xauthority file (reported by x11.ts)",
  })),
  ...[
    'is not installed',
    'cannot start ${spec.what}: ${',
    'no socket pair to it',
    '${spec.what}: ${',
    'no socket for its log',
    'was not ready within',
    'exited before it was ready',
    'reported ready but',
  ].map((at): Site => ({ file: 'desktop/proxy.ts', at, not: HANDOVER })),
  { file: 'desktop/pulse-filter.ts', at: 'needs tsjail-pulse-filter beside', not: HANDOVER },
  // src/landlock: what the kernel offers
  {
    file: 'landlock/ruleset.ts',
    at: 'which only Landlock can enforce',
    not: "the kernel's Landlock at launch time (tsjail doctor)",
    launch: {
      profile: '{\n  network: { mode: "host", tcp: { connect: [443] } },\n}\n',
      host: { landlockAbi: 0 },
      message: /the profile limits TCP ports, which only Landlock can enforce/,
    },
  },
  {
    file: 'landlock/ruleset.ts',
    at: 'the profile requires Landlock, which is',
    not: "the kernel's Landlock at launch time (tsjail doctor)",
    launch: {
      profile: '{\n  landlock: "required",\n}\n',
      host: { landlockAbi: 0 },
      message: /the profile requires Landlock, which is/,
    },
  },
  {
    file: 'landlock/ruleset.ts',
    at: 'which needs Landlock ABI 4',
    not: "the kernel's Landlock at launch time (tsjail doctor)",
    launch: {
      profile: '{\n  network: { mode: "host", tcp: { bind: [] } },\n}\n',
      host: { landlockAbi: 3 },
      message: /which needs Landlock ABI 4; this kernel has ABI 3/,
    },
  },
  {
    file: 'landlock/ruleset.ts',
    at: 'lacks ${missing',
    not: "the kernel's Landlock at launch time (tsjail doctor)",
    launch: {
      profile: '{\n  landlock: "required",\n}\n',
      host: { landlockAbi: 1 },
      message: /the profile requires Landlock, and this kernel's ABI 1 lacks/,
    },
  },
  {
    file: 'landlock/ruleset.ts',
    at: "the profile has the host's network and",
    not: "the kernel's Landlock at launch time (tsjail doctor)",
    launch: {
      profile: '{\n  network: "host",\n  sockets: ["wayland"],\n}\n',
      host: { landlockAbi: 5 },
      message: /the profile has the host's network and sockets \(wayland\), and .*cannot scope abstract unix sockets/,
    },
  },
  // src/mounts: the view, planned on this machine's files as run plans it
  {
    file: 'mounts/plan.ts',
    at: '${target} (${p.what}): ${rule}',
    setup: (dir) => {
      fs.mkdirSync(`${dir}/secret`);
      fs.symlinkSync('secret', `${dir}/link`);
    },
    profile: '{\n  filesystem: {\n    ro: ["$DIR/link"],\n    deny: ["$DIR/secret"],\n  },\n}\n',
    message:
      /p\.json5:3: \S+\/link resolves to \S+\/secret, a denied path \(\S+p\.json5:4\): it is shown only to a grant that names it/,
  },
  { file: 'mounts/plan.ts', at: 'is missing or not a device on this host', not: "the host's /dev at launch time" },
  { file: 'mounts/plan.ts', at: 'if (req.required) throw', not: CLI },
  {
    file: 'mounts/plan.ts',
    at: 'GlobLimitError) throw',
    profile: fsys('ro', '/usr/**/*'),
    message: /p\.json5:3: \/usr\/\*\*\/\*: more than 20000 entries visited/,
  },
  { file: 'mounts/plan.ts', at: 'if (r.req.required) throw', not: CLI },
  {
    file: 'mounts/plan.ts',
    at: 'throw new TsjailError(\n',
    profile: fsys('ro', '/home'),
    message: /p\.json5:3: \/home is never shown whole/,
  },
  {
    file: 'mounts/plan.ts',
    at: '/proc and /dev are built by tsjail',
    profile: fsys('ro', '/proc/sys'),
    message: /p\.json5:3: \/proc\/sys: \/proc and \/dev are built by tsjail/,
  },
  {
    file: 'mounts/plan.ts',
    at: 'the root is already an empty tmpfs',
    profile: fsys('tmpfs', '/'),
    message: /p\.json5:3: the root is already an empty tmpfs/,
  },
  {
    file: 'mounts/plan.ts',
    at: '/sys is only ever shown read-only',
    profile: fsys('rw', '/sys/kernel'),
    message: /p\.json5:3: \/sys\/kernel: \/sys is only ever shown read-only/,
  },
  // src/mounts/protect.ts: protected paths inside a writable directory ($DIR: the test's own, writable here)
  {
    file: 'mounts/protect.ts',
    at: 'entries read while expanding',
    setup: (dir) => {
      fs.mkdirSync(`${dir}/w`);
      for (let i = 0; i <= 10000; i++) fs.writeFileSync(`${dir}/w/f${i}`, '');
    },
    profile: '{\n  filesystem: {\n    rw: ["$DIR/w"],\n    protect: ["*.lock"],\n  },\n}\n',
    message: /p\.json5:4\): more than \d+ entries read while expanding/,
  },
  {
    file: 'mounts/protect.ts',
    at: 'GlobLimitError) throw',
    setup: (dir) => fs.mkdirSync(`${dir}/w`),
    profile: '{\n  filesystem: {\n    rw: ["$DIR/w"],\n    protect: ["/usr/*/*/*/*/*"],\n  },\n}\n',
    message: /p\.json5:4: \/usr\/\*\/\*\/\*\/\*\/\*: more than 20000 entries visited/,
  },
  {
    file: 'mounts/protect.ts',
    at: 'it cannot be kept read-only',
    setup: linkInWritable('.envrc', '.envrc'),
    profile: RW_W,
    message: /protect \.envrc: .*too many levels of symbolic links; it cannot be kept read-only/,
  },
  {
    file: 'mounts/protect.ts',
    at: 'is a symbolic link (-> ${planted.target})',
    setup: linkInWritable('.git', '/tmp'),
    profile: RW_W,
    message: /protect \.git: \S+\/w\/\.git is a symbolic link \(-> \/tmp\) inside a writable directory/,
  },
  // src/mounts/tree.ts: root, a system tree ($DIR/t: the test's own)
  {
    file: 'mounts/tree.ts',
    at: 'a system tree must be writable by nobody but you or root',
    setup: (dir) => {
      fs.mkdirSync(`${dir}/t/usr`, { recursive: true });
      fs.chmodSync(`${dir}/t/usr`, 0o777);
    },
    profile: '{\n  root: "$DIR/t",\n}\n',
    message: /root \S+\/t\/usr \(\S+p\.json5:2\): owned by uid \d+, mode 0777/,
  },
  {
    file: 'mounts/tree.ts',
    at: 'no such directory',
    profile: '{\n  root: "$DIR/t",\n}\n',
    message: /root \S+\/t \(\S+p\.json5:2\): no such directory/,
  },
  {
    file: 'mounts/tree.ts',
    at: 'not a directory',
    setup: (dir) => fs.writeFileSync(`${dir}/t`, ''),
    profile: '{\n  root: "$DIR/t",\n}\n',
    message: /root \S+\/t \(\S+p\.json5:2\): not a directory/,
  },
  {
    file: 'mounts/tree.ts',
    at: "the host's own root is not a tree",
    profile: '{\n  root: "/",\n}\n',
    message: /root \/ \(\S+p\.json5:2\): the host's own root is not a tree/,
  },
  {
    file: 'mounts/tree.ts',
    at: 'the tree has no executable /bin/sh',
    setup: (dir) => fs.mkdirSync(`${dir}/t/usr/bin`, { recursive: true }),
    profile: '{\n  root: "$DIR/t",\n}\n',
    message: /root \S+\/t \(\S+p\.json5:2\): the tree has no executable \/bin\/sh/,
  },
  {
    file: 'mounts/tree.ts',
    at: 'make it a regular file (its content does not matter)',
    setup: (dir) => {
      fs.mkdirSync(`${dir}/t/bin`, { recursive: true });
      fs.mkdirSync(`${dir}/t/etc`);
      fs.writeFileSync(`${dir}/t/bin/sh`, '', { mode: 0o755 });
    },
    profile: '{\n  root: "$DIR/t",\n  network: { mode: "private", fallback: "host" },\n}\n',
    message:
      /network "private" puts its own \/etc\/resolv\.conf in place of the tree's, but \S+\/t\/etc\/resolv\.conf does not exist/,
  },
  { file: 'mounts/plan.ts', at: 'a host path cannot be shown there', not: CLI },
  {
    file: 'mounts/resolve.ts',
    at: 'too many levels of symbolic links',
    not: "the host's files at launch time; run skips the path (a note), it does not refuse",
  },
  {
    file: 'mounts/resolve.ts',
    at: 'cannot read link',
    not: "the host's files at launch time; run skips the path (a note), it does not refuse",
  },
  { file: 'mounts/glob.ts', at: 'entries visited while expanding', not: 'reported by mounts/plan.ts (listed there)' },
  // src/policy
  ...[
    'empty path or NUL byte',
    'no such file or directory',
    'expected NAME=VALUE',
    'the value contains a NUL byte',
    '--allow-host goes through',
    'throw new TsjailError(`--allow-host ${e}`)',
  ].map((at): Site => ({ file: 'policy/build.ts', at, not: CLI })),
  {
    file: 'policy/build.ts',
    at: 'cannot start: ${support.unavailable}',
    not: 'the machine at launch time (pasta, /dev/net/tun); check takes "private" as available, as it takes the newest Landlock',
    launch: {
      profile: '{\n  network: "private",\n}\n',
      host: {
        privateNet: { unavailable: 'the user-mode network helper pasta is not installed (Debian package passt)' },
      },
      message:
        /network "private" \(\S+p\.json5:2\) cannot start: the user-mode network helper pasta is not installed \(Debian package passt\)/,
    },
  },
  // src/plan/encode.ts: check encodes the plan as run does
  ...[
    'contains a NUL byte',
    'longer than ${MAX_STR} bytes',
    'not an absolute normalised path',
    'empty target',
    'hostname must be 1 to 64 bytes',
    'lifelines exceed 16',
    'is not a descriptor above 2',
    'environment entry without NAME=',
    'empty argv',
    'is not 1..4096 instructions',
    'capability ${c} is not 0..',
    'map must be 1 to 5 triples of ids',
    'uid map must start with the IDS uid',
    'gid map must start with the IDS gid',
    'exceeds ${MAX_PLAN}',
    'exceeds ${MAX_RECORDS}',
    'are not among 0, 1, 2',
    'tty: no devpts mounted at',
    'is not a positive number within its field',
    'record: bad sandbox name',
    'record: meta is not a JSON object',
    'parent pid',
    'need a network namespace',
    'arguments exceeds 64',
    'is not an absolute path',
    'network rules exceed 256',
    'is not an IPv${r.family} prefix',
    'is not 1 to 65535',
    'is not a lifeline',
  ].map((at): Site => ({
    file: 'plan/encode.ts',
    at,
    not: `the encoder, which check runs on its plan as run does: the schema and the planner refuse first what would reach it; ${INVARIANT}`,
  })),
  // The report records come from src/policy/report.ts and the compiler's list of
  // notified calls, never from a profile; test/unit/plan/wire.test.ts and
  // test/unit/policy/report.test.ts reach them.
  ...[
    'is not a lifeline',
    'reported syscalls without a seccomp filter',
    'is not a distinct number below 1024',
    'is not ${lowest}..4095',
    'json is not an object',
    'is not a lifeline of its own',
    'the D-Bus json is not an object',
    'is not 0..5',
    'is not a distinct number below 1024',
    'json is not an object',
    'Landlock advice without a Landlock plan and reported paths',
    'for no right',
    'json is not an object',
  ].map((at): Site => ({
    file: 'plan/encode.ts',
    at,
    not: `the report records, made from --report-fd and the compiled filter (test/unit/plan/wire.test.ts); ${INVARIANT}`,
  })),
  // src/plan/enter.ts: the plan of `tsjail enter`, made from a running sandbox's record
  ...[
    'not a launch plan',
    'plan version',
    'plan length does not match',
    'record header past the end',
    'record past the end',
    'bytes after the last record',
    'empty argv',
    'the sandbox has no devpts for a terminal',
    'plan too large',
  ].map((at): Site => ({
    file: 'plan/enter.ts',
    at,
    not: "`tsjail enter`'s plan, built from the plan a running sandbox was started with (test/unit/plan/enter.test.ts); not on run's way",
  })),
  // The cgroup records come from src/cgroup, never from a profile;
  // test/unit/cgroup/place.test.ts and test/unit/plan/wire.test.ts reach each of these.
  ...[
    "not a file of the plan's cgroups or their parent",
    'a bare name is a control file of an earlier cgroup',
    "the monitor's cgroup is not named by it",
    "both the monitor's and the sandbox's",
    "the monitor's cgroup watched for OOM kills",
    'cgroup /: not a cgroup tsjail creates',
  ].map((at): Site => ({
    file: 'plan/encode.ts',
    at,
    not: `the cgroup records, made by src/cgroup (test/unit/cgroup/place.test.ts, test/unit/plan/wire.test.ts); ${INVARIANT}`,
  })),
  // src/launch
  {
    file: 'launch/limits.ts',
    at: 'limits.${name}: not a size',
    profile: '{\n  limits: {\n    tmpfs: "12X",\n  },\n}\n',
    message: AT(3),
  },
  { file: 'launch/shim-path.ts', at: 'tsjail-shim was not found', not: HANDOVER },
  { file: 'launch/exec.ts', at: 'cannot execute the sandbox helper', not: HANDOVER },
];

/** `throw new X(` and `push(new XError(` lines of run's stages (plain `new Error(` is a bug report, never a refusal). */
function refusalsInSource(): { file: string; line: number; text: string; next: string }[] {
  const out: { file: string; line: number; text: string; next: string }[] = [];
  for (const dir of STAGES) {
    for (const name of fs.readdirSync(new URL(dir, SRC), { recursive: true }) as string[]) {
      const file = `${dir}/${name}`;
      if (!file.endsWith('.ts') || NOT_RUN.includes(file)) continue;
      const text = fs.readFileSync(new URL(file, SRC), 'utf8');
      for (const m of text.matchAll(/throw new (?!Error\()\w+\(|push\(\s*new \w+Error\(/g)) {
        const line = text.slice(0, m.index).split('\n').length;
        const lines = text.split('\n');
        out.push({ file, line, text: lines[line - 1]!, next: lines.slice(line, line + 3).join('\n') });
      }
    }
  }
  return out;
}

t.test("every refusal on run's way to the plan is listed, once", async (t) => {
  const found = refusalsInSource();
  const used = new Set<Site>();
  for (const r of found) {
    // Matched on the line itself, else with the next one (a message on a line of its own).
    const open = SITES.filter((s) => s.file === r.file && !used.has(s));
    const sites = open.filter((s) => r.text.includes(s.at));
    if (sites.length === 0) sites.push(...open.filter((s) => `${r.text}\n${r.next}`.includes(s.at)));
    t.ok(sites.length >= 1, `${r.file}:${r.line} is listed: ${r.text.trim()}`);
    if (sites[0]) used.add(sites[0]);
  }
  t.same(
    SITES.filter((s) => !used.has(s)).map((s) => `${s.file}: ${s.at}`),
    [],
    'no listed site is gone from the source',
  );
});

const caller = { uid: process.getuid!(), gid: process.getgid!(), home: '/home/alice', cwd: '/' };
const opts = { vars: vars(), searchPath: [SHIPPED] };
const RUN_HOST: LaunchHost = { ...caller, env: {}, landlockAbi: LATEST_ABI };
const REQ = { program: 'true', args: [], cli: { ro: [], rw: [], tmpfs: [], deny: [], env: [] }, verbose: false };

function load(t: Test, text: string, setup?: (dir: string) => void) {
  const dir = t.testdir();
  setup?.(dir);
  writeTree(dir, { 'p.json5': text.replaceAll('$DIR', dir) });
  return join(dir, 'p.json5');
}

/** run's first refusal: loading, then planning. */
function runRefusal(file: string, host: LaunchHost): Error | undefined {
  try {
    planSandbox(loadProfile(file, opts), REQ, host);
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

/** check's refusals: every loading error, else those of checkSandbox. */
function checkRefusals(file: string): string[] {
  const { profile, errors } = tryLoadProfile(file, opts);
  return (profile ? checkSandbox(profile, caller) : errors).map((e) => e.message);
}

for (const site of SITES) {
  if ('profile' in site) {
    t.test(`run and check both refuse: ${site.file}: ${site.at}`, async (t) => {
      const file = load(t, site.profile, site.setup);
      const refusal = runRefusal(file, RUN_HOST);
      t.ok(refusal, 'run refuses');
      t.match(refusal?.message, site.message, refusal?.message ?? 'no refusal');
      t.ok(
        refusal instanceof ProfileError || refusal instanceof TsjailError,
        'one line for the user, not an internal error',
      );
      t.ok(checkRefusals(file).includes(refusal!.message), 'check refuses with the same message');
    });
  } else if (site.launch) {
    const l = site.launch;
    t.test(`run refuses at launch time, check does not: ${site.file}: ${site.at}`, async (t) => {
      const file = load(t, l.profile);
      t.match(runRefusal(file, { ...RUN_HOST, ...l.host })?.message, l.message, 'run refuses on such a machine');
      t.same(checkRefusals(file), [], `check accepts it: ${site.not}`);
      t.equal(runRefusal(file, RUN_HOST), undefined, 'and run accepts it where the machine has it');
    });
  }
}

t.test('check says every error of syscalls and dbus at once, and the first of the rest', async (t) => {
  const mounts = checkRefusals(
    load(t, '{\n  filesystem: { tmpfs: ["/"] },\n  syscalls: { allow: ["@default", "nope1", "nope2"] },\n}\n'),
  );
  t.equal(mounts.length, 3, mounts.join('\n'));
  t.match(mounts[0], /the root is already an empty tmpfs/, 'the planning stopped at the mount view');
  t.match(mounts[1], /unknown syscall "nope1"/);
  t.match(mounts[2], /unknown syscall "nope2"/);
  const dbus = checkRefusals(
    load(
      t,
      '{\n  dbus: { system: { talk: ["org.freedesktop.login1", "org.freedesktop.systemd1"] } },\n  syscalls: { allow: ["@default", "nope1"] },\n}\n',
    ),
  );
  t.equal(dbus.length, 3, dbus.join('\n'));
  t.match(dbus[0], /unknown syscall "nope1"/);
  t.match(dbus[1], /would reach org\.freedesktop\.login1/);
  t.match(dbus[2], /would reach org\.freedesktop\.systemd1/, 'the planning stopped at the first, said once');
});

t.test('the shipped profiles pass check, and absent paths and sockets do not fail it', async (t) => {
  for (const name of ['default', 'firefox', 'chromium', 'untrusted']) t.same(checkRefusals(name), [], name);
  const file = load(
    t,
    '{\n  filesystem: { ro: ["/no/such/path", "/no/such/*"] },\n  sockets: ["wayland", "x11", "pulseaudio", "pipewire"],\n  dbus: { session: { talk: ["org.freedesktop.Notifications"] } },\n}\n',
  );
  t.same(checkRefusals(file), []);
});
