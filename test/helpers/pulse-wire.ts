// PulseAudio's native protocol by hand, for the tests of tsjail-pulse-filter
// (test/integration/pulse-filter.test.ts) and the seeds of its fuzz target
// (test/fuzz/pulse-filter.test.ts).

/** The channel of a packet (a command); any other is a stream's audio. */
export const PACKET = 0xffffffff;

/** A tagstruct: u32s, strings, arbitrary blobs and property lists, as src/pulsecore/tagstruct.c writes them. */
export type Value = number | string | Buffer | { props: [string, string][] };
export function tags(...vals: Value[]): Buffer {
  const out: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4c; // 'L'
    b.writeUInt32BE(n >>> 0, 1);
    return b;
  };
  const str = (s: string) => Buffer.concat([Buffer.from('t'), Buffer.from(s), Buffer.alloc(1)]);
  const arb = (b: Buffer) => {
    const h = Buffer.alloc(5);
    h[0] = 0x78; // 'x'
    h.writeUInt32BE(b.length, 1);
    return Buffer.concat([h, b]);
  };
  for (const v of vals) {
    if (typeof v === 'number') out.push(u32(v));
    else if (typeof v === 'string') out.push(str(v));
    else if (Buffer.isBuffer(v)) out.push(arb(v));
    else {
      out.push(Buffer.from('P'));
      for (const [k, val] of v.props) {
        const d = Buffer.concat([Buffer.from(val), Buffer.alloc(1)]);
        out.push(str(k), u32(d.length), arb(d));
      }
      out.push(Buffer.from('N'));
    }
  }
  return Buffer.concat(out);
}

export function frame(payload: Buffer, channel = PACKET, flags = 0): Buffer {
  const d = Buffer.alloc(20);
  d.writeUInt32BE(payload.length, 0);
  d.writeUInt32BE(channel, 4);
  d.writeUInt32BE(flags, 16);
  return Buffer.concat([d, payload]);
}
