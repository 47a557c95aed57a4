import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { checkProfiles, findProfileForProgram, loadProfile } from '../../../src/profile/index.js';
import { HOME, SHIPPED, vars } from './helpers.js';

const opts = { vars: vars(), searchPath: [SHIPPED] };
const BASE = join(SHIPPED, 'include', 'base.json5');

t.test('every shipped profile and snippet is valid', async (t) => {
  const files = [
    ...readdirSync(SHIPPED)
      .filter((f) => f.endsWith('.json5'))
      .map((f) => join(SHIPPED, f)),
    ...readdirSync(join(SHIPPED, 'include'))
      .filter((f) => f.endsWith('.json5'))
      .map((f) => join(SHIPPED, 'include', f)),
  ];
  t.ok(files.includes(BASE));
  t.same(
    checkProfiles(files, opts).map((e) => e.message),
    [],
  );
});

t.test('base is the system runtime, read-only, and nothing more (SPEC)', async (t) => {
  const p = loadProfile(BASE, opts);
  t.same(p.files, [BASE], 'base is not included into itself');
  const ro = p.filesystem.ro.map((e) => e.path);
  for (const need of [
    '/usr',
    '/bin',
    '/sbin',
    '/lib',
    '/lib64',
    '/etc/ld.so.cache',
    '/etc/nsswitch.conf',
    '/etc/passwd',
    '/etc/group',
    '/etc/hosts',
    '/etc/resolv.conf',
    '/etc/localtime',
    '/etc/ssl/certs',
    '/etc/fonts',
    '/etc/alternatives',
    // Read by D-Bus, PulseAudio, GLib and the browsers (issue 11): the host's
    // identifier, not a secret of the user's (SECURITY.md says it is shown).
    '/etc/machine-id',
  ]) {
    t.ok(ro.includes(need), `base shows ${need}`);
  }
  for (const kind of ['rw', 'exec', 'tmpfs', 'deny'] as const)
    t.same(p.filesystem[kind], [], `base has no ${kind} entries`);
  for (const path of ro) {
    t.ok(
      /^\/(usr|bin|sbin|lib|lib32|lib64|libx32)$/.test(path) ||
        path.startsWith('/etc/') ||
        /^\/run\/[a-zA-Z]+\/(resolve\/)?(stub-)?resolv\.conf$/.test(path),
      `${path} is runtime, /etc or a resolv.conf target`,
    );
    t.notMatch(path, /shadow|ssh|private|sudoers|\/etc\/ssl$|\/etc\/pki$/, `${path} is nothing secret`);
  }
  t.same(p.env.keep, ['HOME', 'USER', 'LOGNAME', 'TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'NO_COLOR']);
  t.same(p.limits, { core: 0 });
  t.same(p.devices, []);
  t.same(p.sockets, []);
  t.equal(p.network.mode, 'none');
});

t.test('default: base, an empty home, no network, the current directory read-only (SPEC)', async (t) => {
  const p = loadProfile('default', { vars: vars({ cwd: `${HOME}/work` }), searchPath: [SHIPPED] });
  t.same(p.files, [BASE, join(SHIPPED, 'default.json5')]);
  t.same(
    p.filesystem.tmpfs.map((e) => e.path),
    [HOME],
  );
  t.same(
    p.filesystem.ro.filter((e) => e.layer === 1).map((e) => e.path),
    [`${HOME}/work`],
  );
  t.same(p.filesystem.rw, []);
  t.same(p.filesystem.exec, []);
  t.equal(p.network.mode, 'none');
  t.same(p.devices, []);
  t.same(p.sockets, []);
  t.same(p.dbus, {});
  t.same(p.skipped, []);
});

t.test('default shows nothing of the current directory when it is HOME or /', async (t) => {
  for (const cwd of [HOME, '/']) {
    const p = loadProfile('default', { vars: vars({ cwd }), searchPath: [SHIPPED] });
    t.same(
      p.filesystem.ro.filter((e) => e.layer === 1),
      [],
      `cwd ${cwd}`,
    );
    t.same(
      p.skipped.map((s) => [s.entry, s.keyPath]),
      [['${CWD_RO}', 'filesystem.ro[0]']],
    );
  }
});

t.test('a program without a profile gets default', async (t) => {
  t.same(findProfileForProgram('/opt/unknown/tool', opts), {
    name: 'default',
    file: join(SHIPPED, 'default.json5'),
    unreadable: [],
  });
});
