// `tsjail profile explain firefox|chromium`: what the browser may touch, in
// plain words, each line naming the profile line it comes from.
import t from 'tap';
import { join } from 'node:path';
import { explainProfile } from '../../../src/policy/explain.js';
import { buildVarContext, loadProfile } from '../../../src/profile/index.js';
import { REPO } from '../../helpers/sandbox.js';

const vars = buildVarContext({
  env: { XDG_RUNTIME_DIR: '/run/user/1000' },
  uid: 1000,
  user: 'u',
  home: '/home/u',
  cwd: '/home/u',
  userDirsText: null,
});
const searchPath = [join(REPO, 'profiles')];

for (const [name, own] of [
  ['firefox', '/home/u/.mozilla'],
  ['chromium', '/home/u/.config/chromium'],
] as const) {
  t.test(name, async (t) => {
    const text = explainProfile(loadProfile(name, { vars, searchPath }), { home: '/home/u' });
    t.match(text, `may read and change ${own}`, 'its own profile folder');
    t.match(text, 'may read and change /home/u/Downloads', 'Downloads');
    t.match(text, 'gets an empty private folder at /home/u', 'the rest of home is an empty private folder');
    for (const secret of ['.ssh', '.gnupg']) t.match(text, `can never see /home/u/${secret}`);
    t.notMatch(text, 'WARNING', 'no warning about the whole home');
    t.match(text, /may open windows on your Wayland desktop/);
    t.match(text, /may play and record sound through PulseAudio, through a filter/);
    t.match(text, /may not load modules/, 'says what the sound filter refuses');
    t.match(text, /may call and hear org\.freedesktop\.Notifications on the session bus/);
    t.match(text, /nothing else on D-Bus: no terminal, no systemd/);
    t.match(
      text,
      /the internet through its own network namespace \(pasta\).*where pasta cannot run, network "host" instead/,
    );
    t.match(text, /may build its own sandbox inside this one/);
    const files = text
      .slice(0, text.indexOf('Devices:'))
      .split('\n')
      .filter((l) => /^ {2}may |^ {2}can never|^ {2}gets /.test(l));
    t.ok(files.length > 5);
    for (const l of files)
      if (!l.includes('the system runtime')) t.match(l, /\[[^\]]+:\d+\]$/, `"${l.trim()}" names its profile line`);
  });
}
