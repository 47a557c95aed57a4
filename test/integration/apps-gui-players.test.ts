// Issue 12, the graphical half of the profile library (video and music
// players, a sound editor, a screen recorder): each application started by
// name on an Xvfb display of its own, with a session bus of its own as on
// a desktop, showing a file the test made where its profile lets it read,
// and one denial; the harness (what is checked, in words) is runGuiCases
// in test/helpers/apps.ts. No sound server runs here: the players' sound
// goes nowhere (their profiles' pulseaudio socket is absent, and skipped).
import t from 'tap';
import { writeUserFile } from '../helpers/sandbox.js';
import { inHome, runGuiFile, videos, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';
import { tone } from '../helpers/pulse.js';

// Big programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const cases: GuiCase[] = [
  {
    profile: 'vlc',
    program: 'vlc',
    pkg: 'vlc',
    job: 'plays a video of the Videos folder',
    setup: (c) => videos(c),
    // Without the first-run question about fetching metadata on the network.
    args: (c) => ['vlc', '--no-qt-privacy-ask', inHome(c, 'Videos', 'green.mkv')],
    title: /green\.mkv - VLC/,
    colour: GREEN,
    share: 0.05,
    bus: true,
    timeout: 90_000,
  },
  {
    profile: 'totem',
    program: 'totem',
    pkg: 'totem',
    job: 'plays a video of the Videos folder',
    setup: (c) => videos(c, 'green.ogv'),
    args: (c) => ['totem', inHome(c, 'Videos', 'green.ogv')],
    title: /"green\.ogv"/,
    colour: GREEN,
    share: 0.05,
    bus: true,
    timeout: 90_000,
  },
  {
    profile: 'rhythmbox',
    program: 'rhythmbox',
    pkg: 'rhythmbox',
    job: 'shows its library of the Music folder',
    setup: (c) => writeUserFile(inHome(c, 'Music', 'tone.wav'), tone()),
    args: () => ['rhythmbox'],
    title: /"Rhythmbox"/,
    share: 0.3,
    network: true,
    bus: true,
    timeout: 90_000,
  },
  {
    profile: 'audacity',
    program: 'audacity',
    pkg: 'audacity',
    job: 'opens a sound file of the Music folder',
    setup: (c) => writeUserFile(inHome(c, 'Music', 'tone.wav'), tone()),
    args: (c) => ['audacity', inHome(c, 'Music', 'tone.wav')],
    // Its project window is named after the file it opened.
    title: /"tone"/,
    share: 0.3,
    // Its single-instance server on its own loopback (see its profile).
    network: true,
    bus: true,
    timeout: 120_000,
  },
  {
    profile: 'obs',
    program: 'obs',
    pkg: 'obs-studio',
    job: 'shows its main window (OpenGL by Mesa on the CPU)',
    args: () => ['obs'],
    title: /"OBS \d/,
    share: 0.3,
    network: true,
    bus: true,
    timeout: 120_000,
  },
];

await runGuiFile(t, cases);
