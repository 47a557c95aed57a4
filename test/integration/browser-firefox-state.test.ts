// Issue 11, a first hour without surprises, with the real browser: Firefox
// ESR from Debian started as a new user starts it (`tsjail firefox-esr`,
// the shipped firefox profile found by the command's name, a fresh home, no
// --profile), headless. Its profile survives two runs, both where Firefox
// ESR 153 creates one (~/.config/mozilla/firefox) and where an older version
// left one (~/.mozilla/firefox, which Firefox keeps using when it exists),
// and a download lands in ~/Downloads on the host. The file is served from
// a test network namespace standing for the internet, which the profile's
// network reaches whether it is "host" or "private".
import t from 'tap';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeUserDir, mkUserDir, removeDir, testUser, tsjail, tsjailAsync } from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';
import { buildInternet, httpServer } from '../helpers/internet.js';

// Four to five Firefox starts, each tens of seconds on a loaded machine.
t.setTimeout(1_200_000);

const user = testUser();
const FIREFOX_TIMEOUT = 240_000;

/** The [Section] -> key -> value map of an ini file (profiles.ini, installs.ini). */
function readIni(file: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const head = /^\[(.*)\]$/.exec(line.trim());
    if (head) out.set(head[1]!, (section = new Map()));
    else if (line.includes('='))
      section.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim());
  }
  return out;
}

/** The profile directory Firefox ESR uses by default under `root`, from installs.ini. */
function defaultProfile(root: string): string {
  const installs = [...readIni(path.join(root, 'installs.ini')).values()];
  const dir = installs.map((s) => s.get('Default')).find((d) => d !== undefined);
  if (!dir) throw new Error(`${root}/installs.ini names no default profile`);
  return path.join(root, dir);
}

/** A user_pref of a prefs.js, as written there (a JSON string or number), or undefined. */
function pref(prefsJs: string, name: string): string | undefined {
  const text = fs.readFileSync(prefsJs, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(`user_pref(${JSON.stringify(name)}, `));
  return line?.slice(`user_pref(${JSON.stringify(name)}, `.length, -');'.length);
}

const firefox = (home: string, args: string[]) =>
  tsjail(['--', 'firefox-esr', '--headless', ...args], { home, timeout: FIREFOX_TIMEOUT });

