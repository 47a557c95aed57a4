import { join } from 'node:path';
import t from 'tap';

import { ProfileError, buildVarContext, expandPath, loadProfile, parseUserDirs } from '../../../src/profile/index.js';
import { expandText } from '../../../src/profile/vars.js';
import { FIXTURES, HOME, SHIPPED, vars, writeTree } from './helpers.js';

const ok = (value: string, glob = false) => ({ kind: 'ok', value, glob });

t.test('the closed set of variables', async (t) => {
  const cx = vars({ env: { TMPDIR: '/var/tmp/me', XDG_RUNTIME_DIR: '/run/user/1000', XDG_DATA_HOME: '/data' } });
  const v = (name: string) => cx.values.get(name);
  t.equal(v('HOME'), HOME);
  t.equal(v('UID'), '1000');
  t.equal(v('USER'), 'alice');
  t.equal(v('CWD'), '/home/alice/work');
  t.equal(v('CWD_RO'), '/home/alice/work');
  t.equal(v('TMPDIR'), '/var/tmp/me');
  t.equal(v('XDG_RUNTIME_DIR'), '/run/user/1000');
  t.equal(v('XDG_CONFIG_HOME'), `${HOME}/.config`);
  t.equal(v('XDG_DATA_HOME'), '/data');
  t.equal(v('XDG_CACHE_HOME'), `${HOME}/.cache`);
  t.equal(v('XDG_STATE_HOME'), `${HOME}/.local/state`);
  t.equal(v('XDG_DOWNLOAD_DIR'), `${HOME}/Downloads`, 'unconfigured: the default under HOME');
  t.equal(v('XDG_PUBLICSHARE_DIR'), `${HOME}/Public`);
  const bare = vars({ env: { TMPDIR: 'relative', XDG_CONFIG_HOME: 'rel' } });
  t.equal(bare.values.get('TMPDIR'), '/tmp', 'TMPDIR falls back to /tmp');
  t.equal(bare.values.get('XDG_CONFIG_HOME'), `${HOME}/.config`, 'a relative XDG dir is ignored');
  t.equal(bare.unset.get('XDG_RUNTIME_DIR'), 'XDG_RUNTIME_DIR is not set');
});

t.test('${VAR} and ~ expansion in paths', async (t) => {
  const cx = vars();
  t.same(expandPath('${HOME}/.mozilla', cx), ok(`${HOME}/.mozilla`));
  t.same(expandPath('~', cx), ok(HOME));
  t.same(expandPath('~/.config//gtk-3.0/', cx), ok(`${HOME}/.config/gtk-3.0`), 'slashes are normalised');
  t.same(expandPath('/run/user/${UID}/bus', cx), ok('/run/user/1000/bus'));
  t.same(expandPath('/etc/~x', cx), ok('/etc/~x'), '~ only expands at the start');
  t.same(expandPath('${XDG_RUNTIME_DIR}/wayland-*', cx), ok('/run/user/1000/wayland-*', true));
  t.same(expandPath('/usr/{lib,share}/x', cx), ok('/usr/{lib,share}/x', true));
});

t.test('variable values spliced into a glob are escaped', async (t) => {
  const cx = vars({ home: '/home/a[1]' });
  t.same(expandPath('~/.config/*.conf', cx), ok('/home/a\\[1\\]/.config/*.conf', true));
  t.same(expandPath('~/.config/x.conf', cx), ok('/home/a[1]/.config/x.conf', false), 'a literal path stays literal');
});

t.test('unknown and malformed references are errors', async (t) => {
  const cx = vars();
  t.same(expandPath('${HOEM}/x', cx), { kind: 'error', message: 'unknown variable ${HOEM}; did you mean ${HOME}?' });
  t.match(expandPath('${FOO}/x', cx), { kind: 'error', message: /^unknown variable \$\{FOO\}; known: HOME, UID/ });
  t.same(expandPath('$HOME/x', cx), { kind: 'error', message: '"$HOME" is not expanded; write "${HOME}"' });
  t.match(expandPath('${HOME/x', cx), { kind: 'error', message: /malformed variable reference/ });
  t.match(expandPath('${USER}/x', cx), { kind: 'error', message: /"\$\{USER\}\/x" must be an absolute path/ });
  t.match(expandPath('/x/${USER}', vars({ user: '..' })), {
    kind: 'error',
    message: /must not contain "\.\." segments \(expanded: "\/x\/\.\."\)/,
  });
});

