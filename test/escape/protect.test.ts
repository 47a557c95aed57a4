// Escape suite, filesystem.protect: a sandbox with a writable project
// directory plants what a program outside runs later. A git hook that runs
// at the next `git commit`, a core.fsmonitor command that runs at the next
// `git status`, a commondir that moves git's config elsewhere, appended
// lines in .envrc and .bashrc, and the same again after renaming the
// repository (or the project) out of the way and putting a new one in its
// place. Each is tried under every shipped profile with a writable
// directory (default and untrusted with --rw ~/work, firefox and chromium
// with ~/Downloads), then git is run outside as the same user: nothing of
// the sandbox's may run. The control runs the same script outside tsjail
// and shows that the hook and the fsmonitor command then do run.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asUser, makeUserDir, mkUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';

const haveGit = spawnSync('git', ['--version']).status === 0;

/** Run argv as the test user outside any sandbox. */
function outside(argv: string[], cwd: string, home: string): { status: number | null; out: string } {
  const a = asUser(argv, userEnv({ home }));
  const r = spawnSync(a[0]!, a.slice(1), { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const GIT_ID = ['-c', 'user.name=t', '-c', 'user.email=t@example.org'];

/** A project: a git repository with one commit, an .envrc and a .bashrc. */
function makeProject(dir: string, home: string): void {
  mkUserDir(dir);
  for (const args of [
    ['init', '-q'],
    [...GIT_ID, 'commit', '-q', '--allow-empty', '-m', 'start'],
  ]) {
    const r = outside(['git', ...args], dir, home);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.out}`);
  }
  writeUserFile(path.join(dir, '.envrc'), 'export PROJECT=1\n');
  writeUserFile(path.join(dir, '.bashrc'), '# the project shell\n');
}

/**
 * What the program inside tries, in W; each step prints "NAME ok" or
 * "NAME refused". MARK is where the planted commands would leave a file
 * when they run outside.
 */
function attack(mark: string): string {
  const hook = `#!/bin/sh\ntouch ${mark}/hook\n`;
  return [
    'try() { name=$1; shift; if ( "$@" ) 2>/dev/null; then echo "$name ok"; else echo "$name refused"; fi; }',
    `plant_hook() { printf '%s' '${hook}' > "$1/hooks/pre-commit" && chmod +x "$1/hooks/pre-commit"; }`,
    'try hook plant_hook .git',
    // git runs core.fsmonitor through the shell at every git status.
    `try config sh -c "printf '[core]\\n\\tfsmonitor = touch ${mark}/fsmonitor\\n' >> .git/config"`,
    // A commondir moves config and hooks to a directory of the program's
    // choosing; removed again at once, so that the control's repository
    // keeps working for the steps after it.
    'try commondir sh -c \'mkdir -p ../evil && echo "$PWD/../evil" > .git/commondir && rm .git/commondir\'',
    "try envrc sh -c 'echo evil >> .envrc'",
    "try bashrc sh -c 'echo evil >> .bashrc'",
    "try bashrc-replace sh -c 'echo evil > x && mv x .bashrc'",
    // The repository moved out of the way, a copy with a hook in its place.
    'try rename-git sh -c \'mv .git .git-old && cp -r .git-old .git && printf "%s" "$0" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit\' ' +
      `'${hook}'`,
  ].join('\n');
}

/** The same one directory up: the project itself renamed and replaced (needs its parent writable). */
function attackParent(mark: string, name: string): string {
  const hook = `#!/bin/sh\ntouch ${mark}/hook\n`;
  return [
    `cd .. && if mv ${name} ${name}-old 2>/dev/null && cp -r ${name}-old ${name} && printf '%s' '${hook}' > ${name}/.git/hooks/pre-commit && chmod +x ${name}/.git/hooks/pre-commit; then echo "rename-project ok"; else echo "rename-project refused"; fi`,
  ].join('\n');
}

function results(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const m = /^([a-z-]+) (ok|refused)$/.exec(line);
    if (m) r[m[1]!] = m[2]!;
  }
  return r;
}

/** After the attack: run git outside as the user would; what ran? */
function aftermath(project: string, home: string, mark: string): { hook: boolean; fsmonitor: boolean } {
  outside(['git', 'status', '--short'], project, home);
  outside(['git', ...GIT_ID, 'commit', '-q', '--allow-empty', '-m', 'after'], project, home);
  return { hook: fs.existsSync(path.join(mark, 'hook')), fsmonitor: fs.existsSync(path.join(mark, 'fsmonitor')) };
}

interface Setup {
  /** The sandbox's arguments before the program. */
  args: string[];
  home: string;
  /** The writable directory holding the project. */
  project: string;
  mark: string;
}

function setUp(kind: 'work' | 'downloads'): Setup {
  const home = makeUserDir('protect');
  const mark = path.join(home, 'marks');
  mkUserDir(mark);
  writeUserFile(path.join(home, '.gitconfig'), '[safe]\n\tdirectory = *\n');
  if (kind === 'work') {
    const project = path.join(home, 'work');
    makeProject(project, home);
    return { args: ['--rw', project], home, project, mark };
  }
  // The browsers' writable Downloads folder, holding a repository.
  mkUserDir(path.join(home, '.mozilla'));
  mkUserDir(path.join(home, '.config', 'chromium'));
  mkUserDir(path.join(home, '.cache'));
  const project = path.join(home, 'Downloads');
  makeProject(project, home);
  return { args: [], home, project, mark };
}

const EXPECT_REFUSED = ['hook', 'config', 'commondir', 'envrc', 'bashrc', 'bashrc-replace', 'rename-git'];

t.test(
  'control: outside tsjail, the planted hook runs at git commit and fsmonitor at git status',
  { skip: haveGit ? false : 'git is not installed' },
  async (t) => {
    const s = setUp('work');
    t.teardown(() => removeDir(s.home));
    const r = outside(['/bin/sh', '-c', attack(s.mark)], s.project, s.home);
    const got = results(r.out);
    for (const step of EXPECT_REFUSED) t.equal(got[step], 'ok', `${step} works outside`);
    // rename-git left a copy with a hook at .git: the commit runs it.
    const after = aftermath(s.project, s.home, s.mark);
    t.ok(after.hook, 'the hook ran outside at git commit');
    t.ok(after.fsmonitor, 'the fsmonitor command ran outside at git status');
    t.match(fs.readFileSync(path.join(s.project, '.bashrc'), 'utf8'), /evil/);
    // The project renamed and replaced, outside.
    const s3 = setUp('work');
    t.teardown(() => removeDir(s3.home));
    t.equal(
      results(outside(['/bin/sh', '-c', attackParent(s3.mark, 'work')], s3.project, s3.home).out)['rename-project'],
      'ok',
    );
    t.ok(aftermath(s3.project, s3.home, s3.mark).hook, 'the replaced project ran the hook at git commit');
  },
);

const PROFILES: [string, string[], 'work' | 'downloads'][] = [
  ['default --rw ~/work', [], 'work'],
  ['untrusted --rw ~/work', ['-p', 'untrusted'], 'work'],
  ['firefox (~/Downloads)', ['-p', 'firefox'], 'downloads'],
  ['chromium (~/Downloads)', ['-p', 'chromium'], 'downloads'],
];

for (const [name, profileArgs, kind] of PROFILES) {
  t.test(
    `${name}: nothing planted in the writable directory runs outside`,
    { skip: haveGit ? false : 'git is not installed' },
    async (t) => {
      const s = setUp(kind);
      t.teardown(() => removeDir(s.home));
      const before = fs.readFileSync(path.join(s.project, '.git', 'config'), 'utf8');
      const r = tsjail([...profileArgs, ...s.args, '--', '/bin/sh', '-c', attack(s.mark)], {
        home: s.home,
        cwd: s.project,
        timeout: 120_000,
      });
      t.equal(r.status, 0, r.stderr);
      const got = results(r.stdout);
      for (const step of EXPECT_REFUSED) t.equal(got[step], 'refused', `${step} refused inside`);
      const after = aftermath(s.project, s.home, s.mark);
      t.notOk(after.hook, 'no hook of the sandbox ran at git commit');
      t.notOk(after.fsmonitor, 'no fsmonitor of the sandbox ran at git status');
      t.equal(fs.readFileSync(path.join(s.project, '.git', 'config'), 'utf8'), before, '.git/config unchanged');
      t.equal(fs.readFileSync(path.join(s.project, '.bashrc'), 'utf8'), '# the project shell\n');
      t.equal(fs.readFileSync(path.join(s.project, '.envrc'), 'utf8'), 'export PROJECT=1\n');
      t.notOk(fs.existsSync(path.join(s.project, '.git', 'commondir')));
      t.notOk(fs.existsSync(path.join(s.project, '.git-old')));
      // The rest of the directory stays the program's to change.
      const w = tsjail(
        [...profileArgs, ...s.args, '--', '/bin/sh', '-c', 'echo made > new-file && mkdir -p src && echo x > src/a.c'],
        {
          home: s.home,
          cwd: s.project,
        },
      );
      t.equal(w.status, 0, w.stderr);
      t.equal(fs.readFileSync(path.join(s.project, 'new-file'), 'utf8'), 'made\n');
    },
  );
}

t.test(
  'default --rw ~ --rw ~/work: the project cannot be renamed away and replaced',
  { skip: haveGit ? false : 'git is not installed' },
  async (t) => {
    const s = setUp('work');
    t.teardown(() => removeDir(s.home));
    const r = tsjail(['--rw', s.home, '--rw', s.project, '--', '/bin/sh', '-c', attackParent(s.mark, 'work')], {
      home: s.home,
      cwd: s.project,
    });
    t.equal(r.status, 0, r.stderr);
    t.equal(results(r.stdout)['rename-project'], 'refused');
    t.notOk(aftermath(s.project, s.home, s.mark).hook, 'no hook of the sandbox ran at git commit');
    t.notOk(fs.existsSync(path.join(s.home, 'work-old')));
  },
);

t.test(
  'firefox and chromium: a nested user namespace cannot unmount or bypass the protection',
  { skip: haveGit ? false : 'git is not installed' },
  async (t) => {
    for (const profile of ['firefox', 'chromium']) {
      const s = setUp('downloads');
      t.teardown(() => removeDir(s.home));
      const script = [
        "unshare -Urm --propagation unchanged sh -c 'umount -l .git 2>/dev/null && echo umount ok || echo umount refused;",
        ' mkdir -p /tmp/m && mount --bind . /tmp/m 2>/dev/null && echo bind ok || echo bind refused;',
        " echo x > /tmp/m/.git/hooks/pre-commit 2>/dev/null && echo write ok || echo write refused'",
      ].join('');
      const r = tsjail(['-p', profile, '--', '/bin/sh', '-c', script], {
        home: s.home,
        cwd: s.project,
        timeout: 120_000,
      });
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, /umount refused/, `${profile}: the read-only mount is locked`);
      t.match(r.stdout, /bind refused/, `${profile}: no copy without what is mounted inside`);
      t.match(r.stdout, /write refused/, profile);
      t.notOk(fs.existsSync(path.join(s.project, '.git', 'hooks', 'pre-commit')));
    }
  },
);

t.test(
  'unprotect is said on stderr, and the path is then writable',
  { skip: haveGit ? false : 'git is not installed' },
  async (t) => {
    const s = setUp('work');
    t.teardown(() => removeDir(s.home));
    const prof = path.join(s.home, 'envrc-ok.json5');
    writeUserFile(prof, '{ filesystem: { unprotect: [".envrc"] } }\n');
    const r = tsjail(
      [
        '-p',
        prof,
        '--rw',
        s.project,
        '--',
        '/bin/sh',
        '-c',
        'echo changed >> .envrc && echo x > .git/hooks/y || echo hooks refused',
      ],
      {
        home: s.home,
        cwd: s.project,
      },
    );
    t.equal(r.status, 0, r.stderr);
    t.match(
      r.stderr,
      /filesystem\.unprotect: not kept read-only inside writable directories: \.envrc \(.*envrc-ok\.json5:1\)/,
    );
    t.equal(r.stderr.match(/unprotect/g)?.length, 1, 'said once');
    t.match(r.stdout, /hooks refused/);
    t.match(fs.readFileSync(path.join(s.project, '.envrc'), 'utf8'), /changed/);
  },
);

t.test(
  'core.hooksPath in the work tree (husky): its hooks cannot be changed inside; outside they run at commit',
  { skip: haveGit ? false : 'git is not installed' },
  async (t) => {
    for (const where of ['outside', 'inside'] as const) {
      const s = setUp('work');
      t.teardown(() => removeDir(s.home));
      outside(['git', 'config', 'core.hooksPath', '.husky'], s.project, s.home);
      mkUserDir(path.join(s.project, '.husky'));
      const script = `printf '#!/bin/sh\\ntouch ${s.mark}/hook\\n' > .husky/pre-commit && chmod +x .husky/pre-commit && echo husky ok || echo husky refused`;
      const said =
        where === 'outside'
          ? outside(['/bin/sh', '-c', script], s.project, s.home).out
          : tsjail([...s.args, '--', '/bin/sh', '-c', script], { home: s.home, cwd: s.project }).stdout;
      const after = aftermath(s.project, s.home, s.mark);
      if (where === 'outside') {
        t.match(said, /husky ok/, 'control: written outside');
        t.ok(after.hook, 'control: the hook ran at git commit');
      } else {
        t.match(said, /husky refused/);
        t.notOk(after.hook, 'no hook of the sandbox ran at git commit');
      }
    }
  },
);
