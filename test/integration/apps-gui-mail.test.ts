// Issue 12, the graphical half of the profile library (mail clients, with
// the network): each application started by name on an Xvfb display of its
// own, showing its main window, and one denial, a home secret it cannot
// read; the harness (what is checked, in words) is runGuiCases in
// test/helpers/apps.ts.
import t from 'tap';
import { runGuiFile, type GuiCase } from '../helpers/apps.js';

// Big programs, two at a time on two shared cores: more than tap's 300 s per file under load.
t.setTimeout(900_000);

const cases: GuiCase[] = [
  {
    profile: 'thunderbird',
    program: 'thunderbird',
    pkg: 'thunderbird',
    job: 'shows its main window',
    args: () => ['thunderbird'],
    title: /Thunderbird/,
    share: 0.2,
    network: true,
    timeout: 120_000,
  },
  {
    profile: 'claws-mail',
    program: 'claws-mail',
    pkg: 'claws-mail',
    job: 'shows its configuration wizard',
    args: () => ['claws-mail'],
    title: /Claws Mail/,
    share: 0.1,
    network: true,
  },
];

await runGuiFile(t, cases);
