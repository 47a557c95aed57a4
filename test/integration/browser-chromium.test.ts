// Issue 5: Chromium from Debian under profiles/chromium.json5, headless,
// with its own sandbox active (not --no-sandbox): it renders a local page to
// a screenshot under its profile folder, a page cannot read the user's
// secrets while it can read a file of its own, and its renderers run in
// Chromium's own user and PID namespaces under a second seccomp filter.
// Over its private network it loads a page of the test internet and cannot
// reach the host's loopback.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeUserDir, mkUserDir, removeDir, tsjail, writeUserFile } from '../helpers/sandbox.js';
import {
  installed,
  netPagesSkip,
  plantSecrets,
  serveNetPages,
  shotColours,
  writeProbePage,
} from '../helpers/browser.js';

// The network here is closed: no background requests, no first-run UI.
const QUIET = [
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-gpu',
];

if (!installed('chromium')) {
  t.skip('chromium is not installed here (.ci/run installs it)', async () => {});
} else {
  const home = makeUserDir('chromium');
  t.teardown(() => removeDir(home));
  const secrets = plantSecrets(home);
  const work = path.join(home, '.config', 'chromium', 'tsjail-test');
  mkUserDir(path.join(home, '.cache', 'chromium'));
  mkUserDir(path.join(home, 'Downloads'));
  const page = writeProbePage(work, secrets);

  const screenshot = (name: string, extra: string[] = [], url = `file://${page}`) => {
    const shot = path.join(work, `${name}.png`);
    const started = Date.now();
    const r = tsjail(
      [
        ...extra,
        'chromium',
        '--headless',
        ...QUIET,
        `--user-data-dir=${path.join(work, name)}`,
        // Sync XHRs between file: URLs (the probes) need this switch.
        '--allow-file-access-from-files',
        '--window-size=400,300',
        `--screenshot=${shot}`,
        url,
      ],
      { home, timeout: 120_000 },
    );
    return { r, shot, ms: Date.now() - started };
  };

  t.test('renders a local page to a screenshot under its profile; the secrets stay unreadable', async (t) => {
    const { r, shot, ms } = screenshot('p1');
    t.comment(`chromium headless screenshot under the chromium profile: ${ms} ms`);
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.equal(r.status, 0, 'chromium exited 0');
    t.notMatch(
      r.stderr,
      /--no-sandbox|Running without the SUID sandbox|No usable sandbox/,
      'Chromium did not give up its sandbox',
    );
    t.ok(fs.existsSync(shot), 'the screenshot was written under ~/.config/chromium');
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
      '{ include: ["desktop"], filesystem: { tmpfs: ["${HOME}"], rw: ["${HOME}/.config/chromium"], ro: ["${HOME}/.ssh", "/etc/chromium", "/etc/chromium.d"] }, nestedSandbox: true }\n',
    );
    const { r, shot } = screenshot('p2', ['-p', leaky]);
    if (r.status !== 0) t.comment(r.stderr.slice(-3000));
    t.equal(r.status, 0, 'chromium exited 0');
    const c = shotColours(shot);
    t.ok(c.red > 0.95, `red: the page read ~/.ssh/id_probe (${(c.red * 100).toFixed(1)}%)`);
  });

  t.test(
    "Chromium's own sandbox is active: renderers in their own namespaces, under a second seccomp filter",
    async (t) => {
      // Chromium runs in the background of a shell in the same sandbox, which
      // lists every process's user and PID namespace, seccomp filter count and
      // command line, then stops it.
      const script = [
        `chromium --headless ${QUIET.join(' ')} --user-data-dir="$HOME/.config/chromium/tsjail-test/p3" "file://${page}" 2>/dev/null &`,
        // Anchored at the start of the command line, so this shell's own text does not match.
        "i=0; while [ $i -lt 150 ]; do pgrep -f -- '^/usr/lib/chromium/chromium .*--type=renderer' >/dev/null && break; sleep 0.2; i=$((i+1)); done; sleep 1",
        'for p in /proc/[0-9]*; do',
        '  printf "%s %s %s %s %s\\n" "${p#/proc/}" "$(readlink $p/ns/user)" "$(readlink $p/ns/pid)" "$(sed -n "s/^Seccomp_filters:[[:space:]]*//p" $p/status)" "$(tr "\\0\\n" "  " < $p/cmdline | cut -c1-200)"',
        'done',
        'kill $! 2>/dev/null; wait',
      ].join('\n');
      const r = tsjail(['-p', 'chromium', '--', '/bin/sh', '-c', script], { home, timeout: 120_000 });
      if (r.status !== 0) t.comment(r.stderr.slice(-3000));
      t.equal(r.status, 0, 'the shell exited 0');
      const procs = r.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const [pid, userns, pidns, filters, ...cmd] = l.split(' ');
          return { pid, userns, pidns, filters: Number(filters), cmd: cmd.join(' ') };
        });
      const shell = procs.find((p) => p.pid === '2');
      const renderers = procs.filter((p) => /^\S*chromium\S* .*--type=renderer/.test(p.cmd));
      t.ok(shell, 'the shell (PID 2) is listed');
      t.ok(renderers.length > 0, `renderer processes exist (${renderers.length})`);
      for (const p of renderers) {
        t.not(p.userns, shell!.userns, `renderer ${p.pid} is in Chromium's own user namespace`);
        t.not(p.pidns, shell!.pidns, `renderer ${p.pid} is in Chromium's own PID namespace`);
        t.ok(p.filters >= 2, `renderer ${p.pid} runs under tsjail's and Chromium's seccomp filters (${p.filters})`);
      }
      t.notOk(
        procs.some((p) => p.cmd.includes('--no-sandbox')),
        'no process runs with --no-sandbox',
      );
    },
  );

  /** The DOM of `url` once loaded and its scripts run (--dump-dom), under a fresh profile `name`. */
  const dumpDom = (name: string, url: string, extra: string[] = []) =>
    tsjail(
      [...extra, 'chromium', '--headless', ...QUIET, `--user-data-dir=${path.join(work, name)}`, '--dump-dom', url],
      { home, timeout: 120_000 },
    );

  // Issue 16: the chromium profile's network is "private" (pasta): a page on
  // the test internet loads, with its script and a file it fetches; the
  // host's loopback does not answer a top-level load (which Chromium's own
  // Local Network Access checks leave alone), though the same browser gets
  // the page under --net host (the control).
  t.test(
    'over its private network: a page of the internet loads, the host loopback does not',
    { skip: netPagesSkip() },
    async (t) => {
      const pages = await serveNetPages(t);
      const net = screenshot('net1', [], pages.internet);
      if (net.r.status !== 0) t.comment(net.r.stderr.slice(-3000));
      t.equal(net.r.status, 0, 'chromium exited 0');
      t.notMatch(net.r.stderr, /network\.fallback/, 'its own network, not the fallback');
      const c = shotColours(net.shot);
      t.equal(c.blue, 0, "the page's script read token.txt from its server");
      t.ok(c.green > 0.95, `${pages.internet} arrived and its script ran: green (${(c.green * 100).toFixed(1)}%)`);
      const dom = dumpDom('net2', pages.internet);
      t.match(dom.stdout, `<title>token=${pages.token} `, "the page's DOM after its script: the token it fetched");
      const lo = dumpDom('net3', pages.loopback);
      t.match(
        lo.stderr,
        'Page load failed: net::ERR_CONNECTION_REFUSED',
        'refused: nothing listens there in its own network',
      );
      t.notMatch(lo.stdout, /host loopback/, `${pages.loopback} is out of reach`);
      const host = dumpDom('net4', pages.loopback, ['--net', 'host']);
      if (host.status !== 0) t.comment(host.stderr.slice(-3000));
      t.match(host.stdout, '<title>host loopback</title>', 'control: under --net host the same browser loads it');
    },
  );

  t.test('nothing was written outside its own folders', async (t) => {
    t.same(fs.readdirSync(path.join(home, 'Downloads')), [], 'Downloads untouched');
    for (const s of secrets)
      t.match(fs.readFileSync(s, 'utf8'), /^PROBE-SECRET/, `${path.relative(home, s)} unchanged`);
  });
}
