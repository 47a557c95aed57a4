/**
 * Reading and parsing one profile file.
 *
 * Contract: loadFile(file) returns the parsed JSON5 value together with the
 * position map of every key and value, or throws a ProfileError:
 *   unreadable file   FILE: cannot read profile: reason
 *   syntax error      FILE:LINE:COL: message   (json5's position)
 * It does not validate the structure (schema.ts does) and is the only
 * function of this folder that reads a profile from disk.
 */
import { readFileSync, statSync } from 'node:fs';
import JSON5 from 'json5';

import { ProfileError } from './errors.js';
import { NestingError, mapPositions, type PositionMap } from './positions.js';

/** A profile larger than this is refused before it is parsed. */
export const MAX_PROFILE_BYTES = 1024 * 1024;

export interface LoadedFile {
  file: string;
  data: unknown;
  positions: PositionMap;
}

export function loadFile(file: string): LoadedFile {
  return parseProfileText(file, readProfileText(file));
}

export function readProfileText(file: string): string {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ProfileError({ file }, 'cannot read profile: not a regular file');
    if (st.size > MAX_PROFILE_BYTES) {
      throw new ProfileError({ file }, `cannot read profile: larger than ${MAX_PROFILE_BYTES} bytes`);
    }
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ProfileError) throw err;
    throw new ProfileError({ file }, `cannot read profile: ${describeFsError(err)}`);
  }
}

export function parseProfileText(file: string, text: string): LoadedFile {
  // A UTF-8 byte-order mark is harmless in an editor-saved file; json5
  // rejects it, so drop it (it adds no line and json5 would count no column).
  const src = text.startsWith('\ufeff') ? text.slice(1) : text;
  let data: unknown;
  try {
    data = JSON5.parse(src);
  } catch (err) {
    throw syntaxError(file, err);
  }
  try {
    return { file, data, positions: mapPositions(src) };
  } catch (err) {
    if (!(err instanceof NestingError)) throw err;
    throw new ProfileError({ file, line: err.at.line, col: err.at.col }, err.message);
  }
}

function syntaxError(file: string, err: unknown): ProfileError {
  const e = err as { message?: unknown; lineNumber?: unknown; columnNumber?: unknown };
  const raw = typeof e.message === 'string' ? e.message : String(err);
  // "JSON5: invalid character 'x' at 3:7" -> "invalid character 'x'"
  const detail = raw.replace(/^JSON5:\s*/, '').replace(/\s+at \d+:\d+$/, '');
  const line = typeof e.lineNumber === 'number' ? e.lineNumber : undefined;
  const col = typeof e.columnNumber === 'number' ? e.columnNumber : undefined;
  if (line === undefined) return new ProfileError({ file }, `syntax error: ${detail}`);
  return new ProfileError(col === undefined ? { file, line } : { file, line, col }, detail);
}

export function describeFsError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return typeof e.message === 'string' ? e.message : String(err);
  }
}
