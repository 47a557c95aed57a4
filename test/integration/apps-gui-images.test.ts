// Issue 12, the graphical half of the profile library (painting and photo
// management): each application started by name on an Xvfb display of its
// own, showing a picture the test made in the Pictures folder, and one
// denial; the harness (what is checked, in words) is runGuiCases in
// test/helpers/apps.ts.
import t from 'tap';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, type AppContext, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { solidPng } from '../helpers/media.js';

// Big programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const picture = (c: AppContext) => writeUserFile(inHome(c, 'Pictures', 'green.png'), solidPng(300, 200, GREEN));

const cases: GuiCase[] = [
  {
    profile: 'krita',
    program: 'krita',
    pkg: 'krita',
    job: 'opens a picture of the Pictures folder',
    setup: picture,
    args: (c) => ['krita', '--nosplash', inHome(c, 'Pictures', 'green.png')],
    title: /green\.png/,
    colour: GREEN,
    // Its canvas shows the picture between dockers and toolbars.
    share: 0.01,
    timeout: 150_000,
  },
  {
    profile: 'shotwell',
    program: 'shotwell',
    pkg: 'shotwell',
    job: 'shows a picture of the Pictures folder',
    setup: picture,
    args: (c) => ['shotwell', inHome(c, 'Pictures', 'green.png')],
    title: /green\.png/,
    colour: GREEN,
    share: 0.05,
    timeout: 90_000,
  },
];

await runGuiFile(t, cases);
