// Issue 12, the graphical half of the profile library (documents, text,
// archives, and untrusted-gui): each
// application started by name on an Xvfb display of its own, showing a
// file the test made where its profile lets it read, and one denial; the
// harness (what is checked, in words) is runGuiCases in test/helpers/apps.ts.
import t from 'tap';
import * as fs from 'node:fs';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { greenPdf, tarball } from '../helpers/media.js';

// Eight programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const cases: GuiCase[] = [
  {
    profile: 'zathura',
    program: 'zathura',
    pkg: 'zathura (and zathura-pdf-poppler)',
    job: 'shows a PDF of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'green.pdf'), greenPdf()),
    args: (c) => ['zathura', inHome(c, 'Documents', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.1,
  },
  {
    profile: 'evince',
    program: 'evince',
    pkg: 'evince',
    job: 'shows a PDF of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'green.pdf'), greenPdf()),
    args: (c) => ['evince', inHome(c, 'Documents', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.05,
  },
  {
    profile: 'evince',
    program: 'evince',
    pkg: 'evince',
    job: 'shows a PDF named on its command line, outside the folders it is granted',
    setup: (c) => writeUserFile(inHome(c, 'elsewhere', 'green.pdf'), greenPdf()),
    args: (c) => ['evince', inHome(c, 'elsewhere', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.05,
  },
  {
    profile: 'geany',
    program: 'geany',
    pkg: 'geany',
    job: 'opens a text file of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'notes.txt'), 'hello from the test\n'),
    args: (c) => ['geany', '--no-msgwin', inHome(c, 'Documents', 'notes.txt')],
    title: /notes\.txt/,
    share: 0.3,
  },
  {
    profile: 'gedit',
    program: 'gedit',
    pkg: 'gedit',
    job: 'opens a text file of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'notes.txt'), 'hello from the test\n'),
    args: (c) => ['gedit', inHome(c, 'Documents', 'notes.txt')],
    title: /notes\.txt/,
    share: 0.3,
  },
  {
    profile: 'gedit',
    program: 'gedit',
    pkg: 'gedit (xdotool types into it)',
    job: 'saves a text file named on its command line, outside the folders it is granted',
    setup: (c) => writeUserFile(inHome(c, 'elsewhere', 'letter.txt'), 'Dear reader,\n'),
    args: (c) => ['gedit', inHome(c, 'elsewhere', 'letter.txt')],
    title: /letter\.txt/,
    // Types at the end and presses Ctrl+S, then waits for the file to change.
    act: (c) => {
      const f = JSON.stringify(inHome(c, 'elsewhere', 'letter.txt'));
      return [
        `w=$(xdotool search --name 'letter\\.txt' | head -1)`,
        'xdotool windowfocus --sync "$w"',
        'xdotool key --clearmodifiers ctrl+End',
        "xdotool type --delay 30 ' saved by gedit'",
        'xdotool key --clearmodifiers ctrl+s',
        `for i in $(seq 40); do grep -q 'saved by gedit' ${f} && exit 0; sleep 0.5; done; exit 1`,
      ].join('\n');
    },
    acted: (t, c) =>
      t.equal(
        fs.readFileSync(inHome(c, 'elsewhere', 'letter.txt'), 'utf8'),
        // gedit keeps the last line's newline apart: the text goes on that line.
        'Dear reader, saved by gedit\n',
        'the file was saved with the typed text, outside too',
      ),
    share: 0.3,
  },
  {
    profile: 'file-roller',
    program: 'file-roller',
    pkg: 'file-roller',
    job: 'lists an archive of the Downloads folder',
    setup: (c) => tarball(c, inHome(c, 'Downloads'), 'src', inHome(c, 'Downloads', 'bundle.tar')),
    args: (c) => ['file-roller', inHome(c, 'Downloads', 'bundle.tar')],
    title: /bundle\.tar/,
    share: 0.2,
  },
  {
    profile: 'untrusted-gui',
    // xlogo is in x11-apps, beside xwd, which the harness needs.
    program: 'Xephyr',
    pkg: 'xserver-xephyr',
    job: 'a program it does not trust draws on a nested X server of its own',
    args: () => ['-p', 'untrusted-gui', 'xlogo', '-geometry', '400x300+0+0'],
    // Xephyr's window on the test's display; xlogo's own lives on Xephyr's
    // server only, so the desktop's clients never see it.
    title: /Xephyr/,
    absent: /"xlogo"/,
    // xlogo's white (400x300, less its black X) drawn inside Xephyr, whose
    // own root is black: the program's pixels reached the screen only
    // through its nested server.
    colour: [255, 255, 255],
    share: 0.1,
  },
];

await runGuiFile(t, cases);
