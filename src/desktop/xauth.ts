/**
 * The binary Xauthority format (Xau(3), XauReadAuth): a sequence of entries
 *
 *   family:u16be  address:(len:u16be bytes)  number:(len:u16be bytes)
 *   name:(len:u16be bytes)  data:(len:u16be bytes)
 *
 * The sandbox gets a file holding only the cookie of the display it may use,
 * rewritten as FamilyWild so that it matches whatever host name the sandbox
 * has (it has its own UTS namespace, so a FamilyLocal entry naming the host
 * would not match).
 */
export const FAMILY_LOCAL = 256;
export const FAMILY_WILD = 65535;
export const FAMILY_INTERNET = 0;
export const FAMILY_INTERNET6 = 6;

export interface XauthEntry {
  family: number;
  address: Buffer;
  number: string;
  name: string;
  data: Buffer;
}

export class XauthFormatError extends Error {
  override name = 'XauthFormatError';
}

export function parseXauth(buf: Buffer): XauthEntry[] {
  const out: XauthEntry[] = [];
  let off = 0;
  const field = (): Buffer => {
    if (off + 2 > buf.length) throw new XauthFormatError(`truncated at byte ${off}`);
    const len = buf.readUInt16BE(off);
    off += 2;
    if (off + len > buf.length) throw new XauthFormatError(`a field of ${len} bytes runs past the end at byte ${off}`);
    const b = buf.subarray(off, off + len);
    off += len;
    return b;
  };
  while (off < buf.length) {
    if (off + 2 > buf.length) throw new XauthFormatError(`truncated at byte ${off}`);
    const family = buf.readUInt16BE(off);
    off += 2;
    const address = Buffer.from(field());
    const number = field().toString('latin1');
    const name = field().toString('latin1');
    const data = Buffer.from(field());
    out.push({ family, address, number, name, data });
  }
  return out;
}

export function encodeXauth(entries: XauthEntry[]): Buffer {
  const parts: Buffer[] = [];
  const u16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return b;
  };
  const field = (b: Buffer): void => {
    if (b.length > 0xffff) throw new XauthFormatError(`field of ${b.length} bytes is too long`);
    parts.push(u16(b.length), b);
  };
  for (const e of entries) {
    parts.push(u16(e.family));
    field(e.address);
    field(Buffer.from(e.number, 'latin1'));
    field(Buffer.from(e.name, 'latin1'));
    field(e.data);
  }
  return Buffer.concat(parts);
}

/**
 * The entries that let a client reach local display `display` on this host
 * (`hostname`), as FamilyWild entries for that display number only. An entry
 * for another display, another host or a network address is dropped.
 */
export function cookiesForDisplay(entries: XauthEntry[], display: string, hostname: string): XauthEntry[] {
  const picked: XauthEntry[] = [];
  for (const e of entries) {
    if (e.number !== display && !(e.family === FAMILY_WILD && e.number === '')) continue;
    const local = e.family === FAMILY_LOCAL && e.address.toString('latin1') === hostname;
    if (!local && e.family !== FAMILY_WILD) continue;
    if (picked.some((p) => p.name === e.name)) continue;
    picked.push({ family: FAMILY_WILD, address: Buffer.alloc(0), number: display, name: e.name, data: e.data });
  }
  return picked;
}
