// Issue 12, the graphical half of the profile library (KDE and Qt
// programs: documents, text, archives, passwords): each application started
// by name on an Xvfb display of its own, showing a file the test made where
// its profile lets it read, and one denial; the harness (what is checked,
// in words) is runGuiCases in test/helpers/apps.ts.
import t from 'tap';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { greenPdf, tarball } from '../helpers/media.js';

const cases: GuiCase[] = [
  {
    profile: 'okular',
    program: 'okular',
    pkg: 'okular',
    job: 'shows a PDF of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'green.pdf'), greenPdf()),
    args: (c) => ['okular', inHome(c, 'Documents', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.05,
    timeout: 90_000,
  },
  {
    profile: 'kate',
    program: 'kate',
    pkg: 'kate',
    job: 'opens a text file of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'notes.txt'), 'hello from the test\n'),
    args: (c) => ['kate', inHome(c, 'Documents', 'notes.txt')],
    title: /notes\.txt/,
    share: 0.3,
    timeout: 90_000,
  },
  {
    profile: 'ark',
    program: 'ark',
    pkg: 'ark',
    job: 'lists an archive of the Downloads folder',
    setup: (c) => tarball(c, inHome(c, 'Downloads'), 'src', inHome(c, 'Downloads', 'bundle.tar')),
    args: (c) => ['ark', inHome(c, 'Downloads', 'bundle.tar')],
    title: /bundle\.tar/,
    share: 0.2,
    timeout: 90_000,
  },
  {
    profile: 'keepassxc',
    program: 'keepassxc',
    pkg: 'keepassxc',
    job: 'shows its main window',
    args: () => ['keepassxc'],
    title: /KeePassXC/,
    share: 0.2,
    timeout: 90_000,
  },
];

await runGuiFile(t, cases);
