/**
 * The Debian package, end to end, as CI runs it (root): built with
 * dpkg-buildpackage from a copy of the checkout in a temporary directory
 * (outside the checkout, which other tests are using), checked by lintian,
 * installed, used as the unprivileged test user (doctor, `tsjail curl`
 * against a loopback server, `-p untrusted` on the escape probe, the man
 * pages, the completion), then purged, leaving nothing behind.
 *
 * Installing puts /usr/bin/tsjail on the machine for the duration: every
 * other test runs the checkout's own build by its path (test/helpers), and
 * the package adds no profile to the search path (/etc/tsjail/profiles is
 * empty), so nothing they do changes while it is installed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { asUser, IS_ROOT, makeUserDir, removeDir, REPO, testUser, userEnv } from '../helpers/sandbox.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
const missing = ['dpkg-buildpackage', 'dh', 'lintian', 'man', 'gcc', 'curl'].filter(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
);
const why = !IS_ROOT
  ? 'installing a .deb needs root (CI runs the suite as root)'
  : missing.length > 0
    ? `not installed: ${missing.join(', ')} (.ci/run installs them)`
    : fs.existsSync('/var/lib/dpkg/info/tsjail.list')
      ? 'a tsjail package is already installed on this machine: the test would replace it'
      : false;

// Building and linting take minutes on a loaded machine.
t.setTimeout(1_800_000);

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** dpkg, waiting while another dpkg or apt on the machine holds its lock. */
function dpkg(args: string[]): { status: number | null; out: string } {
  for (let i = 0; ; i++) {
    const r = run('dpkg', args);
    if (r.status === 0 || !/lock/.test(r.out) || i >= 120) return r;
    execFileSync('sleep', ['5']);
  }
}

function asTestUser(argv: string[], env: Record<string, string> = {}) {
  const a = asUser(argv, userEnv({ env }));
  return spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', cwd: testUser().home, timeout: 120_000 });
}

