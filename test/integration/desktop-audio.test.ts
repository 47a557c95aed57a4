// Issue 5, sound: a player under the pulseaudio snippet plays a generated
// tone into a PulseAudio server the test starts as the test user (private
// socket, cookie authentication, a null sink); a recorder on the sink's
// monitor outside the sandbox hears it. Without the snippet the same player
// finds no server, and the recording stays silent.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asUser, makeUserDir, mkUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { installed } from '../helpers/browser.js';

const missing = ['pulseaudio', 'paplay', 'parec', 'pactl'].filter((p) => !installed(p));

/** One second of a 440 Hz tone, 16-bit mono at 44.1 kHz, as a WAV file. */
function tone(): Buffer {
  const rate = 44100;
  const samples = rate;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** The loudest sample of raw s16le audio. */
function peak(raw: Buffer): number {
  let max = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) max = Math.max(max, Math.abs(raw.readInt16LE(i)));
  return max;
}

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`);
} else {
  const home = makeUserDir('audio');
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  mkUserDir(path.join(home, '.config'));
  const media = path.join(home, 'media');
  writeUserFile(path.join(media, 'tone.wav'), tone());
  const socket = path.join(runtime, 'pulse', 'native');
  const env = { XDG_RUNTIME_DIR: runtime, PULSE_SERVER: `unix:${socket}` };
  const opts = { home, env };
  const paArgv = asUser(
    [
      'pulseaudio',
      '-n',
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--use-pid-file=no',
      '--log-target=stderr',
      '-L',
      `module-native-protocol-unix socket=${socket}`,
      '-L',
      'module-null-sink sink_name=tsjail_null',
      '-L',
      'module-always-sink',
    ],
    userEnv(opts),
  );
  const pa: ChildProcess = spawn(paArgv[0]!, paArgv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let paLog = '';
  pa.stderr!.on('data', (d) => (paLog += d));
  t.teardown(() => {
    pa.kill('SIGKILL');
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
    const recArgv = asUser(
      ['parec', '-d', 'tsjail_null.monitor', '--format=s16le', '--rate=44100', '--channels=1', '--latency-msec=20'],
      userEnv(opts),
    );
    const rec = spawn(recArgv[0]!, recArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    rec.stdout!.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const play = tsjail(['-p', prof, 'paplay', '-d', 'tsjail_null', path.join(media, 'tone.wav')], {
      ...opts,
      timeout: 30_000,
    });
    const ms = Date.now() - started;
    await new Promise((r) => setTimeout(r, 300));
    const done = new Promise((r) => rec.on('exit', r));
    rec.kill('SIGTERM');
    await done;
    return { play, raw: Buffer.concat(chunks), ms };
  };

  t.before(async () => {
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const argv = asUser(['pactl', 'info'], userEnv(opts));
      if (spawnSync(argv[0]!, argv.slice(1), { timeout: 5000 }).status === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`PulseAudio did not start: ${paLog}`);
  });

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
