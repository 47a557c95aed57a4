import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import {
  findProfileForProgram,
  isProfilePath,
  listProfiles,
  loadProfile,
  searchPath,
  shippedProfilesDir,
} from '../../../src/profile/index.js';
import { FIXTURES, SHIPPED, vars, writeTree } from './helpers.js';

const USER = join(FIXTURES, 'user');
const ETC = join(FIXTURES, 'etc');
const SHIP = join(FIXTURES, 'shipped');
const PATH = [USER, ETC, SHIP, SHIPPED];
const opts = { vars: vars(), searchPath: PATH };

t.test('the default search path: user config, /etc, then the shipped profiles', async (t) => {
  t.same(searchPath({ HOME: '/home/alice' }), ['/home/alice/.config/tsjail/profiles', '/etc/tsjail/profiles', SHIPPED]);
  t.same(searchPath({ HOME: '/home/alice', XDG_CONFIG_HOME: '/cfg' }), [
    '/cfg/tsjail/profiles',
    '/etc/tsjail/profiles',
    SHIPPED,
  ]);
  t.same(
    searchPath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }),
    ['/h/.config/tsjail/profiles', '/etc/tsjail/profiles', SHIPPED],
    'a relative XDG_CONFIG_HOME is ignored, as the XDG spec says',
  );
  t.same(searchPath({}), ['/etc/tsjail/profiles', SHIPPED]);
  t.equal(shippedProfilesDir(), SHIPPED, 'found by walking up from the module to package.json');
});

t.test('TSJAIL_PROFILE_PATH replaces the whole search path', async (t) => {
  t.same(searchPath({ HOME: '/h', TSJAIL_PROFILE_PATH: `/a::${USER}` }), ['/a', USER]);
  t.equal(loadProfile('app', { vars: vars({ env: { TSJAIL_PROFILE_PATH: PATH.join(':') } }) }).hostname, 'local');
});

t.test('-p VALUE is a path when it contains "/" or ends in .json5, else a name', async (t) => {
  t.ok(isProfilePath('./firefox'));
  t.ok(isProfilePath('firefox.json5'));
  t.ok(isProfilePath('/etc/x'));
  t.notOk(isProfilePath('firefox'));
  t.notOk(isProfilePath('firefox.local'));
});

t.test('a name is looked up on the path; the first directory wins', async (t) => {
  const p = loadProfile('app', opts);
  t.equal(p.description, "app from the user's directory");
  t.notOk(p.files.includes(join(SHIP, 'app.json5')), 'the shadowed profile is not merged');
});

t.test('NAME.local.json5 from every directory is merged on top, lowest priority first', async (t) => {
  const p = loadProfile('app', opts);
  t.same(p.files.slice(-4), [
    join(USER, 'app.json5'),
    join(SHIP, 'app.local.json5'),
    join(ETC, 'app.local.json5'),
    join(USER, 'app.local.json5'),
  ]);
  t.equal(p.hostname, 'local', 'a local overrides a scalar of the profile');
  t.equal(p.network.mode, 'none', 'and may take the network away');
  t.same(p.limits, { core: 0, nofile: 2, stack: 8388608, nproc: 20 });
  t.same(p.env.set, { FROM: 'user-local' });
  t.equal(p.name, 'app');
});

t.test('a path is loaded as given, relative to CWD, without locals', async (t) => {
  const p = loadProfile(join(USER, 'app.json5'), opts);
  t.equal(p.hostname, 'user');
  t.equal(p.files.at(-1), join(USER, 'app.json5'));
  const rel = loadProfile('user/app.json5', { vars: vars({ cwd: FIXTURES }), searchPath: PATH });
  t.equal(rel.files.at(-1), join(USER, 'app.json5'));
  const dir = writeTree(t.testdir(), { 'mine.json5': '{ hostname: "mine" }' });
  const bare = loadProfile('mine.json5', { vars: vars({ cwd: dir }), searchPath: PATH });
  t.equal(bare.hostname, 'mine', 'NAME.json5 without a slash is still a path');
  t.equal(bare.name, 'mine');
});

