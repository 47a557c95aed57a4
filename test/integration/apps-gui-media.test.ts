// Issue 12, the graphical half of the profile library (pictures, video and sound): each
// application started by name on an Xvfb display of its own, showing a
// file the test made where its profile lets it read, and one denial; the
// harness (what is checked, in words) is runGuiCases in test/helpers/apps.ts.
import t from 'tap';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, videos, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { solidPng } from '../helpers/media.js';
import { tone } from '../helpers/pulse.js';

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
    setup: videos,
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

await runGuiFile(t, cases);
