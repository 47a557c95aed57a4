/**
 * Compiled seccomp filters by policy hash (issue 13 item 3): a cold launch
 * (a plan the plan cache has not, or no longer, got) whose syscall rules are
 * those of an earlier launch takes the filter from here instead of
 * compiling it again, which is most of the planner's own work.
 *
 * A filter is a function of the compiler's input, the architecture and the
 * compiler's code alone, so the key is exactly those: the JSON of the input,
 * the arch, tsjail's version and the identity (device, inode, size, mtime)
 * of the one file the compiler's code is in - the CLI's bundle; elsewhere
 * (the unbundled modules) nothing is cached. Nothing a plan depends on is
 * read, so reading an entry is no dependency of the plan being recorded
 * (record.ts's unrecorded fs).
 *
 * Entries live in the plan cache's directory (store.ts: the caller's, 0700,
 * hidden from every sandbox), as `seccomp-SHA256(key)`, 0600, the caller's,
 * never a symlink, written to a fresh file and renamed over; one is used
 * only if it holds its whole key and the SHA-256 of its payload matches.
 *
 * File: "TSJS1\n" sha256(payload):32 bytes, then payload = key "\n" JSON of
 * { bytes (base64), instructions, notified, observed }.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NotifiedSyscall } from '../seccomp/notify.js';
import { unrecordedFs as fs } from './record.js';

/** What a launch plan takes of the compiler's result (src/seccomp/compile.ts CompileResult). */
export interface CachedFilter {
  bytes: Uint8Array;
  instructions: number;
  notified?: NotifiedSyscall[];
  observed?: NotifiedSyscall[];
}

const MAGIC = Buffer.from('TSJS1\n');
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const MAX = 4 << 20;

/** The file the compiler's code is in, when it is one (the bundle), else undefined. */
function compilerFile(): string | undefined {
  const f = fileURLToPath(import.meta.url);
  return f.endsWith('.cjs') ? f : undefined;
}

export function filterKey(version: string, arch: string, input: unknown): string | undefined {
  const code = compilerFile();
  if (code === undefined) return undefined;
  let id: string;
  try {
    const st = fs.statSync(code, { bigint: true });
    id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return undefined;
  }
  return `tsjail seccomp ${version} ${arch} ${code} ${id} ${JSON.stringify(input)}`;
}

function fileOf(dir: string, key: string): string {
  return path.join(dir, `seccomp-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`);
}

/** The filter of `key` in `dir`, if an entry of the caller's holds it intact. */
export function loadFilter(dir: string, key: string, uid: number): CachedFilter | undefined {
  let fd: number;
  try {
    fd = fs.openSync(fileOf(dir, key), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0 || st.size > MAX) return undefined;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n <= 0) return undefined;
      got += n;
    }
    if (buf.length < MAGIC.length + 32 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const payload = buf.subarray(MAGIC.length + 32);
    const sum = createHash('sha256').update(payload).digest();
    if (!sum.equals(buf.subarray(MAGIC.length, MAGIC.length + 32))) return undefined;
    const nl = payload.indexOf(0x0a, Buffer.byteLength(key));
    if (nl !== Buffer.byteLength(key) || payload.subarray(0, nl).toString('utf8') !== key) return undefined;
    const o = JSON.parse(payload.subarray(nl + 1).toString('utf8')) as {
      bytes: string;
      instructions: number;
      notified?: NotifiedSyscall[];
      observed?: NotifiedSyscall[];
    };
    const bytes = Buffer.from(o.bytes, 'base64');
    if (bytes.length !== o.instructions * 8) return undefined;
    return {
      bytes: new Uint8Array(bytes),
      instructions: o.instructions,
      ...(o.notified ? { notified: o.notified } : {}),
      ...(o.observed ? { observed: o.observed } : {}),
    };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Store the filter of `key` (atomically; a failure only means the next cold launch compiles). */
export function storeFilter(dir: string, key: string, f: CachedFilter): void {
  const payload = Buffer.concat([
    Buffer.from(`${key}\n`),
    Buffer.from(
      JSON.stringify({
        bytes: Buffer.from(f.bytes).toString('base64'),
        instructions: f.instructions,
        ...(f.notified ? { notified: f.notified } : {}),
        ...(f.observed ? { observed: f.observed } : {}),
      }),
    ),
  ]);
  const data = Buffer.concat([MAGIC, createHash('sha256').update(payload).digest(), payload]);
  const file = fileOf(dir, key);
  // One writer per process at a time: the pid names its file (a stale one of a dead process is removed).
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* none */
    }
    const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    try {
      for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}
