/**
 * A real PulseAudio daemon for the sound tests, run as the test user on a
 * private socket with a null sink (tsjail_null), and the tone the tests
 * play into it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asUser, makeUserDir, mkUserDir, userEnv, type RunOptions } from './sandbox.js';

/** One second of a 440 Hz tone, 16-bit mono at 44.1 kHz, as a WAV file. */
export function tone(): Buffer {
  const rate = 44100;
  const data = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++) data.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
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
export function peak(raw: Buffer): number {
  let max = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) max = Math.max(max, Math.abs(raw.readInt16LE(i)));
  return max;
}

export interface Pulse {
  daemon: ChildProcess;
  /** Resolves once `pactl info` answers (rejects after 15 s with the daemon's log). */
  ready(): Promise<void>;
}

/** Start pulseaudio as the test user on `socket`, with a null sink and `modules` (load-module lines). */
export function startPulse(opts: RunOptions, socket: string, modules: string[] = []): Pulse {
  const argv = asUser(
    [
      'pulseaudio',
      '-n',
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--use-pid-file=no',
      '--log-target=stderr',
      ...[
        `module-native-protocol-unix socket=${socket}`,
        'module-null-sink sink_name=tsjail_null',
        'module-always-sink',
        ...modules,
      ].flatMap((m) => ['-L', m]),
    ],
    userEnv(opts),
  );
  const daemon = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (d) => (log += d));
  const ready = async (): Promise<void> => {
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const a = asUser(['pactl', 'info'], userEnv(opts));
      if (spawnSync(a[0]!, a.slice(1), { timeout: 5000 }).status === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`PulseAudio did not start: ${log}`);
  };
  return { daemon, ready };
}

/** A home for the test user with a private runtime directory, and the environment that names the daemon's socket there. */
export function soundHome(prefix: string): { home: string; runtime: string; socket: string; opts: RunOptions } {
  const home = makeUserDir(prefix);
  const runtime = path.join(home, 'run');
  mkUserDir(runtime, 0o700);
  mkUserDir(path.join(home, '.config'));
  const socket = path.join(runtime, 'pulse', 'native');
  return { home, runtime, socket, opts: { home, env: { XDG_RUNTIME_DIR: runtime, PULSE_SERVER: `unix:${socket}` } } };
}

/** parec on the null sink's monitor, raw s16le mono at 44.1 kHz on stdout. */
export const PAREC = [
  'parec',
  '-d',
  'tsjail_null.monitor',
  '--format=s16le',
  '--rate=44100',
  '--channels=1',
  '--latency-msec=20',
];

export interface Recorder {
  /** SIGTERM, wait for the exit, and what was recorded. */
  stop(): Promise<Buffer>;
  stderr(): string;
}

/**
 * Run `argv` (a recorder writing audio to stdout) in the background. Its
 * stdout is a file, not a pipe to this process: a test that waits in
 * spawnSync (a sandbox starting, slowly on a loaded machine) would leave a
 * pipe unread, the recorder blocked once 64 KiB of silence filled it, and
 * the server dropping what it heard meanwhile.
 */
export function record(argv: string[], cwd?: string): Recorder {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-rec-'));
  const file = path.join(dir, 'audio.raw');
  const out = fs.openSync(file, 'w', 0o600);
  const rec = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, 'pipe'], cwd });
  fs.closeSync(out);
  let err = '';
  rec.stderr!.on('data', (d) => (err += d));
  const exited = new Promise((r) => rec.on('exit', r));
  return {
    async stop() {
      rec.kill('SIGTERM');
      await exited;
      const audio = fs.readFileSync(file);
      fs.rmSync(dir, { recursive: true, force: true });
      return audio;
    },
    stderr: () => err,
  };
}
