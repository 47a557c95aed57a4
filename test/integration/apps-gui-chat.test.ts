// Issue 12, the graphical half of the profile library (chat and file
// sharing, with the network): each application started by name on an Xvfb
// display of its own, with a session bus of its own as on a desktop,
// showing its first window, and one denial, a home secret it cannot read;
// the harness (what is checked, in words) is runGuiCases in
// test/helpers/apps.ts.
import t from 'tap';
import { runGuiFile, type GuiCase } from '../helpers/apps.js';

// Big programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const cases: GuiCase[] = [
  {
    profile: 'qbittorrent',
    program: 'qbittorrent',
    pkg: 'qbittorrent',
    job: 'shows its first-run legal notice',
    args: () => ['qbittorrent'],
    title: /"Legal notice"|"qBittorrent/,
    share: 0.05,
    network: true,
    bus: true,
    timeout: 90_000,
  },
  {
    profile: 'telegram-desktop',
    program: 'telegram-desktop',
    pkg: 'telegram-desktop',
    job: 'shows its welcome window',
    args: () => ['telegram-desktop'],
    title: /"Telegram"/,
    share: 0.3,
    network: true,
    bus: true,
    timeout: 90_000,
  },
  {
    profile: 'gajim',
    program: 'gajim',
    pkg: 'gajim',
    job: 'shows its window to add an account',
    args: () => ['gajim'],
    title: /"Add Account"/,
    share: 0.2,
    network: true,
    bus: true,
    timeout: 90_000,
  },
];

await runGuiFile(t, cases);
