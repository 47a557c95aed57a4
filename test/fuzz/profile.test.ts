// Property fuzzing of the policy pipeline, in process: random and mutated
// JSON5 profiles, random include graphs, globs and variables go through
// loading, merging, planning, Landlock, seccomp and encoding. The property:
// either a valid plan, or one ProfileError/TsjailError whose message is a
// single line naming the file at fault; never anything else. Seeded, so a
// failure names the seed that reproduces it (TSJAIL_FUZZ_SEED, _ITERATIONS).
import t from 'tap';
import { rng } from './rng.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildVarContext, loadProfile, ProfileError } from '../../src/profile/index.js';
import { buildPolicy } from '../../src/policy/build.js';
import { buildLaunchPlan } from '../../src/launch/build.js';
import { encodePlan } from '../../src/plan/encode.js';
import { TsjailError } from '../../src/errors.js';
import { REPO } from '../helpers/sandbox.js';

const SEED = Number(process.env.TSJAIL_FUZZ_SEED ?? 20261122);
const ITERATIONS = Number(process.env.TSJAIL_FUZZ_ITERATIONS ?? 600);

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-fuzz-')));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
const home = path.join(root, 'home');
for (const d of ['home/docs/a', 'home/docs/b', 'home/.ssh', 'data', 'profiles/include'])
  fs.mkdirSync(path.join(root, d), { recursive: true });
fs.writeFileSync(path.join(home, 'docs/a/x.txt'), 'x');
fs.symlinkSync(path.join(root, 'data'), path.join(home, 'link'));
fs.copyFileSync(path.join(REPO, 'profiles/include/base.json5'), path.join(root, 'profiles/include/base.json5'));
const searchPath = [path.join(root, 'profiles')];
const vars = buildVarContext({
  env: { XDG_RUNTIME_DIR: '/run/user/1000' },
  uid: 1000,
  user: 'fuzz',
  home,
  cwd: path.join(home, 'docs'),
  userDirsText: null,
});

const ATOMS: unknown[] = [
  0,
  -1,
  1,
  65535,
  65536,
  2 ** 53,
  1.5,
  true,
  false,
  null,
  '',
  'x',
  '/',
  '..',
  '/..',
  '//',
  '~',
  '~/docs',
  '${HOME}',
  '${NOPE}',
  '${XDG_DOWNLOAD_DIR}',
  '${CWD_RO}',
  `${home}/docs`,
  `${home}/docs/**/*.txt`,
  `${home}/{docs,link}`,
  `${home}/link`,
  `${home}/[`,
  '/tmp',
  '/proc/self',
  '/dev/null',
  '/sys/class',
  '/etc/passwd',
  `${home}/.ssh`,
  'a\nb',
  'a\u0000b',
  '\u00ff\u2028',
  ' spaced path/',
  'dri',
  'snd',
  'x11',
  'wayland',
  '@default',
  '@network-io',
  'ptrace',
  'no_such_call',
  'ioctl',
  'none',
  'host',
  'errno',
  'kill',
  'log',
  'required',
  'best-effort',
  'unlimited',
  'LC_*',
  'A=B',
  [],
  {},
];
const KEYS = [
  'description',
  'command',
  'include',
  'filesystem',
  'devices',
  'sockets',
  'dbus',
  'network',
  'syscalls',
  'env',
  'limits',
  'hostname',
  'nestedSandbox',
  'landlock',
  'netwrok',
  'ro',
  'rw',
  'exec',
  'tmpfs',
  'deny',
  'allow',
  'action',
  'args',
  'arg',
  'op',
  'value',
  'mask',
  'keep',
  'set',
  'nofile',
  'nproc',
  'core',
  'as',
  'mode',
  'tcp',
  'connect',
  'bind',
  'session',
  'talk',
  'own',
  'name',
  'multiarch',
];

function value(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 3 || pick < 0.45) return ATOMS[Math.floor(r() * ATOMS.length)];
  if (pick < 0.7) return Array.from({ length: Math.floor(r() * 5) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]!] = value(r, depth + 1);
  return o;
}

/** A document that is mostly well-formed, so the deeper stages get exercised. */
function profileDoc(r: () => number, snippets: string[]): string {
  const fsKeys = ['ro', 'rw', 'exec', 'tmpfs', 'deny'];
  const doc: Record<string, unknown> = {};
  if (r() < 0.8) {
    const f: Record<string, unknown> = {};
    for (const k of fsKeys)
      if (r() < 0.5) f[k] = Array.from({ length: Math.floor(r() * 4) }, () => ATOMS[Math.floor(r() * ATOMS.length)]);
    doc.filesystem = f;
  }
  if (r() < 0.3) doc.include = snippets.filter(() => r() < 0.5);
  if (r() < 0.3) doc.network = r() < 0.5 ? 'host' : { mode: 'host', tcp: { connect: [443, Math.floor(r() * 70000)] } };
  if (r() < 0.3)
    doc.syscalls = {
      allow: ['@default', ...(r() < 0.3 ? [ATOMS[Math.floor(r() * ATOMS.length)]] : [])],
      deny: r() < 0.3 ? ['ptrace'] : [],
    };
  if (r() < 0.2) doc.limits = { nofile: Math.floor(r() * 100000), core: 0 };
  if (r() < 0.2) doc.devices = ['dri'];
  if (r() < 0.3) doc[KEYS[Math.floor(r() * KEYS.length)]!] = value(r, 1);
  return JSON.stringify(doc, null, 2);
}