t.test('an unknown or invalid name is an error', async (t) => {
  t.throws(() => loadProfile('nosuch', opts), {
    message: `nosuch: no profile "nosuch" on the search path (${PATH.join(', ')})`,
  });
  t.throws(() => loadProfile('..', opts), { message: /^\.\.: not a valid profile name/ });
  t.throws(() => loadProfile('app.local', opts), { message: /not a valid profile name/ });
});

t.test('program lookup: by basename, then by command list, then default', async (t) => {
  t.same(findProfileForProgram('/usr/bin/firefox', opts), {
    name: 'firefox',
    file: join(SHIP, 'firefox.json5'),
    unreadable: [],
  });
  t.same(findProfileForProgram('firefox-esr', opts), {
    name: 'firefox',
    file: join(SHIP, 'firefox.json5'),
    unreadable: [],
  });
  t.same(findProfileForProgram('/usr/bin/nvim', opts), {
    name: 'editor',
    file: join(SHIP, 'editor.json5'),
    unreadable: [],
  });
  t.same(findProfileForProgram('/bin/ls', opts), {
    name: 'default',
    file: join(SHIPPED, 'default.json5'),
    unreadable: [],
  });
  t.same(findProfileForProgram('app.local', opts).name, 'default', 'a local file is not a profile');
  t.same(findProfileForProgram('ls', { vars: vars(), searchPath: [USER] }), {
    name: 'default',
    file: null,
    unreadable: [],
  });
});

t.test('program lookup reports profiles it could not read, and skips them', async (t) => {
  const dir = writeTree(t.testdir(), { 'broken.json5': '{ command: ["ls"' });
  const r = findProfileForProgram('ls', { vars: vars(), searchPath: [dir, SHIPPED] });
  t.equal(r.name, 'default');
  t.equal(r.unreadable.length, 1);
  t.match(r.unreadable[0]!, { file: join(dir, 'broken.json5'), reason: /broken\.json5:1:17: invalid end of input/ });
});

t.test('program lookup parses only profiles that hold the name as a string', async (t) => {
  // Each file is broken, so each one parsed is reported unreadable.
  const dir = writeTree(t.testdir(), {
    'a-comment.json5': '{ // runs sh\n command: [',
    'b-path.json5': '{ filesystem: { ro: ["/usr/share/sh"] }, command: [',
    'c-double.json5': '{ command: ["sh"',
    'd-single.json5': "{ command: ['sh'",
  });
  const r = findProfileForProgram('/bin/sh', { vars: vars(), searchPath: [dir, SHIPPED] });
  t.equal(r.name, 'default');
  t.same(
    r.unreadable.map((u) => u.file),
    [join(dir, 'c-double.json5'), join(dir, 'd-single.json5')],
    'a file with the name only in a comment or inside a longer string is not parsed',
  );
  const ok = writeTree(t.testdir(), { 'shell.json5': "{ command: ['sh'] }\n" });
  t.equal(
    findProfileForProgram('sh', { vars: vars(), searchPath: [ok, SHIPPED] }).name,
    'shell',
    'found in single quotes',
  );
});

t.test('profile list: every profile once, from the directory that wins, with its description', async (t) => {
  const list = listProfiles(opts);
  // The shipped profiles come last, each once, except names shadowed above.
  const shadowed = new Set(['app', 'editor', 'firefox']);
  const shipped = readdirSync(SHIPPED)
    .filter((f) => f.endsWith('.json5') && !f.endsWith('.local.json5'))
    .map((f) => f.slice(0, -'.json5'.length))
    .filter((n) => !shadowed.has(n))
    .sort()
    .map((n) => [n, join(SHIPPED, `${n}.json5`)]);
  t.same(
    list.map((p) => [p.name, p.file]),
    [
      ['app', join(USER, 'app.json5')],
      ['editor', join(SHIP, 'editor.json5')],
      ['firefox', join(SHIP, 'firefox.json5')],
      ...shipped,
    ],
  );
  t.equal(list[0]!.description, "app from the user's directory");
  t.equal(list[2]!.description, 'Mozilla Firefox');
});
