/**
 * Shell completion: what `tsjail __complete` answers (verbs and options from
 * the registered commands, profile names from the search path) and the
 * three scripts of `tsjail completion SHELL` driven in the real shells,
 * each finding `tsjail` on PATH as the checkout's own build.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { asUser, REPO, testUser, tsjailArgv, userEnv } from '../../helpers/sandbox.js';

// About fifty starts of tsjail, each a Node start-up: minutes on a loaded machine.
t.setTimeout(900_000);

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'profiles');
/** Profiles in two directories: shipped ones shadowed by the user's "app". */
const PROFILE_PATH = `${FIXTURES}/user:${FIXTURES}/shipped`;

/** A directory holding `tsjail`, the checkout's build, to put first on PATH. */
const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-complete-'));
fs.symlinkSync(path.join(REPO, 'bin', 'tsjail.js'), path.join(binDir, 'tsjail'));
t.teardown(() => fs.rmSync(binDir, { recursive: true, force: true }));
const env = {
  ...process.env,
  PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  TSJAIL_PROFILE_PATH: PROFILE_PATH,
};

function candidates(...words: string[]): string[] {
  const r = spawnSync(path.join(binDir, 'tsjail'), ['__complete', ...words], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`__complete ${words.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const PROFILES = ['app', 'editor', 'firefox'];

t.test('first word: the verbs, beside program names; options of run and the global ones', async (t) => {
  const first = candidates('');
  for (const v of ['run', 'profile', 'seccomp', 'doctor', 'completion']) t.ok(first.includes(v), v);
  t.ok(first.includes('@commands'), 'PROGRAM: command names');
  t.notOk(first.includes('__complete'), 'the hidden verb is not offered');
  t.same(candidates('pro'), ['profile', '@commands']);
  const dash = candidates('--');
  for (const o of [
    '--profile',
    '--ro',
    '--rw',
    '--tmpfs',
    '--deny',
    '--net',
    '--env',
    '--dry-run',
    '--help',
    '--version',
  ])
    t.ok(dash.includes(o), o);
});

t.test('profile names from the search path, wherever a profile is taken', async (t) => {
  t.same(candidates('-p', ''), [...PROFILES, '@files'], '-p NAME|PATH');
  t.same(candidates('--profile', 'f'), ['firefox', '@files']);
  t.same(candidates('profile', 'show', ''), PROFILES);
  t.same(candidates('profile', 'explain', 'e'), ['editor']);
  t.same(candidates('profile', 'check', 'app', ''), [...PROFILES, '@files'], 'check takes several');
  t.same(candidates('seccomp', 'compile', '-o', ''), ['@files'], 'the value of -o is a file');
  t.same(candidates('seccomp', 'compile', '-o', 'x.bpf', ''), [...PROFILES, '@files']);
  t.same(candidates('seccomp', 'disasm', ''), ['@files', ...PROFILES]);
});

t.test('verbs, options and values of the rest', async (t) => {
  t.same(candidates('profile', ''), ['list', 'show', 'check', 'explain']);
  t.same(candidates('ps', '-'), ['--json', '--help']);
  t.same(candidates('seccomp', ''), ['compile', 'disasm']);
  t.same(candidates('completion', ''), ['bash', 'zsh', 'fish']);
  t.same(candidates('--net', ''), ['none', 'host']);
  t.same(candidates('--ro', '/u'), ['@files']);
  t.same(candidates('doctor', ''), [], 'doctor takes nothing');
  t.same(candidates('seccomp', 'disasm', '--'), ['--arch', '--help']);
  t.same(candidates('-p', 'firefox', ''), ['@commands'], 'after the options: PROGRAM');
  t.same(candidates('--', ''), ['@commands']);
  t.same(candidates('firefox', '--pr'), ['@files'], "after PROGRAM, the program's own arguments");
  t.same(candidates('run', '-p', 'app', 'ls', ''), ['@files']);
});

t.test('an unknown shell is refused with one line', async (t) => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'tsjail.js'), 'completion', 'tcsh'], {
    encoding: 'utf8',
  });
  t.equal(r.status, 125);
  t.equal(r.stderr, 'tsjail: completion: SHELL must be one of bash, zsh, fish, got "tcsh"\n');
});

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function script(shell: string): string {
  const file = path.join(binDir, `tsjail.${shell}`);
  const r = spawnSync(path.join(binDir, 'tsjail'), ['completion', shell], { encoding: 'utf8', env });
  fs.writeFileSync(file, r.stdout);
  return file;
}

t.test('bash: the script fills COMPREPLY', { skip: which('bash') ? false : 'bash is not installed' }, async (t) => {
  const file = script('bash');
  const run = (line: string): string[] => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _tsjail; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8', env, cwd: binDir },
    );
    t.equal(r.stderr, '');
    return r.stdout.split('\n').filter((l) => l !== '');
  };
  t.same(
    run("tsjail -p ''").sort(),
    [...PROFILES, 'tsjail', 'tsjail.bash'],
    'profiles and the files of the current directory',
  );
  t.same(run('tsjail profile show f'), ['firefox']);
  t.same(run('tsjail profile ex'), ['explain']);
  t.ok(run('tsjail -p app bas').includes('bash'), 'PROGRAM: command names');
});

t.test('fish: complete -C', { skip: which('fish') ? false : 'fish is not installed' }, async (t) => {
  const file = script('fish');
  const run = (line: string): string[] => {
    const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], {
      encoding: 'utf8',
      env,
      cwd: binDir,
    });
    t.equal(r.stderr, '');
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t')[0]!);
  };
  t.same(run('tsjail -p fi'), ['firefox']);
  t.same(run('tsjail profile show '), PROFILES);
  t.same(run('tsjail completion ').sort(), ['bash', 'fish', 'zsh']);
  t.ok(run('tsjail --dry-run bas').includes('bash'), 'PROGRAM: command names');
});

t.test(
  'zsh: the function hands the candidates to compadd',
  { skip: which('zsh') ? false : 'zsh is not installed' },
  async (t) => {
    const file = script('zsh');
    // compadd, _files and _command_names stand for zsh's completion system, which needs a terminal.
    const run = (line: string): string[] => {
      const r = spawnSync(
        'zsh',
        [
          '-f',
          '-c',
          `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print @files; }; _command_names() { print @commands; }
source ${file}; words=(${line}); CURRENT=\${#words}; _tsjail`,
        ],
        { encoding: 'utf8', env },
      );
      t.equal(r.stderr, '');
      return r.stdout.split('\n').filter((l) => l !== '');
    };
    t.same(run("tsjail -p ''"), [...PROFILES, '@files']);
    t.same(run('tsjail profile show e'), ['editor']);
    t.same(run("tsjail ''").slice(-1), ['@commands']);
  },
);