t.test('free text (env.set): ${VAR} expands, a lone $ stays', async (t) => {
  const cx = vars();
  t.same(expandText('${XDG_RUNTIME_DIR}/bus', cx), ok('/run/user/1000/bus'));
  t.same(expandText('cost: $5 and $HOME', cx), ok('cost: $5 and $HOME'));
  t.same(expandText('~/x', cx), ok('~/x'), '~ is a path notion only');
});

t.test('a known variable without a value skips the entry', async (t) => {
  const cx = vars({ env: {} });
  t.same(expandPath('${XDG_RUNTIME_DIR}/pipewire-0', cx), { kind: 'unset', reason: 'XDG_RUNTIME_DIR is not set' });
});

t.test('CWD_RO is unset at /, HOME, above HOME, and where the SPEC never shows a tree whole', async (t) => {
  for (const cwd of ['/', HOME, `${HOME}/`, '/home', '/tmp', '/var', '/run', '/root', '/srv', '/mnt', '/media']) {
    t.notOk(vars({ cwd }).values.has('CWD_RO'), cwd);
    t.match(vars({ cwd }).unset.get('CWD_RO'), /is not shown/);
  }
  for (const cwd of ['/tmp/build', '/srv/www', '/opt', `${HOME}/src`]) t.equal(vars({ cwd }).values.get('CWD_RO'), cwd);
});

t.test('HOME of / or relative is unset, and so is everything under it', async (t) => {
  const cx = vars({ home: '/' });
  t.notOk(cx.values.has('HOME'));
  t.match(expandPath('~/.x', cx), { kind: 'unset', reason: /home directory "\/" is \/ or not an absolute path/ });
  t.notOk(cx.values.has('XDG_DOWNLOAD_DIR'));
});

t.test('user-dirs.dirs is parsed as data', async (t) => {
  const text = [
    '# This file is written by xdg-user-dirs-update',
    'XDG_DESKTOP_DIR="$HOME/Schreibtisch"',
    'XDG_DOWNLOAD_DIR="$HOME/Téléchargements"',
    'XDG_DOCUMENTS_DIR="/data/docs/"',
    'XDG_MUSIC_DIR="$HOME"',
    'XDG_PICTURES_DIR="$HOME/"',
    "export XDG_VIDEOS_DIR='/media/videos'",
    'XDG_TEMPLATES_DIR="$(rm -rf ~)"',
    'XDG_PUBLICSHARE_DIR="relative/dir"',
    'XDG_UNKNOWN_DIR="$HOME/x"',
    'XDG_DESKTOP_DIR="${HOME}/Desktop 2"   # the later line wins, as in a shell',
  ].join('\n');
  t.same(Object.fromEntries(parseUserDirs(text, HOME)), {
    XDG_DESKTOP_DIR: `${HOME}/Desktop 2`,
    XDG_DOWNLOAD_DIR: `${HOME}/Téléchargements`,
    XDG_DOCUMENTS_DIR: '/data/docs',
    XDG_MUSIC_DIR: HOME,
    XDG_PICTURES_DIR: HOME,
    XDG_VIDEOS_DIR: '/media/videos',
  });
  t.same(
    Object.fromEntries(
      parseUserDirs('XDG_MUSIC_DIR="$HOME/../bob"\nXDG_DOWNLOAD_DIR="\\$HOME/x"\nXDG_DOCUMENTS_DIR="$HOMEX/y"', HOME),
    ),
    {},
  );

  const cx = vars({ userDirsText: text });
  t.equal(cx.values.get('XDG_DOWNLOAD_DIR'), `${HOME}/Téléchargements`);
  t.equal(cx.values.get('XDG_TEMPLATES_DIR'), `${HOME}/Templates`, 'an ignored line leaves the default');
  t.equal(cx.values.get('XDG_PUBLICSHARE_DIR'), `${HOME}/Public`);
  t.notOk(cx.values.has('XDG_MUSIC_DIR'), 'configured as HOME: unset, never the whole home');
  t.equal(
    cx.unset.get('XDG_MUSIC_DIR'),
    `XDG_MUSIC_DIR is ${HOME} in user-dirs.dirs; granting it would grant the whole home`,
  );
  t.notOk(cx.values.has('XDG_PICTURES_DIR'));
  t.notOk(vars({ userDirsText: 'XDG_MUSIC_DIR="/home"' }).values.has('XDG_MUSIC_DIR'), 'an ancestor of HOME too');
  t.notOk(vars({ userDirsText: 'XDG_MUSIC_DIR="/"' }).values.has('XDG_MUSIC_DIR'), 'and /');
  t.equal(
    vars({ userDirsText: 'XDG_DOWNLOAD_DIR="/tmp"' }).unset.get('XDG_DOWNLOAD_DIR'),
    'XDG_DOWNLOAD_DIR is /tmp in user-dirs.dirs, a directory never shown whole',
  );
  t.equal(vars({ userDirsText: 'XDG_DOWNLOAD_DIR="/tmp/dl"' }).values.get('XDG_DOWNLOAD_DIR'), '/tmp/dl');
});

