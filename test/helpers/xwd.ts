/**
 * Just enough of the XWD format (what `xwd -root` writes) to check the
 * colour of a screenshot of an X display: ZPixmap, 24 or 32 bits per pixel,
 * true colour with 8-bit channels.
 */
import type { Image } from './png.js';

export function decodeXwd(buf: Buffer): Image {
  const f = (i: number) => buf.readUInt32BE(i * 4);
  const headerSize = f(0);
  const format = f(2);
  const width = f(4);
  const height = f(5);
  const byteOrder = f(7);
  const bpp = f(11);
  const bytesPerLine = f(12);
  const [rMask, gMask, bMask] = [f(14), f(15), f(16)];
  const ncolors = f(19);
  if (format !== 2 || (bpp !== 32 && bpp !== 24))
    throw new Error(`unsupported XWD: format ${format}, ${bpp} bits per pixel`);
  const data = headerSize + ncolors * 12;
  const shift = (m: number) => Math.log2(m & -m);
  const channel = (v: number, m: number) => ((v & m) >>> shift(m)) & 0xff;
  return {
    width,
    height,
    pixel(x, y) {
      const o = data + y * bytesPerLine + x * (bpp / 8);
      let v: number;
      if (bpp === 32) v = byteOrder === 0 ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      else v = byteOrder === 0 ? buf.readUIntLE(o, 3) : buf.readUIntBE(o, 3);
      return [channel(v, rMask), channel(v, gMask), channel(v, bMask)];
    },
  };
}
