// Issue 12, the graphical half of the profile library: each application
// started by name (`tsjail evince FILE`, the profile found by its `command`)
// on an Xvfb display of its own, opening a file the test made where the
// profile lets it read (a green PDF page, a green picture, a green video,
// a text file), and showing it: a window with that name appears and the
// screenshot holds the app's pixels. The denial: under the same profile a
// probe finds no planted secret of the home folder and, where the profile
// grants no network, cannot reach a loopback server. The harness is
// test/helpers/apps.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { asUser, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { ensureX11Dir } from '../helpers/xvfb.js';
import { onUserPath, runGuiCases, serve, type AppContext, type GuiCase } from '../helpers/apps.js';
import { GREEN } from '../helpers/browser.js';

const missing = ['Xvfb', 'xauth', 'xwd', 'xwininfo'].filter((p) => !onUserPath(p));

/** A one-page PDF (US letter) whose page is filled with GREEN. */
export function greenPdf(): Buffer {
  const [r, g, b] = GREEN.map((v) => (v / 255).toFixed(3));
  const content = `${r} ${g} ${b} rg 0 0 612 792 re f\n`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A `width` x `height` RGB PNG of one colour. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A green video of `seconds`, made by ffmpeg outside (as the test user). */
function greenVideo(c: AppContext, file: string, seconds: number): void {
  const argv = asUser(
    [
      'ffmpeg',
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `color=c=0x00c000:s=320x240:r=10:d=${seconds}`,
      '-c:v',
      'mpeg4',
      '-q:v',
      '2',
      file,
    ],
    userEnv({ home: c.home }),
  );
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ffmpeg failed outside: ${r.stderr}`);
}

const inHome = (c: AppContext, ...p: string[]) => path.join(c.home, ...p);

const cases: GuiCase[] = [
  {
    profile: 'zathura',
    program: 'zathura',
    pkg: 'zathura (and zathura-pdf-poppler)',
    job: 'shows a PDF of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'green.pdf'), greenPdf()),
    args: (c) => ['zathura', inHome(c, 'Documents', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.1,
  },
  {
    profile: 'evince',
    program: 'evince',
    pkg: 'evince',
    job: 'shows a PDF of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'green.pdf'), greenPdf()),
    args: (c) => ['evince', inHome(c, 'Documents', 'green.pdf')],
    title: /green\.pdf/,
    colour: GREEN,
    share: 0.05,
  },
  {
    profile: 'eog',
    program: 'eog',
    pkg: 'eog',
    job: 'shows a picture of the Pictures folder',
    setup: (c) => writeUserFile(inHome(c, 'Pictures', 'green.png'), solidPng(300, 200, GREEN)),
    args: (c) => ['eog', inHome(c, 'Pictures', 'green.png')],
    title: /green\.png/,
    colour: GREEN,
    share: 0.05,
  },
  {
    profile: 'mpv',
    program: 'mpv',
    pkg: 'mpv',
    job: 'plays a video of the Videos folder',
    setup: (c) => {
      fs.mkdirSync(inHome(c, 'Videos'));
      fs.chownSync(inHome(c, 'Videos'), fs.statSync(c.home).uid, fs.statSync(c.home).gid);
      greenVideo(c, inHome(c, 'Videos', 'green.mkv'), 60);
    },
    args: (c) => ['mpv', '--no-config', '--vo=x11', '--hwdec=no', '--ao=null', inHome(c, 'Videos', 'green.mkv')],
    title: /green\.mkv/,
    colour: GREEN,
    share: 0.1,
  },
  {
    profile: 'geany',
    program: 'geany',
    pkg: 'geany',
    job: 'opens a text file of the Documents folder',
    setup: (c) => writeUserFile(inHome(c, 'Documents', 'notes.txt'), 'hello from the test\n'),
    args: (c) => ['geany', '--no-msgwin', inHome(c, 'Documents', 'notes.txt')],
    title: /notes\.txt/,
    share: 0.3,
  },
];

if (missing.length > 0) {
  t.skip(`${missing.join(', ')} not installed here (.ci/run installs them)`, async () => {});
} else {
  ensureX11Dir();
  const server = await serve(t, {});
  await runGuiCases(t, cases, { url: server.url });
}
