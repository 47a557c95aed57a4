/**
 * The user-namespace decision (src/sys/userns.ts): definite knobs refuse
 * without trying; AppArmor's restriction makes tsjail ask the shim first and
 * refuse only when the shim is refused, naming the fix for that shim. The
 * probe itself runs for real at the end, as the test user.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import {
  apparmorProfileFor,
  checkUserns,
  decideUserns,
  probeShim,
  profileAttachedTo,
  readKnobs,
  type ProbeResult,
} from '../../../src/sys/userns.js';
import { asUser, REPO, tsjail, tsjailRoot, userEnv } from '../../helpers/sandbox.js';

const OWN_SHIM = '/opt/tsjail/shim-c/tsjail-shim';
const INSTALLED_SHIM = '/usr/libexec/tsjail/tsjail-shim';

/** A decision with a recorded probe: what it answered, and every shim it was asked about. */
function decide(
  knobs: Parameters<typeof decideUserns>[0],
  opts: { root?: boolean; shim?: string; answer?: ProbeResult; profileCovers?: boolean } = {},
) {
  const asked: string[] = [];
  const verdict = decideUserns(knobs, {
    root: opts.root ?? false,
    shim: 'shim' in opts ? opts.shim : OWN_SHIM,
    probe: (shim) => {
      asked.push(shim);
      return opts.answer ?? { ok: true };
    },
    profileCovers: opts.profileCovers ?? false,
  });
  return { verdict, asked };
}

t.test('no knob set: allowed, and the shim is not probed (no start-up cost)', async (t) => {
  const { verdict, asked } = decide({});
  t.same(verdict, { ok: true });
  t.same(asked, []);
  t.same(decide({ unprivilegedClone: 1, apparmorRestrict: 0, maxUserNamespaces: 15000 }).asked, []);
});

t.test('the definite knobs refuse without trying, naming the sysctl', async (t) => {
  const debian = decide({ unprivilegedClone: 0, apparmorRestrict: 1 });
  t.equal(debian.verdict.ok, false);
  t.match(debian.verdict.message, /kernel\.unprivileged_userns_clone = 0/);
  t.match(debian.verdict.hint, /sysctl -w kernel\.unprivileged_userns_clone=1/);
  t.same(debian.asked, []);
  t.equal(decide({ unprivilegedClone: 0 }, { root: true }).verdict.ok, true, 'root is not subject to it');
  const max = decide({ maxUserNamespaces: 0 }, { root: true });
  t.equal(max.verdict.ok, false, 'max_user_namespaces = 0 binds root too');
  t.match(max.verdict.message, /user\.max_user_namespaces = 0/);
});

t.test('AppArmor restriction on: tsjail tries first, and a granted shim runs', async (t) => {
  const { verdict, asked } = decide({ apparmorRestrict: 1 }, { answer: { ok: true } });
  t.same(verdict, { ok: true }, 'the sysctl alone is no reason to refuse');
  t.same(asked, [OWN_SHIM], 'the shim that will run is the one asked');
  t.same(decide({ apparmorRestrict: 1 }, { root: true }).asked, [], 'root is not restricted: no probe');
  t.same(decide({ apparmorRestrict: 1 }, { shim: undefined }).verdict, { ok: true }, 'no shim: findShim reports it');
});

t.test('AppArmor restriction on and the shim refused: the exact fix for that shim', async (t) => {
  const installed = decide(
    { apparmorRestrict: 1 },
    { shim: INSTALLED_SHIM, profileCovers: true, answer: { ok: false, step: 'mount', errno: 'EPERM' } },
  );
  t.equal(installed.verdict.ok, false);
  t.match(installed.verdict.message, /apparmor_restrict_unprivileged_userns = 1/);
  t.match(installed.verdict.message, /\/usr\/libexec\/tsjail\/tsjail-shim is not allowed one: .*mount: EPERM/);
  t.match(
    installed.verdict.hint,
    /^load tsjail's AppArmor profile: sudo apparmor_parser -r \/etc\/apparmor\.d\/tsjail;/,
  );

  const notLoaded = decide(
    { apparmorRestrict: 1 },
    { shim: INSTALLED_SHIM, profileCovers: false, answer: { ok: false, step: 'clone', errno: 'EACCES' } },
  );
  t.match(notLoaded.verdict.message, /creating one failed with EACCES/);
  t.match(notLoaded.verdict.hint, /write 'abi <abi\/4\.0>.*profile tsjail-shim \/usr\/libexec\/tsjail\/tsjail-shim /);

  const own = decide({ apparmorRestrict: 1 }, { answer: { ok: false, step: 'mount', errno: 'EPERM' } });
  t.match(own.verdict.hint, `write '${apparmorProfileFor(OWN_SHIM)}' to /etc/apparmor.d/tsjail-shim`);
  t.match(own.verdict.hint, /sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0$/);
  t.notMatch(own.verdict.hint, /\/etc\/apparmor\.d\/tsjail;/, 'the shipped profile does not cover a shim elsewhere');
});

t.test('the knobs are read from /proc/sys (a fake tree)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-knobs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'kernel'));
  fs.mkdirSync(path.join(dir, 'user'));
  fs.writeFileSync(path.join(dir, 'kernel', 'apparmor_restrict_unprivileged_userns'), '1\n');
  fs.writeFileSync(path.join(dir, 'user', 'max_user_namespaces'), '15000\n');
  t.same(readKnobs(dir), { unprivilegedClone: undefined, apparmorRestrict: 1, maxUserNamespaces: 15000 });
  if (process.getuid!() !== 0) {
    // The real probe decides: a shim that is not there cannot be granted anything.
    const v = checkUserns('/nonexistent/tsjail-shim', dir);
    t.equal(v.ok, false);
    t.match(v.message, /the probe could not run \(ENOENT\)/);
  }
});

