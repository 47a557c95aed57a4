// Landlock against the real kernel: landlock "required" refuses to start on
// an ABI that lacks what the profile needs (simulated lower with
// TSJAIL_LANDLOCK_ABI), in one line, and starts where the ABI has it.
import t from 'tap';
import * as path from 'node:path';
import { LANDLOCK_ABI, needsLandlock } from '../helpers/machine.js';
import { makeUserDir, removeDir, tsjail, writeUserFile } from '../helpers/sandbox.js';

const work = makeUserDir('llreq');
t.teardown(() => removeDir(work));

t.test(
  'landlock: "required" refuses to start without Landlock',
  { skip: needsLandlock(3, 'a profile without devices or network needs TRUNCATE') },
  async (t) => {
    writeUserFile(path.join(work, 'req.json5'), '{ landlock: "required" }');
    const ok = tsjail(['-p', path.join(work, 'req.json5'), 'true']);
    t.equal(ok.status, 0, ok.stderr);
    const none = tsjail(['-p', path.join(work, 'req.json5'), 'true'], { env: { TSJAIL_LANDLOCK_ABI: '0' } });
    t.equal(none.status, 125);
    t.match(none.stderr, /requires Landlock/);
  },
);

t.test(
  'required: refused on an ABI that lacks what the profile needs, started where it has it',
  { skip: needsLandlock(6, 'network "host" needs scoping') },
  async (t) => {
    writeUserFile(path.join(work, 'req-host.json5'), '{ landlock: "required", network: "host" }');
    writeUserFile(path.join(work, 'req-none.json5'), '{ landlock: { mode: "required" } }');
    const run = (profile: string, abi: number) =>
      tsjail(['-p', path.join(work, profile), 'true'], { env: { TSJAIL_LANDLOCK_ABI: String(abi) } });
    for (const abi of [1, 2]) {
      const r = run('req-none.json5', abi);
      t.equal(r.status, 125, `ABI ${abi}`);
      t.match(
        r.stderr,
        new RegExp(`the profile requires Landlock, and this kernel's ABI ${abi} lacks .*truncate \\(ABI 3\\)`),
      );
      t.equal(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => !l.includes('hint')).length,
        1,
        'one line (and a hint)',
      );
    }
    t.equal(run('req-none.json5', 3).status, 0, 'ABI 3 has every right a profile without devices and network needs');
    writeUserFile(path.join(work, 'req-dev.json5'), '{ landlock: "required", devices: ["/dev/zero"] }');
    const four = run('req-dev.json5', 4);
    t.equal(four.status, 125);
    t.match(four.stderr, /ABI 4 lacks ioctl_dev \(ABI 5\)/, 'a declared device needs IOCTL_DEV');
    t.equal(run('req-dev.json5', 5).status, 0);
    const five = run('req-host.json5', 5);
    t.equal(five.status, 125);
    t.match(five.stderr, /lacks abstract_unix_socket \(ABI 6\)/, 'network "host" needs scoping');
    t.equal(run('req-host.json5', 6).status, 0);
    if (LANDLOCK_ABI > 6)
      t.equal(run('req-host.json5', LANDLOCK_ABI).status, 0, `and on the kernel's ABI ${LANDLOCK_ABI}`);
  },
);
