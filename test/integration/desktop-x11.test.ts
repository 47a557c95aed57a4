// Issue 5, X11: Firefox ESR and Chromium under their profiles open a window on
// an Xvfb display that the test starts as the test user, with cookie
// authentication. A screenshot of the display (xwd) shows the colour the
// page paints; the sandbox holds only that display's socket and cookie.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asUser,
  IS_ROOT,
  makeUserDir,
  mkUserDir,
  removeDir,
  tsjail,
  tsjailArgv,
  userEnv,
  writeUserFile,
} from '../helpers/sandbox.js';
import { installed, plantSecrets, writeProbePage, GREEN, RED, BLUE } from '../helpers/browser.js';
import { decodeXwd } from '../helpers/xwd.js';
import { startXvfb } from '../helpers/xvfb.js';
import { countColour } from '../helpers/png.js';

const tools = ['Xvfb', 'xauth', 'xwd'];
const missing = tools.filter((p) => !installed(p));

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  if (IS_ROOT && !fs.existsSync('/tmp/.X11-unix')) {
    fs.mkdirSync('/tmp/.X11-unix', { recursive: true }); // another test may make it at the same moment
    fs.chmodSync('/tmp/.X11-unix', 0o1777);
  }
  const home = makeUserDir('x11');
  const secrets = plantSecrets(home);
  const work = path.join(home, '.mozilla', 'tsjail-test');
  const page = writeProbePage(work, secrets);
  mkUserDir(path.join(home, '.cache', 'mozilla'));
  const auth = path.join(home, '.Xauthority');
  const cookie = crypto.randomBytes(16).toString('hex');
  const otherCookie = crypto.randomBytes(16).toString('hex');
  const run = (cmd: string[]) => {
    const argv = asUser(cmd, userEnv({ home, env: { XAUTHORITY: auth } }));
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  };
  t.teardown(() => removeDir(home));
  const { n } = await startXvfb(t, home, auth, cookie);
  const other = n + 1;
  const env = { DISPLAY: `:${n}`, XAUTHORITY: auth };
  const opts = { home, env };
  t.equal(run(['xauth', '-f', auth, 'add', `:${other}`, '.', otherCookie]).status, 0, 'cookie for another display');

  const screenshot = () => {
    const argv = asUser(['xwd', '-root', '-silent', '-display', `:${n}`], userEnv(opts));
    const r = spawnSync(argv[0]!, argv.slice(1), {
      timeout: 20_000,
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`xwd failed: ${r.stderr}`);
    const img = decodeXwd(r.stdout);
    const all = img.width * img.height;
    return {
      img,
      green: countColour(img, GREEN) / all,
      red: countColour(img, RED) / all,
      blue: countColour(img, BLUE) / all,
    };
  };

  t.before(async () => {
    const end = Date.now() + 15_000;
    while (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    if (!fs.existsSync(`/tmp/.X11-unix/X${n}`)) throw new Error(`Xvfb :${n} did not start`);
  });

  t.test("inside: only this display's socket and cookie", async (t) => {
    const r = tsjail(
      [
        '-p',
        'firefox',
        '--',
        '/bin/sh',
        '-c',
        'echo "display=$DISPLAY"; ls -A /tmp/.X11-unix; xauth -f "$XAUTHORITY" list; echo "home=$(ls -A "$HOME" | tr "\\n" " ")"',
      ],
      opts,
    );
    t.equal(r.status, 0, r.stderr);
    // Renumbered inside (src/desktop/x11.ts): no host server listens on the
    // abstract socket of that number.
    const inside = /^display=:(\d+)$/m.exec(r.stdout)?.[1];
    t.ok(inside, 'DISPLAY is a local display');
    t.equal(r.stdout.match(/^X\d+$/gm)?.join(','), `X${inside}`, 'one X socket, the one DISPLAY names');
    t.match(r.stdout, cookie, 'our cookie is there');
    t.notMatch(r.stdout, otherCookie, "the other display's cookie is not");
    t.notMatch(r.stdout, /\.Xauthority/, 'the host Xauthority file is not visible');
  });

  /** Start `browser` on the display and wait until the screen shows the page's colour. */
  const windowTest = (name: string, argv: string[], needs: string) =>
    t.test(
      `${name} opens a window that shows the page, green`,
      { skip: installed(needs) ? false : `${needs} is not installed here` },
      async (t) => {
        const before = screenshot();
        t.equal(before.green, 0, 'nothing green on the display before');
        const full = asUser(tsjailArgv(argv), userEnv(opts));
        const started = Date.now();
        const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        const exited = new Promise((r) => child.on('exit', r));
        let shot = before;
        try {
          while (Date.now() - started < 60_000) {
            await new Promise((r) => setTimeout(r, 500));
            shot = screenshot();
            if (shot.green > 0.2 || child.exitCode !== null) break;
          }
          t.comment(`${name} window on Xvfb painted after ${Date.now() - started} ms`);
          if (child.exitCode !== null) t.comment(stderr.slice(-3000));
          t.equal(child.exitCode, null, `${name} is still running`);
          t.ok(shot.green > 0.2, `the window shows the page's green (${(shot.green * 100).toFixed(1)}% of the screen)`);
          t.equal(shot.red, 0, 'no secret was readable');
          t.equal(shot.blue, 0, 'the page could read its own control file');
        } finally {
          // SIGTERM to tsjail reaches the browser; the whole sandbox goes with it.
          if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
          await exited;
        }
        const after = screenshot();
        t.ok(after.green < 0.01, 'the window is gone once the sandbox ended');
      },
    );

  writeUserFile(path.join(work, 'x', 'user.js'), 'user_pref("security.fileuri.strict_origin_policy", false);\n');
  windowTest(
    'firefox-esr',
    ['firefox-esr', '--no-remote', '--new-instance', '--profile', path.join(work, 'x'), `file://${page}`],
    'firefox-esr',
  );
  // Chromium reads the page from its own folder; its probes are the same secrets.
  const chromiumWork = path.join(home, '.config', 'chromium', 'tsjail-test');
  const chromiumPage = writeProbePage(chromiumWork, secrets);
  windowTest(
    'chromium',
    [
      'chromium',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--allow-file-access-from-files',
      `--user-data-dir=${path.join(chromiumWork, 'u')}`,
      '--window-size=800,600',
      `file://${chromiumPage}`,
    ],
    'chromium',
  );
}
