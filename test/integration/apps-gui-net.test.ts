// Issue 12, the graphical half of the profile library (chat and transfer: profiles with the network): each
// application started by name on an Xvfb display of its own, showing a
// file the test made where its profile lets it read, and one denial; the
// harness (what is checked, in words) is runGuiCases in test/helpers/apps.ts.
import t from 'tap';
import { runGuiFile, type GuiCase } from '../helpers/apps.js';

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

await runGuiFile(t, cases);
