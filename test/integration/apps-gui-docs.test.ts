// Issue 12, the graphical half of the profile library (documents, text and archives): each application
// started by name (`tsjail evince FILE`, the profile found by its `command`)
// on an Xvfb display of its own, opening a file the test made where the
// profile lets it read (a green PDF page, a green picture, a green video,
// a text file), and showing it: a window with that name appears and the
// screenshot holds the app's pixels. The denial: under the same profile a
// probe finds no planted secret of the home folder and, where the profile
// grants no network, cannot reach a loopback server. The harness is
// test/helpers/apps.ts.
import t from 'tap';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { asUser, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { onUserPath, runGuiCases, serve, type AppContext, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { greenPdf } from '../helpers/media.js';
import { ensureX11Dir } from '../helpers/xvfb.js';

const missing = ['Xvfb', 'xauth', 'xwd', 'xwininfo'].filter((p) => !onUserPath(p));
const inHome = (c: AppContext, ...p: string[]) => path.join(c.home, ...p);

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
    profile: 'file-roller',
    program: 'file-roller',
    pkg: 'file-roller',
    job: 'lists an archive of the Downloads folder',
    setup: (c) => {
      writeUserFile(inHome(c, 'Downloads', 'src', 'a.txt'), 'in the archive\n');
      const argv = asUser(
        ['tar', '-C', inHome(c, 'Downloads'), '-cf', inHome(c, 'Downloads', 'bundle.tar'), 'src'],
        userEnv({ home: c.home }),
      );
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
    },
    args: (c) => ['file-roller', inHome(c, 'Downloads', 'bundle.tar')],
    title: /bundle\.tar/,
    share: 0.2,
  },
];

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  ensureX11Dir();
  const server = await serve(t, {});
  await runGuiCases(t, cases, { url: server.url });
}
