/**
 * The compiled-plan cache (SPEC.md, "Plan cache"): one file per launch
 * command, holding the encoded plan without its ARGV records, what it
 * depends on (record.ts) and what tsjail said on stderr while planning. The
 * C entry point (shim-c/fast.c) reads it, compares every dependency with
 * lstat, readlink, getenv and the same kernel probes, appends the program's
 * arguments and runs the plan without starting Node; on any difference it
 * runs this CLI, which plans again and replaces the file.
 *
 * Where: $XDG_CACHE_HOME/tsjail (absolute), else $HOME/.cache/tsjail; a
 * directory of the caller's, mode 0700, that every sandbox denies like
 * ~/.config/tsjail (src/mounts/secrets.ts, never shown, not even to a grant
 * naming it). Files are 0600, written to a fresh name and renamed over, so
 * a reader sees the old file or the new one, never part of either.
 *
 * File format (little-endian; shim-c/fast.c reads it, both say version 1):
 *   magic:u32 "TSJC"  version:u32 = 1  length:u32 (whole file)  crc32:u32 (of what follows)
 *   key:str  count:u32  dep*  stderr:blob  plan:blob  record:u8 [dir:str name:str before:str after:str]
 *   str/blob := len:u32 bytes
 *   dep := kind:u8 then
 *     1 env       name:str present:u8 value:str
 *     2 environ   count:u32 entry:str*           (the whole environment, in order)
 *     3 lstat     path:str errno:i32 [mode uid gid:u32 dev ino size rdev:u64 mtime:i64 mtime_ns:u32 ctime:i64 ctime_ns:u32 fields:u32]
 *     4 readlink  path:str errno:i32 target:str
 *     5 content   path:str errno:i32 data:blob
 *     6 cwd       path:str
 *     7 tty       mask:u32                       (bit N: descriptor N is a terminal)
 *     8 ids       uid:u32 gid:u32
 *     9 probe     name:str value:i64
 *    10 hostname  name:str
 *    11 hardlimits text:str                      ("LABEL\tHARD\n" of /proc/self/limits, record.ts)
 *    12 envmatch  count:u32 pattern:str* count:u32 entry:str*
 *                 (the NAME=VALUE whose names match a pattern, in the environment's order)
 *    13 mountlines path:str count:u32 fstype:str* errno:i32 lines:blob
 *                 (the lines of a mount table whose file system type is listed, in order, record.ts)
 * The key is this version of tsjail, the caller's uid and the command line
 * up to PROGRAM, exactly; the file name is plan-FNV1a64(key) in hex. The
 * plan has no ARGV records and no RECORD (the sandbox's record for ps,
 * whose meta holds the argv): with record 1 the fast path makes one of dir,
 * name and the meta `before` + the JSON array of the argv + `after`.
 */
import { createRequire } from 'node:module';
import type * as FS from 'node:fs';
import * as path from 'node:path';
import { RecordType } from '../plan/encode.js';
import type { Dep, Recording } from './record.js';

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof FS;

export const CACHE_MAGIC = 0x434a5354;
export const CACHE_VERSION = 1;

const DEP_KIND = {
  env: 1,
  environ: 2,
  lstat: 3,
  readlink: 4,
  content: 5,
  cwd: 6,
  tty: 7,
  ids: 8,
  probe: 9,
  hostname: 10,
  hardlimits: 11,
  envmatch: 12,
  mountlines: 13,
} as const;

/**
 * The command line the fast path understands, and so the only one cached:
 * `[run] {-p NAME | --profile NAME | --profile=NAME | -v | --verbose} [--] PROGRAM`.
 * Returns the tokens up to PROGRAM and what they say, or undefined.
 */
export function cacheableHead(
  argv: readonly string[],
): { head: string[]; profile?: string; verbose: boolean; program: string } | undefined {
  let i = argv[0] === 'run' ? 1 : 0;
  let profile: string | undefined;
  let verbose = false;
  while (i < argv.length) {
    const t = argv[i]!;
    if (t === '--') {
      i++;
      break;
    }
    if (t === '-p' || t === '--profile') {
      if (i + 1 >= argv.length) return undefined;
      profile = argv[i + 1];
      i += 2;
    } else if (t.startsWith('--profile=')) {
      profile = t.slice('--profile='.length);
      i++;
    } else if (t === '-v' || t === '--verbose') {
      verbose = true;
      i++;
    } else if (t.startsWith('-') && t !== '-') return undefined;
    else break;
  }
  const program = argv[i];
  if (program === undefined || program === '') return undefined;
  return { head: argv.slice(0, i + 1), profile, verbose, program };
}

export function cacheKey(version: string, uid: number, head: readonly string[]): string {
  return `tsjail plan cache ${CACHE_VERSION}\n${version}\nuid ${uid}\n${head.join('\0')}`;
}

/** FNV-1a, 64 bits: the file name of a key (the key itself is compared whole). */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE), the file's check against corruption and truncation. */
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The cache directory for this environment, or undefined when there is none to use. */
export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return `${xdg}/tsjail`;
  const home = env.HOME;
  if (home && home.startsWith('/')) return `${home}/.cache/tsjail`;
  return undefined;
}

/**
 * Make sure the cache directory exists, is the caller's and only theirs
 * (0700), before planning, so that the plan hides it from the sandbox. A
 * symlink or a directory of someone else is not used (returns why).
 */
export function prepareCacheDir(dir: string, uid: number): string | undefined {
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let st = fs.lstatSync(dir);
    if (st.isSymbolicLink()) {
      // Not ours to follow: replaced by a directory of our own.
      fs.unlinkSync(dir);
      fs.mkdirSync(dir, { mode: 0o700 });
      st = fs.lstatSync(dir);
    }
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (st.uid !== uid) return `${dir} belongs to uid ${st.uid}`;
    if ((st.mode & 0o777) !== 0o700) fs.chmodSync(dir, 0o700);
    return undefined;
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
}

