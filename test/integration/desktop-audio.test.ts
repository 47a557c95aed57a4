// Issue 5, sound: a player under the pulseaudio snippet plays a generated
// tone into a PulseAudio server the test starts as the test user (private
// socket, cookie authentication, a null sink); a recorder on the sink's
// monitor outside the sandbox hears it. Without the snippet the same player
// finds no server, and the recording stays silent.
import t from 'tap';
import * as path from 'node:path';
import { asUser, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';
import { PAREC, peak, record, soundHome, startPulse, tone } from '../helpers/pulse.js';

const missing = ['pulseaudio', 'paplay', 'parec', 'pactl'].filter((p) => !installed(p));

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  const { home, socket, opts } = soundHome('audio');
  const media = path.join(home, 'media');
  writeUserFile(path.join(media, 'tone.wav'), tone());
  const pulse = startPulse(opts, socket);
  t.teardown(() => {
    pulse.daemon.kill('SIGKILL');
    removeDir(home);
  });

  const profile = (name: string, includes: string[]) => {
    const file = path.join(home, `${name}.json5`);
    writeUserFile(
      file,
      `{ include: ${JSON.stringify(includes)}, filesystem: { tmpfs: ["\${HOME}"], ro: ["${media}"] } }\n`,
    );
    return file;
  };

  /** Play the tone in a sandbox under `prof` while recording the null sink's monitor outside. */
  const playAndRecord = async (prof: string) => {
    const rec = record(asUser(PAREC, userEnv(opts)));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const play = tsjail(['-p', prof, 'paplay', '-d', 'tsjail_null', path.join(media, 'tone.wav')], {
      ...opts,
      timeout: 30_000,
    });
    const ms = Date.now() - started;
    await new Promise((r) => setTimeout(r, 300));
    const raw = await rec.stop();
    return { play, raw, ms };
  };

  t.before(() => pulse.ready());

  t.test('the pulseaudio snippet: the tone reaches the sink', async (t) => {
    const { play, raw, ms } = await playAndRecord(profile('with-audio', ['pulseaudio']));
    t.comment(`paplay of a 1 s tone in the sandbox: ${ms} ms`);
    t.equal(play.status, 0, `paplay exited 0 ${play.stderr}`);
    t.ok(raw.length > 44100, `recorded ${raw.length} bytes`);
    t.ok(peak(raw) > 4000, `the recording is not silent (peak ${peak(raw)})`);
  });

  t.test('without it: no server, and silence', async (t) => {
    const { play, raw } = await playAndRecord(profile('without-audio', []));
    t.not(play.status, 0, 'paplay fails');
    t.match(play.stderr, /Connection refused|No such file|Connection failure|Access denied/i, play.stderr.trim());
    t.ok(peak(raw) < 100, `silence (peak ${peak(raw)})`);
  });
}