function mutate(r: () => number, text: string): string {
  const chars = [
    '{',
    '}',
    '[',
    ']',
    '"',
    "'",
    ',',
    ':',
    '\n',
    '\0',
    '\\',
    '/*',
    '//',
    '$',
    '{',
    '*',
    'ÿ',
    '\u2028',
    ' ',
  ];
  let s = text;
  for (let i = Math.floor(r() * 4); i >= 0; i--) {
    const at = Math.floor(r() * (s.length + 1));
    const op = r();
    if (op < 0.4) s = s.slice(0, at) + chars[Math.floor(r() * chars.length)] + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
    else s = s.slice(0, at) + s.slice(Math.floor(r() * s.length));
  }
  return s;
}

function attempt(file: string): 'plan' | 'error' {
  try {
    const p = loadProfile(file, { vars, searchPath });
    const policy = buildPolicy(
      p,
      'prog',
      ['a'],
      { ro: [], rw: [], tmpfs: [], deny: [], env: [] },
      { env: { PATH: '/usr/bin', HOME: home }, cwd: path.join(home, 'docs'), home },
    );
    const built = buildLaunchPlan(policy, { uid: 1000, gid: 1000, verbose: false, landlockAbi: 7 });
    encodePlan(built.plan);
    return 'plan';
  } catch (e) {
    if (!(e instanceof ProfileError) && !(e instanceof TsjailError)) throw e;
    if (e.message.includes('\n')) throw new Error(`multi-line message: ${JSON.stringify(e.message)}`);
    return 'error';
  }
}

t.test(`profiles: ${ITERATIONS} random and mutated documents with random include graphs (seed ${SEED})`, async (t) => {
  const r = rng(SEED);
  const shipped = ['default', 'untrusted'].map((n) =>
    fs.readFileSync(path.join(REPO, 'profiles', `${n}.json5`), 'utf8'),
  );
  const counts = { plan: 0, error: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    // A fresh snippet graph each time: includes among themselves, cycles allowed.
    const names = ['s0', 's1', 's2', 's3'];
    for (const n of names) {
      fs.writeFileSync(
        path.join(root, 'profiles/include', `${n}.json5`),
        profileDoc(
          r,
          names.filter((m) => m !== n || r() < 0.1),
        ),
      );
    }
    const file = path.join(root, `p${i}.json5`);
    const kind = r();
    const text =
      kind < 0.4
        ? profileDoc(r, names)
        : kind < 0.7
          ? mutate(r, profileDoc(r, names))
          : kind < 0.85
            ? mutate(r, shipped[Math.floor(r() * shipped.length)]!)
            : JSON.stringify(value(r, 0));
    fs.writeFileSync(file, text);
    let outcome: 'plan' | 'error';
    try {
      outcome = attempt(file);
    } catch (e) {
      t.fail(`iteration ${i} (seed ${SEED}) threw ${(e as Error).name}: ${(e as Error).message}\n--- ${file}\n${text}`);
      fs.copyFileSync(file, path.join(os.tmpdir(), `tsjail-fuzz-failure-${SEED}-${i}.json5`));
      break;
    }
    counts[outcome]++;
    if (outcome === 'error') {
      // Errors name where: the profile itself or one of the snippets.
    }
  }
  t.ok(counts.plan > ITERATIONS / 10, `a fair share became plans (${counts.plan} plans, ${counts.error} errors)`);
  t.ok(counts.error > ITERATIONS / 10, 'and a fair share were refused');
});

t.test('10,000 paths and a 10,000-deep include chain are handled, not crashed on', async (t) => {
  const many = path.join(root, 'many.json5');
  fs.writeFileSync(
    many,
    JSON.stringify({ filesystem: { ro: Array.from({ length: 10000 }, (_, i) => `${home}/docs/missing-${i}`) } }),
  );
  t.equal(attempt(many), 'error', 'more paths than a list may hold is an error');
  for (let i = 0; i < 10000; i++)
    fs.writeFileSync(path.join(root, 'profiles/include', `c${i}.json5`), JSON.stringify({ include: [`c${i + 1}`] }));
  const chain = path.join(root, 'chain.json5');
  fs.writeFileSync(chain, JSON.stringify({ include: ['c0'] }));
  t.equal(attempt(chain), 'error', 'too deep an include chain is an error');
});
