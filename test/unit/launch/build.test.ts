// Launch planning reads only the Policy: the profile's hostname, limits,
// Landlock settings and syscall rules reach the plan through it, and the
// command line's --log-denials is folded in there too.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadProfile } from '../../../src/profile/index.js';
import { buildPolicy, type CliOverrides } from '../../../src/policy/build.js';
import { buildLaunchPlan } from '../../../src/launch/build.js';
import { RESTRICT } from '../../../src/landlock/abi.js';
import { TsjailError } from '../../../src/errors.js';
import { SHIPPED, vars } from '../profile/helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-launch-build-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'app.json5');
fs.writeFileSync(
  file,
  `{
  hostname: "box",
  limits: { nofile: 100 },
  landlock: "required",
  syscalls: { allow: ["@default"], deny: ["ptrace"], action: "kill" },
}
`,
);
const profile = loadProfile(file, { vars: vars(), searchPath: [dir, SHIPPED] });
const cli = (over: Partial<CliOverrides> = {}): CliOverrides => ({
  ro: [],
  rw: [],
  tmpfs: [],
  deny: [],
  env: [],
  ...over,
});
const caller = { env: { PATH: '/usr/bin' }, cwd: '/', home: '/home/alice', uid: 1000 };
const ctx = { uid: 1000, gid: 1000, verbose: false, landlockAbi: 7 };

t.test('the policy holds what launch planning needs, and no profile', async (t) => {
  const policy = buildPolicy(profile, 'prog', ['a'], cli({ logDenials: true }), caller);
  t.notOk('profile' in policy, 'Policy.profile is gone');
  t.equal(policy.hostname, 'box');
  t.same({ ...policy.limits }, { core: 0, nofile: 100 }, "the profile's limits over base's");
  t.same(policy.landlock, { mode: 'required', logDenials: true }, '--log-denials folded into the policy');
  t.equal(policy.seccomp.syscalls.action, 'kill');
  t.same(
    policy.seccomp.syscalls.deny.map((e) => [e.value, e.source.file]),
    [['ptrace', file]],
    'syscall entries keep where they were written',
  );
  t.equal(
    buildPolicy(profile, 'prog', [], cli(), caller).landlock.logDenials,
    false,
    'without --log-denials the profile decides',
  );
});

t.test('the plan comes from the policy', async (t) => {
  const built = buildLaunchPlan(buildPolicy(profile, 'prog', ['a'], cli({ logDenials: true }), caller), ctx);
  t.equal(built.plan.hostname, 'box');
  t.same(
    built.plan.rlimits.map((r) => [r.name, r.soft]),
    [
      ['core', 0n],
      ['nofile', 100n],
    ],
  );
  t.equal((built.plan.landlock?.flags ?? 0) & RESTRICT.LOG_NEW_EXEC_ON, RESTRICT.LOG_NEW_EXEC_ON, 'denials logged');
  t.match(built.notes.join('\n'), /refused calls kill the program/);
  t.same(built.plan.argv, ['prog', 'a']);
  t.throws(
    () =>
      buildLaunchPlan(buildPolicy(profile, 'prog', [], cli(), caller), {
        ...ctx,
        landlockAbi: 0,
        landlockUnavailable: 'disabled',
      }),
    TsjailError,
    'landlock "required" reaches the Landlock stage through the policy',
  );
});

t.test('an invalid syscall entry is reported at its FILE:LINE', async (t) => {
  const bad = path.join(dir, 'bad.json5');
  fs.writeFileSync(bad, '{\n  syscalls: {\n    allow: ["@default", "no_such_call"],\n  },\n}\n');
  const p = loadProfile(bad, { vars: vars(), searchPath: [dir, SHIPPED] });
  t.throws(
    () => buildLaunchPlan(buildPolicy(p, 'prog', [], cli(), caller), ctx),
    new RegExp(`^${bad}:3: syscalls.allow: `),
  );
});
