// Encoding: instructions <-> struct sock_filter bytes (linux/filter.h):
// { __u16 code; __u8 jt; __u8 jf; __u32 k; }, 8 bytes each, little-endian on
// every ABI tsjail runs on. The same bytes `bwrap --seccomp FD` and the shim's
// seccomp(SECCOMP_SET_MODE_FILTER) take. Pure.

import type { Insn } from './bpf.js';

export function encode(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    dv.setUint16(i * 8, ins.code, true);
    dv.setUint8(i * 8 + 2, ins.jt);
    dv.setUint8(i * 8 + 3, ins.jf);
    dv.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

export function decode(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) throw new Error(`seccomp program size ${bytes.length} is not a multiple of 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    out.push({
      code: dv.getUint16(o, true),
      jt: dv.getUint8(o + 2),
      jf: dv.getUint8(o + 3),
      k: dv.getUint32(o + 4, true),
    });
  }
  return out;
}
