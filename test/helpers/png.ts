/**
 * Just enough of PNG to check the colour of a screenshot's pixels: 8-bit
 * greyscale, RGB, palette, grey+alpha and RGBA images, not interlaced, as
 * browsers and ImageMagick write them.
 */
import * as zlib from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGB of pixel (x, y). */
  pixel(x: number, y: number): [number, number, number];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function decodePng(buf: Buffer): Image {
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG file');
  let off = 8;
  let width = 0,
    height = 0,
    depth = 0,
    type = 0,
    interlace = 0;
  let palette = Buffer.alloc(0);
  const idat: Buffer[] = [];
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const kind = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    off += 12 + len;
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8]!;
      type = data[9]!;
      interlace = data[12]!;
    } else if (kind === 'PLTE') palette = Buffer.from(data);
    else if (kind === 'IDAT') idat.push(data);
    else if (kind === 'IEND') break;
  }
  const ch = CHANNELS[type];
  if (depth !== 8 || ch === undefined || interlace !== 0)
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${type}, interlace ${interlace}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * ch;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= ch ? px[y * stride + i - ch]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + i]! : 0;
      const c = i >= ch && y > 0 ? px[(y - 1) * stride + i - ch]! : 0;
      let v = line[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c,
          pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
      px[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const i = y * stride + x * ch;
      if (type === 3) return [palette[px[i]! * 3]!, palette[px[i]! * 3 + 1]!, palette[px[i]! * 3 + 2]!];
      if (type === 0 || type === 4) return [px[i]!, px[i]!, px[i]!];
      return [px[i]!, px[i + 1]!, px[i + 2]!];
    },
  };
}

/** How many pixels of the image are within `tolerance` of `rgb` in every channel. */
export function countColour(img: Image, rgb: [number, number, number], tolerance = 8): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = img.pixel(x, y);
      if (
        Math.abs(p[0] - rgb[0]) <= tolerance &&
        Math.abs(p[1] - rgb[1]) <= tolerance &&
        Math.abs(p[2] - rgb[2]) <= tolerance
      )
        n++;
    }
  }
  return n;
}
