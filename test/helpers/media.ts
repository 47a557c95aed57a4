/**
 * Media files the profile library's tests make (a PDF page, a PNG, a video, a tar archive),
 * each in one colour so a screenshot shows whether the application drew it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { asUser, userEnv, writeUserFile } from './sandbox.js';
import { GREEN } from './browser.js';
import type { AppContext } from './apps.js';

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

/**
 * A green video of `seconds`, made by ffmpeg outside (as the test user):
 * MPEG-4 Part 2, or Theora for a file ending .ogv (GStreamer's base plugins
 * decode it; MPEG-4 needs gstreamer1.0-libav, only a Recommends of totem).
 */
export function greenVideo(c: AppContext, file: string, seconds: number): void {
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
      ...(file.endsWith('.ogv') ? ['-c:v', 'libtheora', '-q:v', '7'] : ['-c:v', 'mpeg4', '-q:v', '2']),
      file,
    ],
    userEnv({ home: c.home }),
  );
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ffmpeg failed outside: ${r.stderr}`);
}

/** A tar archive `archive` of `dir`'s entry `member` (holding a.txt), made by tar outside (as the test user). */
export function tarball(c: AppContext, dir: string, member: string, archive: string): void {
  writeUserFile(path.join(dir, member, 'a.txt'), 'in the archive\n');
  const argv = asUser(['tar', '-C', dir, '-cf', archive, member], userEnv({ home: c.home }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tar failed outside: ${r.stderr}`);
}