t.test('user-dirs.dirs is read from $XDG_CONFIG_HOME', async (t) => {
  const dir = writeTree(t.testdir(), { 'cfg/user-dirs.dirs': 'XDG_DOWNLOAD_DIR="$HOME/dl"\n' });
  const cx = buildVarContext({ env: { XDG_CONFIG_HOME: join(dir, 'cfg') }, uid: 1, user: 'a', home: HOME, cwd: '/' });
  t.equal(cx.values.get('XDG_DOWNLOAD_DIR'), `${HOME}/dl`);
  const none = buildVarContext({
    env: { XDG_CONFIG_HOME: join(dir, 'absent') },
    uid: 1,
    user: 'a',
    home: HOME,
    cwd: '/',
  });
  t.equal(none.values.get('XDG_DOWNLOAD_DIR'), `${HOME}/Downloads`);
});

t.test('in a profile: unknown variable at FILE:LINE, unset entries recorded in skipped', async (t) => {
  const file = join(FIXTURES, 'bad', 'unknown-var.json5');
  const err = t.throws(() => loadProfile(file, { vars: vars(), searchPath: [SHIPPED] })) as ProfileError;
  t.equal(err.message, `${file}:5: filesystem.ro[1]: unknown variable \${HOEM}; did you mean \${HOME}?`);

  const dir = writeTree(t.testdir(), {
    'p.json5': [
      '{',
      '  filesystem: { rw: ["${XDG_RUNTIME_DIR}/app", "${XDG_MUSIC_DIR}", "~/ok"] },',
      '  devices: ["${XDG_RUNTIME_DIR}/x", "/dev/dri/card*"],',
      '  env: { set: { BUS: "unix:path=${XDG_RUNTIME_DIR}/bus", WHO: "${USER}" } },',
      '}',
    ].join('\n'),
  });
  const p = loadProfile(join(dir, 'p.json5'), {
    vars: vars({ env: {}, userDirsText: 'XDG_MUSIC_DIR="$HOME"' }),
    searchPath: [SHIPPED],
  });
  t.same(
    p.filesystem.rw.map((e) => e.path),
    [`${HOME}/ok`],
  );
  t.same(
    p.devices.map((d) => d.value),
    ['/dev/dri/card*'],
  );
  t.same(p.env.set, { WHO: 'alice' });
  t.same(
    p.skipped.map((s) => [s.entry, s.keyPath, s.source.line, s.reason]),
    [
      ['${XDG_RUNTIME_DIR}/app', 'filesystem.rw[0]', 2, 'XDG_RUNTIME_DIR is not set'],
      [
        '${XDG_MUSIC_DIR}',
        'filesystem.rw[1]',
        2,
        `XDG_MUSIC_DIR is ${HOME} in user-dirs.dirs; granting it would grant the whole home`,
      ],
      ['${XDG_RUNTIME_DIR}/x', 'devices[0]', 3, 'XDG_RUNTIME_DIR is not set'],
      ['unix:path=${XDG_RUNTIME_DIR}/bus', 'env.set.BUS', 4, 'XDG_RUNTIME_DIR is not set'],
    ],
  );
});

t.test('a device path must stay under /dev/ after expansion', async (t) => {
  const dir = writeTree(t.testdir(), { 'p.json5': '{\n  devices: ["${HOME}/fake"],\n}' });
  t.throws(() => loadProfile(join(dir, 'p.json5'), { vars: vars(), searchPath: [SHIPPED] }), {
    message: `${dir}/p.json5:2: devices[0]: "\${HOME}/fake" is not a path under /dev/`,
  });
});
