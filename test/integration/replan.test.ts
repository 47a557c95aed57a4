// Issue 11 item 5: a plan that went stale between planning and mounting (a
// loader cache that ldconfig replaced meanwhile) is re-planned by tsjail,
// not refused: the shim keeps its check, its monitor runs tsjail again, a
// bounded number of times. The loop runs the real ldconfig, writing a cache
// of the test user's (-C) that the profile shows, so that the host's own
// /etc/ld.so.cache, which other runs on this machine use, is left alone.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { asUser, makeUserDir, removeDir, tsjailAsync, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';

const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => installed(p));

if (ldconfig === undefined) {
  t.skip('ldconfig is not installed here', async () => {});
} else {
  t.test('50 launches all succeed while ldconfig replaces the cache they show, in a loop', async (t) => {
    const dir = makeUserDir('replan');
    t.teardown(() => removeDir(dir));
    const cache = path.join(dir, 'ld.so.cache');
    const profile = path.join(dir, 'p.json5');
    writeUserFile(profile, `{ filesystem: { ro: [${JSON.stringify(cache)}] } }\n`);
    const first = asUser([ldconfig, '-X', '-C', cache], userEnv({ home: dir }));
    t.equal(spawnSync(first[0]!, first.slice(1)).status, 0, 'ldconfig writes the cache');
    // -X: no links are touched; -C: the cache is written (a new file renamed over the old) there.
    const loop = asUser(['/bin/sh', '-c', `while :; do ${ldconfig} -X -C ${cache}; done`], userEnv({ home: dir }));
    const writer = spawn(loop[0]!, loop.slice(1), { stdio: 'ignore', detached: true });
    t.teardown(() => {
      try {
        process.kill(-writer.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    let replans = 0;
    for (let i = 0; i < 50; i++) {
      const r = await tsjailAsync(['-q', '-v', '-p', profile, '/bin/true'], { home: dir });
      t.equal(
        r.status,
        0,
        `launch ${i + 1}: ${r.stderr
          .split('\n')
          .filter((l) => /stale|error/.test(l))
          .join(' ')}`,
      );
      replans += r.stderr.match(/re-planning: .*changed since the plan was made/g)?.length ?? 0;
    }
    t.ok(replans > 0, `the plan went stale and was re-planned (${replans} times in 50 launches)`);
  });
}
