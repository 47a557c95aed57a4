// Issue 5: Firefox ESR from Debian under profiles/firefox.json5, headless:
// it renders a local page to a screenshot under its profile folder, and a
// page cannot read the user's ssh key, GnuPG folder, another application's
// data or the rest of the home folder, while it can read a file of its own.
// A second run under a profile that shows ~/.ssh proves the page would
// notice a leak.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeUserDir, mkUserDir, removeDir, tsjail, writeUserFile } from '../helpers/sandbox.js';
import { installed, plantSecrets, shotColours, writeProbePage } from '../helpers/browser.js';

if (!installed('firefox-esr')) {
  t.skip('firefox-esr is not installed here (.ci/run installs it)', async () => {});
} else {
  const home = makeUserDir('firefox');
  t.teardown(() => removeDir(home));
  const secrets = plantSecrets(home);
  const work = path.join(home, '.mozilla', 'tsjail-test');
  mkUserDir(path.join(home, '.cache', 'mozilla'));
  mkUserDir(path.join(home, 'Downloads'));
  const page = writeProbePage(work, secrets);

  /** Firefox headless with a fresh profile in `dir`, screenshot into it; returns the screenshot's path. */
  const screenshot = (dir: string, extra: string[] = []) => {
    // Sync XHRs between file: URLs need the pre-2019 file origin rule.
    writeUserFile(path.join(dir, 'user.js'), 'user_pref("security.fileuri.strict_origin_policy", false);\n');
    const shot = path.join(dir, 'shot.png');
    const started = Date.now();
    const r = tsjail(
      [
        ...extra,
        'firefox-esr',
        '--headless',
        '--no-remote',
        '--profile',
        dir,
        '--window-size=400,300',
        '--screenshot',
        shot,
        `file://${page}`,
      ],
      { home, timeout: 120_000 },
    );
    return { r, shot, ms: Date.now() - started };
  };

  t.test('renders a local page to a screenshot under its profile; the secrets stay unreadable', async (t) => {
    const { r, shot, ms } = screenshot(path.join(work, 'p1'));
    t.comment(`firefox-esr headless screenshot under the firefox profile: ${ms} ms`);
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.equal(r.status, 0, 'firefox exited 0');
    t.ok(fs.existsSync(shot), 'the screenshot was written under ~/.mozilla');
    const c = shotColours(shot);
    t.equal(`${c.width}x${c.height}`, '400x300', 'the requested window size');
    t.equal(c.blue, 0, 'the page could read its own control file');
    t.equal(c.red, 0, 'no secret was readable');
    t.ok(c.green > 0.95, `the page painted itself green (${(c.green * 100).toFixed(1)}%)`);
  });

  t.test('the same page under a profile that shows ~/.ssh turns red (the probe works)', async (t) => {
    const leaky = path.join(work, 'leaky.json5');
    writeUserFile(
      leaky,
      '{ include: ["desktop"], filesystem: { tmpfs: ["${HOME}"], rw: ["${HOME}/.mozilla"], ro: ["${HOME}/.ssh"] }, nestedSandbox: true }\n',
    );
    const { r, shot } = screenshot(path.join(work, 'p2'), ['-p', leaky]);
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.equal(r.status, 0, 'firefox exited 0');
    const c = shotColours(shot);
    t.ok(c.red > 0.95, `red: the page read ~/.ssh/id_probe (${(c.red * 100).toFixed(1)}%)`);
  });

  t.test('nothing was written outside its own folders', async (t) => {
    t.same(fs.readdirSync(path.join(home, 'Downloads')), [], 'Downloads untouched');
    for (const s of secrets)
      t.match(fs.readFileSync(s, 'utf8'), /^PROBE-SECRET/, `${path.relative(home, s)} unchanged`);
  });
}