t.test('the probe, for real: the built shim as the test user, and a shim that is missing', async (t) => {
  const shim = path.join(tsjailRoot(), 'shim-c', 'tsjail-shim');
  t.ok(fs.existsSync(path.join(REPO, 'shim-c', 'tsjail-shim')), 'the shim is built');
  const argv = asUser([shim, '--probe-userns'], userEnv({}));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (readKnobs().unprivilegedClone === 0 || readKnobs().apparmorRestrict === 1) {
    t.comment(`this machine restricts user namespaces; the probe said: ${r.stdout.trim()}`);
  } else {
    t.equal(r.stdout, 'ok\n', r.stderr);
    t.equal(r.status, 0);
  }
  t.same(probeShim('/nonexistent/tsjail-shim'), { ok: false, step: 'run', errno: 'ENOENT' });
});

t.test('the probe refused, for real: inside a sandbox, whose seccomp filter refuses new user namespaces', async (t) => {
  const shim = path.join(tsjailRoot(), 'shim-c', 'tsjail-shim');
  // Outside control: the same probe outside is the previous test's "ok".
  const r = tsjail(['--ro', shim, '--', shim, '--probe-userns']);
  t.equal(r.stdout, 'clone EPERM\n', r.stderr);
  t.equal(r.status, 1, 'exit 1: the clone was refused');
});

t.test('the shipped AppArmor profile: attached to the installed shim alone, granting userns', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-apparmor-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tsjail');
  const template = fs.readFileSync(path.join(REPO, 'packaging', 'apparmor.d', 'tsjail'), 'utf8');
  fs.writeFileSync(file, template.replaceAll('@SHIM@', INSTALLED_SHIM));
  t.ok(profileAttachedTo(file, INSTALLED_SHIM));
  t.notOk(profileAttachedTo(file, OWN_SHIM), 'a shim elsewhere is not covered');
  t.notOk(profileAttachedTo(file, '/usr/libexec/tsjail/tsjail'), 'a path that is only a prefix is not covered');
  t.notOk(profileAttachedTo(path.join(dir, 'missing'), INSTALLED_SHIM));
  const body = template.replace(/#.*$/gm, '');
  t.match(body, /^\s*userns,$/m);
  t.equal(body.match(/^\s*profile /gm)?.length, 1, 'one profile');
  t.match(body, /flags=\(unconfined\)/, 'it confines nothing else');
});

/** apparmor_parser on the shipped profile, or why it cannot judge it here. */
function parseProfile(): { status: number | null; stderr: string } | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-apparmor-'));
  try {
    const file = path.join(dir, 'tsjail');
    const template = fs.readFileSync(path.join(REPO, 'packaging', 'apparmor.d', 'tsjail'), 'utf8');
    fs.writeFileSync(file, template.replaceAll('@SHIM@', INSTALLED_SHIM));
    const r = spawnSync('apparmor_parser', ['--skip-kernel-load', '--skip-cache', '-Q', file], { encoding: 'utf8' });
    if (r.error) return 'apparmor_parser is not installed';
    if (/Could not open 'abi\/4\.0'/.test(r.stderr))
      return `this AppArmor (${parserVersion()}) predates userns rules (abi/4.0)`;
    return { status: r.status, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function parserVersion(): string {
  return spawnSync('apparmor_parser', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?';
}

const parsed = parseProfile();
t.test(
  'apparmor_parser accepts the shipped profile',
  { skip: typeof parsed === 'string' ? parsed : false },
  async (t) => {
    if (typeof parsed !== 'string') t.equal(parsed.status, 0, parsed.stderr);
  },
);
