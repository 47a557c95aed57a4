/**
 * Reading the plan cache (src/cache/store.ts) in tests: where a user's
 * entries are, and their dependencies decoded, to show what a cached plan
 * rests on and to damage entries on purpose.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DecodedEntry {
  key: string;
  deps: {
    kind: number;
    path?: string;
    name?: string;
    patterns?: string[];
    entries?: string[];
    fstypes?: string[];
    lines?: string;
  }[];
  stderr: string;
  plan: Buffer;
}

/** The plan cache directory of a user with this HOME (and no XDG_CACHE_HOME). */
export function cacheDirOf(home: string): string {
  return path.join(home, '.cache', 'tsjail');
}

/** The cache's entries (file names plan-*), newest first. */
export function entries(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^plan-[0-9a-f]{16}$/.test(f))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

export function decodeEntry(buf: Buffer): DecodedEntry {
  let off = 16;
  const u8 = (): number => buf.readUInt8(off++);
  const u32 = (): number => ((off += 4), buf.readUInt32LE(off - 4));
  const bytes = (): Buffer => {
    const n = u32();
    off += n;
    return buf.subarray(off - n, off);
  };
  const str = (): string => bytes().toString('utf8');
  const key = str();
  const n = u32();
  const deps: DecodedEntry['deps'] = [];
  for (let i = 0; i < n; i++) {
    const kind = u8();
    switch (kind) {
      case 1: {
        const name = str();
        u8();
        str();
        deps.push({ kind, name });
        break;
      }
      case 2: {
        const c = u32();
        for (let j = 0; j < c; j++) str();
        deps.push({ kind });
        break;
      }
      case 3: {
        const p = str();
        const errno = buf.readInt32LE(off);
        off += 4;
        if (errno === 0) off += 4 * 3 + 8 * 4 + 12 + 12 + 4;
        deps.push({ kind, path: p });
        break;
      }
      case 4:
        deps.push({ kind, path: str() });
        off += 4;
        str();
        break;
      case 5:
        deps.push({ kind, path: str() });
        off += 4;
        bytes();
        break;
      case 6:
        deps.push({ kind, path: str() });
        break;
      case 7:
        off += 4;
        deps.push({ kind });
        break;
      case 8:
        off += 8;
        deps.push({ kind });
        break;
      case 9:
        deps.push({ kind, name: str() });
        off += 8;
        break;
      case 10:
        deps.push({ kind, name: str() });
        break;
      case 11:
        str();
        deps.push({ kind });
        break;
      case 12: {
        const patterns: string[] = [];
        for (let j = u32(); j > 0; j--) patterns.push(str());
        const entries: string[] = [];
        for (let j = u32(); j > 0; j--) entries.push(str());
        deps.push({ kind, patterns, entries });
        break;
      }
      case 13: {
        const p = str();
        const fstypes: string[] = [];
        for (let j = u32(); j > 0; j--) fstypes.push(str());
        off += 4;
        deps.push({ kind, path: p, fstypes, lines: str() });
        break;
      }
      default:
        throw new Error(`unknown dependency kind ${kind}`);
    }
  }
  const stderr = str();
  const plan = bytes();
  if (u8() === 1) for (let i = 0; i < 4; i++) str();
  if (off !== buf.length) throw new Error(`${buf.length - off} bytes after the plan`);
  return { key, deps, stderr, plan };
}