t.test('enter and stop: the IDs and names of the running sandboxes, then a command', async (t) => {
  const name = `complete-${process.pid}`;
  const argv = asUser(tsjailArgv(['--name', name, '--', '/bin/sleep', '120']), userEnv({}));
  const sandbox = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', cwd: testUser().home });
  const asTest = (...words: string[]): string[] => {
    const a = asUser(tsjailArgv(['__complete', ...words]), userEnv({}));
    const r = spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', cwd: testUser().home });
    return r.stdout.split('\n').filter((l) => l !== '');
  };
  t.teardown(() => {
    const a = asUser(tsjailArgv(['stop', name]), userEnv({}));
    spawnSync(a[0]!, a.slice(1), { cwd: testUser().home });
    sandbox.kill('SIGKILL');
  });
  // Wait until its monitor has written its record (or the sandbox has ended).
  let listed: string[] = [];
  for (let i = 0; i < 600 && sandbox.exitCode === null && !listed.includes(name); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    listed = asTest('stop', '');
  }
  t.ok(listed.includes(name), `stop offers the sandbox's name (${listed.join(' ')})`);
  t.equal(listed.filter((w) => /^[0-9a-f]{12}$/.test(w)).length >= 1, true, 'and its ID');
  t.same(asTest('enter', name.slice(0, 9)), [name], 'enter completes a name prefix');
  t.same(asTest('enter', name, ''), ['@commands'], 'then the command to run inside');
});
