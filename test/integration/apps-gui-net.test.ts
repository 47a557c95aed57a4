// Issue 12, the graphical half of the profile library (chat and transfer (profiles with the network)): each application
// started by name (`tsjail evince FILE`, the profile found by its `command`)
// on an Xvfb display of its own, opening a file the test made where the
// profile lets it read (a green PDF page, a green picture, a green video,
// a text file), and showing it: a window with that name appears and the
// screenshot holds the app's pixels. The denial: under the same profile a
// probe finds no planted secret of the home folder and, where the profile
// grants no network, cannot reach a loopback server. The harness is
// test/helpers/apps.ts.
import t from 'tap';
import { onUserPath, runGuiCases, serve, type GuiCase } from '../helpers/apps.js';
import { ensureX11Dir } from '../helpers/xvfb.js';

const missing = ['Xvfb', 'xauth', 'xwd', 'xwininfo'].filter((p) => !onUserPath(p));

const cases: GuiCase[] = [
  {
    profile: 'hexchat',
    program: 'hexchat',
    pkg: 'hexchat',
    job: 'shows its network list',
    args: () => ['hexchat'],
    title: /HexChat/,
    share: 0.05,
    network: true,
  },
  {
    profile: 'pidgin',
    program: 'pidgin',
    pkg: 'pidgin',
    job: 'shows its accounts window',
    args: () => ['pidgin'],
    title: /Accounts|Pidgin/,
    share: 0.05,
    network: true,
  },
  {
    profile: 'transmission-gtk',
    program: 'transmission-gtk',
    pkg: 'transmission-gtk',
    job: 'shows its main window',
    args: () => ['transmission-gtk'],
    title: /Transmission/,
    share: 0.05,
    network: true,
  },
];

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  ensureX11Dir();
  const server = await serve(t, {});
  await runGuiCases(t, cases, { url: server.url });
}