class Out {
  private parts: Buffer[] = [];
  u8(n: number): this {
    this.parts.push(Buffer.from([n]));
    return this;
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.parts.push(b);
    return this;
  }
  u64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, n));
    this.parts.push(b);
    return this;
  }
  i64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt.asIntN(64, n));
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.parts.push(Buffer.from(b));
    return this;
  }
  str(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const NS = 1_000_000_000n;

function encodeDep(o: Out, d: Dep): void {
  o.u8(DEP_KIND[d.kind]);
  switch (d.kind) {
    case 'env':
      o.str(d.name)
        .u8(d.value === undefined ? 0 : 1)
        .str(d.value ?? '');
      return;
    case 'environ':
      o.u32(d.entries.length);
      for (const e of d.entries) o.str(e);
      return;
    case 'lstat': {
      o.str(d.path).i32(d.errno);
      const st = d.st;
      if (!st) return;
      o.u32(st.mode).u32(st.uid).u32(st.gid).u64(st.dev).u64(st.ino).u64(st.size).u64(st.rdev);
      o.i64(st.mtimeNs / NS)
        .u32(Number(st.mtimeNs % NS))
        .i64(st.ctimeNs / NS)
        .u32(Number(st.ctimeNs % NS))
        .u32(d.fields);
      return;
    }
    case 'readlink':
      o.str(d.path).i32(d.errno).str(d.target);
      return;
    case 'content':
      o.str(d.path).i32(d.errno).bytes(d.data);
      return;
    case 'cwd':
      o.str(d.path);
      return;
    case 'tty':
      o.u32(d.mask);
      return;
    case 'ids':
      o.u32(d.uid).u32(d.gid);
      return;
    case 'probe':
      o.str(d.name).i64(BigInt(d.value));
      return;
    case 'hostname':
      o.str(d.name);
      return;
    case 'hardlimits':
      o.str(d.text);
      return;
    case 'envmatch':
      o.u32(d.patterns.length);
      for (const p of d.patterns) o.str(p);
      o.u32(d.entries.length);
      for (const e of d.entries) o.str(e);
      return;
    case 'mountlines':
      o.str(d.path).u32(d.fstypes.length);
      for (const f of d.fstypes) o.str(f);
      o.i32(d.errno).str(d.lines);
      return;
  }
}

/**
 * The encoded plan without its ARGV records, which must be exactly `argv`
 * (the fast path appends the caller's); undefined if they are not.
 */
export function withoutArgv(plan: Buffer, argv: readonly string[]): Buffer | undefined {
  const keep: Buffer[] = [];
  const seen: string[] = [];
  let count = 0;
  for (let off = 16; off < plan.length;) {
    const type = plan.readUInt16LE(off);
    const size = plan.readUInt32LE(off + 4);
    const rec = plan.subarray(off, off + 8 + size);
    if (type === RecordType.ARGV) seen.push(rec.subarray(12).toString('utf8'));
    else {
      keep.push(rec);
      count++;
    }
    off += 8 + size;
  }
  if (seen.length !== argv.length || seen.some((a, i) => a !== argv[i])) return undefined;
  const body = Buffer.concat(keep);
  const head = Buffer.from(plan.subarray(0, 16));
  head.writeUInt32LE(16 + body.length, 8);
  head.writeUInt32LE(count, 12);
  return Buffer.concat([head, body]);
}

/** The RECORD of a cached plan, around the place of its argv (see the header). */
export interface RecordTemplate {
  dir: string;
  name: string;
  before: string;
  after: string;
}

/** Split a record's meta at its argv, which must be `"argv":` + JSON of `argv` (undefined if not). */
export function recordTemplate(
  record: { dir: string; name: string; meta: string },
  argv: readonly string[],
): RecordTemplate | undefined {
  const a = JSON.stringify(argv);
  // A quote that is not escaped is JSON's own: `"argv":` is the key, not inside a value.
  const at = record.meta.indexOf(`"argv":${a}`);
  if (at < 0) return undefined;
  const cut = at + '"argv":'.length;
  return {
    dir: record.dir,
    name: record.name,
    before: record.meta.slice(0, cut),
    after: record.meta.slice(cut + a.length),
  };
}

export function encodeEntry(key: string, rec: Recording, planNoArgv: Buffer, record?: RecordTemplate): Buffer {
  const o = new Out().str(key).u32(rec.deps.length);
  for (const d of rec.deps) encodeDep(o, d);
  o.bytes(rec.stderr).bytes(planNoArgv);
  if (record) o.u8(1).str(record.dir).str(record.name).str(record.before).str(record.after);
  else o.u8(0);
  const body = o.done();
  const head = Buffer.alloc(16);
  head.writeUInt32LE(CACHE_MAGIC, 0);
  head.writeUInt32LE(CACHE_VERSION, 4);
  head.writeUInt32LE(16 + body.length, 8);
  head.writeUInt32LE(crc32(body), 12);
  return Buffer.concat([head, body]);
}

/** The file of a key in `dir`. */
export function entryPath(dir: string, key: string): string {
  return path.join(dir, `plan-${fnv1a64(key)}`);
}

/**
 * Write an entry atomically: a new 0600 file of a name no one else uses,
 * renamed over the old one (which is replaced whatever it was: a symlink,
 * someone else's, a corrupt file). Failures are not the launch's concern:
 * the next launch plans again.
 */
export function storeEntry(file: string, bytes: Buffer): boolean {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = fs.openSync(
      tmp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
    try {
      for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    return false;
  }
}
