// tsjail-pulse-filter's parser under libFuzzer, ASan and UBSan: the frames
// and tagstructs a sandboxed program writes to it, and its decisions on them
// (shim-c/fuzz/pulse-fuzz.c checks every frame it forwards against its
// rules). The filter runs outside the sandbox, so a bug here runs as the
// user. The run's length is TSJAIL_FUZZ_SECONDS (default 60, CI's budget).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FUZZ_SECONDS, buildFuzzer, fuzzSkip, runFuzzer } from '../helpers/libfuzzer.js';
import { PACKET, frame, tags } from '../helpers/pulse-wire.js';
import { REPO } from '../helpers/sandbox.js';

// The target's input: one flag byte (bit 0: the filter has a cookie), then
// for each chunk a control byte (bit 0: from the server; the rest: how many
// bytes arrive at once, 0 for as many as the filter asks) and the bytes.
const CLIENT = 0;
const SERVER = 1;
function whole(side: number, payload: Buffer, channel = PACKET, flags = 0): Buffer {
  const f = frame(payload, channel, flags);
  return Buffer.concat([Buffer.from([side]), f.subarray(0, 20), Buffer.from([side]), f.subarray(20)]);
}
/** The same frame in chunks of n bytes, as a slow socket delivers it. */
function trickle(side: number, payload: Buffer, n: number): Buffer {
  const f = frame(payload);
  const out: Buffer[] = [];
  for (let i = 0; i < f.length; i += n) out.push(Buffer.from([side | (n << 1)]), f.subarray(i, i + n));
  return Buffer.concat(out);
}
const raw = (...bytes: (number | Buffer)[]) =>
  Buffer.concat(bytes.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from([b]))));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
// Values of create-stream commands as libpulse writes them.
const sampleSpec = raw(0x61, 3, 2, u32(44100)); // 'a' s16le, 2 channels
const channelMap = raw(0x6d, 2, 1, 2); // 'm'
const volume = raw(0x76, 2, u32(0x10000), u32(0x10000)); // 'v'
const format = raw(0x66, 0x42, 1, tags({ props: [['format.rate', '44100']] })); // 'f' 'B' pcm, 'P'
const usec = raw(0x55, Buffer.alloc(8)); // 'U'
const auth = whole(CLIENT, tags(8, 0, 35 | 0x80000000, Buffer.alloc(256)));
const authReply = whole(SERVER, tags(2, 0, 35 | 0x80000000));

const seeds: Record<string, Buffer> = {
  auth: raw(1, auth, authReply),
  play: raw(
    1,
    auth,
    authReply,
    whole(CLIENT, tags(9, 1, { props: [['application.name', 'paplay']] })),
    whole(SERVER, tags(2, 1, 5)),
    whole(
      CLIENT,
      Buffer.concat([
        tags(3, 2, 'stream'),
        sampleSpec,
        channelMap,
        tags(0xffffffff, 'sink', 0),
        raw(0x31, 0x30), // '1' '0'
        tags({
          props: [
            ['media.role', 'music'],
            ['filter.want', 'echo-cancel'],
          ],
        }),
        volume,
        format,
        usec,
      ]),
    ),
    whole(SERVER, tags(2, 2, 0, 7, 4096)),
    whole(CLIENT, Buffer.alloc(4096, 0x11), 0),
    whole(CLIENT, Buffer.concat([tags(37, 3, 7), volume])),
    whole(CLIENT, Buffer.concat([tags(69, 4, 7), raw(0x31)])),
    whole(CLIENT, tags(12, 5, 0)),
    whole(CLIENT, tags(4, 6, 0)),
  ),
  record: raw(
    0,
    auth,
    authReply,
    whole(CLIENT, Buffer.concat([tags(5, 1), sampleSpec, channelMap, tags(0xffffffff, 'source', 0), raw(0x30)])),
    whole(SERVER, tags(2, 1, 0, 9)),
    whole(SERVER, Buffer.alloc(256, 0x22), 0),
    whole(CLIENT, Buffer.concat([tags(98, 2, 9), volume])),
    whole(CLIENT, Buffer.concat([tags(99, 3, 9), raw(0x30)])),
  ),
  refused: raw(
    1,
    auth,
    whole(CLIENT, tags(51, 1, 'module-ladspa-sink', 'plugin=/x.so')),
    whole(CLIENT, tags(7, 2)),
    whole(CLIENT, tags(3, 3, 's', { props: [['filter.apply', 'ladspa-sink']] })),
    whole(CLIENT, Buffer.concat([tags(37, 4, 8), volume])),
    whole(CLIENT, tags(200, 5)),
  ),
  queries: raw(
    0,
    trickle(CLIENT, tags(8, 0, 35, Buffer.alloc(256)), 7),
    whole(CLIENT, tags(20, 1)),
    whole(CLIENT, tags(22, 2)),
    whole(CLIENT, tags(35, 3, 0x2ff)),
    whole(SERVER, Buffer.concat([tags(2, 1, 'pulseaudio'), raw(0x54, Buffer.alloc(8), 0x56, u32(0))])),
    whole(SERVER, tags(101, 0)),
  ),
};

t.test(`libFuzzer on tsjail-pulse-filter's parser, ${FUZZ_SECONDS} s`, { skip: fuzzSkip }, async (t) => {
  if (!buildFuzzer(t, 'fuzz/pulse-fuzz')) return;
  const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-pulse-corpus-'));
  t.teardown(() => fs.rmSync(corpus, { recursive: true, force: true }));
  for (const [name, bytes] of Object.entries(seeds)) fs.writeFileSync(path.join(corpus, name), bytes);
  // The seeds first, alone: each is a session the filter must take whole.
  const seedRun = spawnSync(path.join(REPO, 'shim-c', 'fuzz', 'pulse-fuzz'), ['-runs=0', corpus], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (seedRun.status !== 0) t.comment((seedRun.stderr ?? '').slice(-4000));
  t.equal(seedRun.status, 0, 'the seeds run cleanly');
  runFuzzer(
    t,
    'fuzz/pulse-fuzz',
    corpus,
    16384,
    /pulse-fuzz: the filter forwarded/,
    ' (no frame forwarded against the rules)',
  );
});