t.test('the .deb: built, lint-clean, installed, used as the test user, purged', { skip: why }, async (t) => {
  const work = fs.mkdtempSync('/var/tmp/tsjail-deb-');
  t.teardown(() => removeDir(work));
  const src = path.join(work, `tsjail-${pkg.version}`);
  fs.mkdirSync(src);
  // The checkout's files (tracked and new, not ignored build output), and its node_modules: the build fetches nothing.
  const files = execFileSync('git', ['-C', REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .toString()
    .split('\0')
    .filter((f) => f !== '' && fs.existsSync(path.join(REPO, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
    fs.cpSync(path.join(REPO, f), path.join(src, f), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(src, 'node_modules'));

  const build = run('dpkg-buildpackage', ['-us', '-uc', '-b'], { cwd: src });
  if (!t.equal(build.status, 0, 'dpkg-buildpackage -us -uc -b')) {
    t.comment(build.out.slice(-4000));
    return;
  }
  const deb = path.join(
    work,
    `tsjail_${pkg.version}_${execFileSync('dpkg', ['--print-architecture']).toString().trim()}.deb`,
  );
  t.ok(fs.existsSync(deb), path.basename(deb));
  t.equal(execFileSync('dpkg-deb', ['-f', deb, 'Version']).toString().trim(), pkg.version, "package.json's version");
  t.match(execFileSync('dpkg-deb', ['-f', deb, 'Depends']).toString(), /^nodejs \(>= 20\)/, 'Node.js 20 or later');

  const lint = run('lintian', ['--fail-on', 'error,warning', deb]);
  t.equal(lint.status, 0, `lintian: ${lint.out.trim() || 'clean'}`);

  const contents = execFileSync('dpkg-deb', ['-c', deb]).toString();
  for (const f of [
    './usr/bin/tsjail ->',
    './usr/libexec/tsjail/tsjail-shim',
    './usr/libexec/tsjail/tsjail-pulse-filter',
    './usr/lib/tsjail/dist/tsjail.cjs',
    './usr/share/tsjail/profiles/default.json5',
    './usr/share/tsjail/profiles/untrusted.json5',
    './etc/tsjail/profiles/',
    './etc/apparmor.d/tsjail',
    './usr/share/man/man1/tsjail.1.gz',
    './usr/share/man/man5/tsjail-profile.5.gz',
    './usr/share/bash-completion/completions/tsjail',
    './usr/share/zsh/vendor-completions/_tsjail',
    './usr/share/fish/vendor_completions.d/tsjail.fish',
  ])
    t.ok(contents.includes(f), `ships ${f}`);
  t.notMatch(contents, /\/etc\/tsjail\/profiles\/./, '/etc/tsjail/profiles is left to the administrator');

  // What of the package's directories is there already (/etc/tsjail with a limits.json5, say) stays after the purge.
  const before = new Set(
    execFileSync('dpkg-deb', ['-c', deb])
      .toString()
      .split('\n')
      .map((l) => /\.(\/\S*)/.exec(l)?.[1]?.replace(/(.)\/$/, '$1'))
      .filter((p): p is string => p !== undefined && fs.existsSync(p)),
  );
  const install = dpkg(['-i', deb]);
  if (!t.equal(install.status, 0, install.status === 0 ? 'dpkg -i' : `dpkg -i: ${install.out.trim()}`)) return;
  const owned = execFileSync('dpkg', ['-L', 'tsjail'])
    .toString()
    .trim()
    .split('\n')
    .filter((p) => p !== '/.');
  let purged = false;
  const purge = () => {
    if (purged) return;
    purged = true;
    const r = dpkg(['--purge', 'tsjail']);
    t.equal(r.status, 0, r.status === 0 ? 'dpkg --purge' : `dpkg --purge: ${r.out.trim()}`);
  };
  t.teardown(purge);

  await t.test('the installed command, as the test user', async (t) => {
    const version = asTestUser(['/usr/bin/tsjail', '--version']);
    t.equal(version.stdout, `${pkg.version}\n`, version.stderr);
    const doctor = asTestUser(['/usr/bin/tsjail', 'doctor']);
    t.equal(doctor.status, 0, doctor.status === 0 ? 'tsjail doctor: exit 0' : doctor.stdout + doctor.stderr);
    t.match(doctor.stdout, /^shim\s+\/usr\/libexec\/tsjail\/tsjail-shim$/m, 'the shim from /usr/libexec');
    t.notMatch(doctor.stdout, /MISSING|REFUSED/);
    const list = asTestUser(['/usr/bin/tsjail', 'profile', 'list']);
    t.match(list.stdout, /^default\s+\/usr\/lib\/tsjail\/profiles\/default\.json5/m, 'profiles from /usr/share/tsjail');
    const trueRun = asTestUser(['/usr/bin/tsjail', '/bin/true']);
    t.equal(trueRun.status, 0, trueRun.stderr);
  });

  const restricted = fs.existsSync('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  await t.test(
    "Ubuntu's restriction: the package loaded the AppArmor profile, and the shim may build a namespace",
    {
      skip: !restricted
        ? 'this kernel has no kernel.apparmor_restrict_unprivileged_userns (no AppArmor userns mediation)'
        : !fs.existsSync('/sys/kernel/security/apparmor/profiles')
          ? 'AppArmor is not enabled here'
          : false,
    },
    async (t) => {
      const loaded = fs.readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8');
      t.match(loaded, /^tsjail-shim \(/m, 'postinst loaded it');
      const probe = asTestUser(['/usr/libexec/tsjail/tsjail-shim', '--probe-userns']);
      t.equal(probe.stdout, 'ok\n', 'the installed shim keeps its capabilities in a new user namespace');
    },
  );

  await t.test('tsjail curl against a loopback server', async (t) => {
    // A server process of its own: the curls below are waited for synchronously.
    const server = spawn(
      process.execPath,
      [
        '-e',
        "const s = require('node:http').createServer((q, r) => r.end('hello from outside\\n')); s.listen(0, '127.0.0.1', () => console.log(s.address().port));",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.teardown(() => {
      server.kill();
    });
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.trim()));
      server.once('exit', () => reject(new Error('the loopback server exited')));
    });
    const url = `http://127.0.0.1:${port}/`;
    // Outside control: the server answers the test user.
    const outside = asTestUser(['curl', '-sS', '--max-time', '20', url]);
    t.equal(outside.stdout, 'hello from outside\n', outside.stderr);
    // The shipped curl profile if the package has one, else the default profile with the host's network.
    const viaProfile = fs.existsSync('/usr/share/tsjail/profiles/curl.json5');
    const inside = asTestUser([
      '/usr/bin/tsjail',
      ...(viaProfile ? [] : ['--net', 'host']),
      'curl',
      '-sS',
      '--max-time',
      '20',
      url,
    ]);
    t.equal(inside.stdout, 'hello from outside\n', inside.stderr);
    // And under a profile without network, loopback is the sandbox's own: nothing listens there.
    const none = asTestUser(['/usr/bin/tsjail', '--net', 'none', 'curl', '-sS', '--max-time', '20', url]);
    t.equal(none.stdout, '');
    t.equal(none.status, 7, `curl: could not connect (${none.stderr.trim()})`);
  });

  await t.test('tsjail -p untrusted on the escape probe', async (t) => {
    const dir = makeUserDir('deb-probe');
    t.teardown(() => removeDir(dir));
    const probe = path.join(dir, 'probe');
    execFileSync('gcc', ['-O2', '-o', probe, path.join(REPO, 'test', 'escape', 'probe.c')]);
    fs.chmodSync(probe, 0o755);
    const attempts = ['userns', 'ptrace=1', 'mount_tmpfs=/tmp'];
    const outside = asTestUser([probe, ...attempts]);
    t.match(outside.stdout, /^userns ok$/m, 'outside control: a user namespace is there for the taking');
    const inside = asTestUser(['/usr/bin/tsjail', '-p', 'untrusted', '--ro', dir, '--', probe, ...attempts]);
    t.equal(inside.status, 0, inside.stderr);
    t.match(inside.stdout, /^userns errno=1$/m);
    t.match(inside.stdout, /^ptrace errno=1$/m);
    t.match(inside.stdout, /^mount_tmpfs errno=1$/m);
  });

  await t.test('man tsjail and man tsjail-profile render; the bash completion completes profiles', async (t) => {
    for (const page of ['tsjail', 'tsjail-profile']) {
      const r = asTestUser(['man', '-P', 'cat', page], { MANWIDTH: '80' });
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, new RegExp(`^${page.toUpperCase()}\\(\\d\\)`, 'm'), `man ${page}`);
      t.match(r.stdout, /^NAME$/m);
    }
    const bash = asTestUser([
      'bash',
      '-c',
      'source /usr/share/bash-completion/completions/tsjail; COMP_WORDS=(tsjail -p untrusted-g); COMP_CWORD=2; _tsjail; echo "${COMPREPLY[@]}"',
    ]);
    t.equal(bash.stdout, 'untrusted-gui\n', bash.stderr);
  });

  purge();
  t.equal(spawnSync('dpkg-query', ['-W', 'tsjail']).status, 1, 'dpkg knows no tsjail package');
  const left = owned.filter((p) => fs.existsSync(p) && !before.has(p));
  t.same(left, [], 'every file and directory the package brought is gone, /etc included');
  const cached = [
    '/etc/apparmor.d/cache',
    ...(fs.existsSync('/var/cache/apparmor')
      ? fs.readdirSync('/var/cache/apparmor').map((d) => `/var/cache/apparmor/${d}`)
      : []),
  ]
    .map((d) => path.join(d, 'tsjail'))
    .filter((f) => fs.existsSync(f));
  t.same(cached, [], 'no compiled AppArmor profile is left in a cache');
});
