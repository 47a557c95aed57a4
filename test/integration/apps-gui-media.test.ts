// Issue 12, the graphical half of the profile library (pictures, video and sound): each application
// started by name (`tsjail evince FILE`, the profile found by its `command`)
// on an Xvfb display of its own, opening a file the test made where the
// profile lets it read (a green PDF page, a green picture, a green video,
// a text file), and showing it: a window with that name appears and the
// screenshot holds the app's pixels. The denial: under the same profile a
// probe finds no planted secret of the home folder and, where the profile
// grants no network, cannot reach a loopback server. The harness is
// test/helpers/apps.ts.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeUserFile } from '../helpers/sandbox.js';
import { onUserPath, runGuiCases, serve, type AppContext, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { greenVideo, solidPng } from '../helpers/media.js';
import { tone } from '../helpers/pulse.js';
import { ensureX11Dir } from '../helpers/xvfb.js';

const missing = ['Xvfb', 'xauth', 'xwd', 'xwininfo'].filter((p) => !onUserPath(p));
const inHome = (c: AppContext, ...p: string[]) => path.join(c.home, ...p);

const cases: GuiCase[] = [
  {
    profile: 'eog',
    program: 'eog',
    pkg: 'eog',
    job: 'shows a picture of the Pictures folder',
    setup: (c) => writeUserFile(inHome(c, 'Pictures', 'green.png'), solidPng(300, 200, GREEN)),
    args: (c) => ['eog', inHome(c, 'Pictures', 'green.png')],
    title: /green\.png/,
    colour: GREEN,
    share: 0.05,
  },
  {
    profile: 'mpv',
    program: 'mpv',
    pkg: 'mpv',
    job: 'plays a video of the Videos folder',
    setup: (c) => {
      fs.mkdirSync(inHome(c, 'Videos'));
      fs.chownSync(inHome(c, 'Videos'), fs.statSync(c.home).uid, fs.statSync(c.home).gid);
      greenVideo(c, inHome(c, 'Videos', 'green.mkv'), 60);
    },
    args: (c) => ['mpv', '--no-config', '--vo=x11', '--hwdec=no', '--ao=null', inHome(c, 'Videos', 'green.mkv')],
    title: /green\.mkv/,
    colour: GREEN,
    share: 0.1,
  },
  {
    profile: 'gimp',
    program: 'gimp',
    pkg: 'gimp',
    job: 'opens a picture of the Pictures folder',
    setup: (c) => writeUserFile(inHome(c, 'Pictures', 'green.png'), solidPng(300, 200, GREEN)),
    args: (c) => ['gimp', '--no-splash', '--no-data', '--no-fonts', inHome(c, 'Pictures', 'green.png')],
    title: /\[green\]/,
    colour: GREEN,
    // GIMP opens a 1024x768 window on the 800x600 screen, most of it off
    // screen: the visible part of the picture is a few thousand pixels.
    share: 0.001,
    timeout: 120_000,
  },
  {
    profile: 'audacious',
    program: 'audacious',
    pkg: 'audacious',
    job: 'opens a sound file of the Music folder',
    setup: (c) => writeUserFile(inHome(c, 'Music', 'tone.wav'), tone()),
    args: (c) => ['audacious', '--enqueue', inHome(c, 'Music', 'tone.wav')],
    title: /Audacious|tone/,
    share: 0.1,
  },
];

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  ensureX11Dir();
  const server = await serve(t, {});
  await runGuiCases(t, cases, { url: server.url });
}