if (!installed('firefox-esr')) {
  t.skip('firefox-esr is not installed here (.ci/run installs it)', async () => {});
} else {
  for (const where of ['xdg', 'legacy'] as const) {
    const title =
      where === 'xdg'
        ? 'a new profile in ~/.config/mozilla/firefox survives two runs'
        : 'a profile left by an older Firefox in ~/.mozilla/firefox survives two runs';
    t.test(title, async (t) => {
      const home = makeUserDir(`ff-state-${where}`);
      t.teardown(() => removeDir(home));
      const xdgRoot = path.join(home, '.config', 'mozilla', 'firefox');
      const legacyRoot = path.join(home, '.mozilla', 'firefox');
      // What an older Firefox leaves: the folder its profiles live in.
      if (where === 'legacy') for (const d of [path.dirname(legacyRoot), legacyRoot]) mkUserDir(d, 0o700);
      const [root, other] = where === 'xdg' ? [xdgRoot, legacyRoot] : [legacyRoot, xdgRoot];

      const run1 = firefox(home, ['--screenshot', path.join(home, 'Downloads', 'run1.png'), 'about:blank']);
      if (run1.status !== 0) t.comment(run1.stderr.slice(-3000));
      t.equal(run1.status, 0, 'run 1: firefox exited 0');
      t.notMatch(
        run1.stderr,
        /^tsjail: (warning|no profile for)/m,
        'run 1: under the firefox profile, nothing to warn of',
      );
      t.ok(fs.existsSync(path.join(root, 'profiles.ini')), `run 1 made its profile in ${path.relative(home, root)}`);
      t.notOk(fs.existsSync(path.join(other, 'profiles.ini')), `and none in ${path.relative(home, other)}`);
      const dir = defaultProfile(root);
      const prefs = path.join(dir, 'prefs.js');
      const st = fs.statSync(dir);
      t.equal(st.uid, user.uid, "the profile is the user's on the host");
      // A random id Firefox gives a profile when it makes it: a profile made
      // again would have another one (and another folder).
      const id = pref(prefs, 'nimbus.profileId');
      t.match(id, /^"[0-9a-f-]{36}"$/, `run 1 wrote its profile id to ${path.relative(home, prefs)}`);

      const run2Start = Math.floor(Date.now() / 1000);
      const run2 = firefox(home, ['--screenshot', path.join(home, 'Downloads', 'run2.png'), 'about:blank']);
      if (run2.status !== 0) t.comment(run2.stderr.slice(-3000));
      t.equal(run2.status, 0, 'run 2: firefox exited 0');
      t.equal(defaultProfile(root), dir, 'run 2 used the same profile folder');
      t.equal(pref(prefs, 'nimbus.profileId'), id, "run 1's profile id is read back after run 2");
      // Firefox writes the time of every successful start-up to prefs.js.
      t.ok(
        Number(pref(prefs, 'toolkit.startup.last_success')) >= run2Start,
        'prefs.js was written again by run 2 (toolkit.startup.last_success)',
      );
      t.same(
        fs.readdirSync(root).filter((d) => d.endsWith('.default-esr')),
        [path.basename(dir)],
        'no second profile was made',
      );
      t.ok(fs.existsSync(path.join(home, 'Downloads', 'run2.png')), "run 2's screenshot is in ~/Downloads");
    });
  }

  t.test('a download lands in ~/Downloads on the host', async (t) => {
    const home = makeUserDir('ff-download');
    t.teardown(() => removeDir(home));
    const served = makeUserDir('ff-served');
    t.teardown(() => removeDir(served));
    const payload = crypto.randomBytes(1 << 20);
    fs.writeFileSync(path.join(served, 'report.bin'), payload);
    fs.chmodSync(path.join(served, 'report.bin'), 0o644);

    const internet = buildInternet(t);
    let url: string;
    if (typeof internet !== 'string') {
      await httpServer(t, { dir: served, addr: internet.addr, port: 8080, netns: internet.netns, probe: 'report.bin' });
      url = `http://${internet.addr}:8080/report.bin`;
    } else {
      // Without root: the host's loopback, which only the host network reaches.
      const dry = tsjail(['--dry-run', 'firefox-esr'], { home });
      const plan = JSON.parse(dry.stdout) as { namespaces: string[] };
      if (plan.namespaces.includes('net')) {
        t.skip(`the firefox profile has a network of its own and ${internet}`, async () => {});
        return;
      }
      const port = 30000 + (process.pid % 20000);
      await httpServer(t, { dir: served, addr: '127.0.0.1', port, probe: 'report.bin' });
      url = `http://127.0.0.1:${port}/report.bin`;
    }

    const name = `ff-download-${process.pid}`;
    const downloads = path.join(home, 'Downloads');
    const file = path.join(downloads, 'report.bin');
    const running = tsjailAsync(['--name', name, '--', 'firefox-esr', '--headless', url], {
      home,
      timeout: FIREFOX_TIMEOUT,
    });
    let done = false;
    void running.then(() => (done = true));
    // Firefox saves into report.bin.part and renames it when the download is complete.
    const complete = () =>
      fs.existsSync(file) &&
      fs.statSync(file).size === payload.length &&
      !fs.readdirSync(downloads).some((f) => f.endsWith('.part'));
    for (let i = 0; i < FIREFOX_TIMEOUT / 250 && !done && !complete(); i++)
      await new Promise((r) => setTimeout(r, 250));
    const stop = tsjail(['stop', name], { home });
    const r = await running;
    if (!complete()) t.comment(r.stderr.slice(-3000));
    t.ok(complete(), `the download is complete in ${downloads}`);
    t.equal(stop.status, 0, `tsjail stop ended it: ${stop.stderr}`);
    t.equal(r.status, 143, 'firefox ended by SIGTERM (128+15)');
    t.notMatch(r.stderr, /^tsjail: (warning|no profile for)/m, 'under the firefox profile, nothing to warn of');
    t.ok(
      crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') ===
        crypto.createHash('sha256').update(payload).digest('hex'),
      'the bytes served, all of them',
    );
    const st = fs.statSync(downloads);
    t.equal(st.mode & 0o777, 0o700, '~/Downloads, missing before, was made 0700');
    t.equal(st.uid, user.uid, "and is the user's");
    t.equal(fs.statSync(file).uid, user.uid, "the file is the user's");
  });
}
