// Issue 12, the graphical half of the profile library (mail clients and a
// web browser, with the network): each application started by name on an
// Xvfb display of its own, showing its main window (the browser: a page of
// the Downloads folder), and one denial, a home secret it cannot read; the
// harness (what is checked, in words) is runGuiCases in test/helpers/apps.ts.
import t from 'tap';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';

// Big programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const cases: GuiCase[] = [
  {
    profile: 'thunderbird',
    program: 'thunderbird',
    pkg: 'thunderbird',
    job: 'shows its main window',
    args: () => ['thunderbird'],
    title: /Thunderbird/,
    share: 0.2,
    network: true,
    timeout: 120_000,
  },
  {
    profile: 'claws-mail',
    program: 'claws-mail',
    pkg: 'claws-mail',
    job: 'shows its configuration wizard',
    args: () => ['claws-mail'],
    title: /Claws Mail/,
    share: 0.1,
    network: true,
  },
  {
    profile: 'evolution',
    program: 'evolution',
    pkg: 'evolution',
    job: 'shows its first-run assistant',
    args: () => ['evolution'],
    title: /"Welcome"/,
    share: 0.3,
    network: true,
    // Its accounts come from evolution-data-server, which the bus starts.
    bus: true,
    timeout: 120_000,
  },
  {
    profile: 'epiphany',
    program: 'epiphany',
    pkg: 'epiphany-browser',
    job: 'shows a page of the Downloads folder',
    setup: (c) =>
      writeUserFile(
        inHome(c, 'Downloads', 'green.html'),
        '<!doctype html><title>tsjail green page</title><body style="margin:0;background:#00c000"></body>\n',
      ),
    args: (c) => ['epiphany', `file://${inHome(c, 'Downloads', 'green.html')}`],
    title: /tsjail green page/,
    colour: GREEN,
    share: 0.3,
    network: true,
    // GNOME Web quits without a session bus (its application name).
    bus: true,
    timeout: 120_000,
  },
];

await runGuiFile(t, cases);
