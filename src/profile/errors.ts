/**
 * Profile errors and source references.
 *
 * Contract: every failure of the profile layer is a ProfileError whose
 * message is one line, formatted as the SPEC fixes it:
 *   syntax errors  FILE:LINE:COL: message
 *   schema errors  FILE:LINE: key.path: message
 *   other errors   FILE:LINE: message   or   FILE: message
 * The fields carry the same facts separately so callers (the CLI, `profile
 * check`, the launcher under -v) can render or sort them without parsing.
 */

/** Where a value was written: a profile file and a 1-based line (and column). */
export interface SourceRef {
  file: string;
  line: number;
  col?: number;
}

export interface ProfileErrorInit {
  file: string;
  line?: number;
  col?: number;
  keyPath?: string;
}

export class ProfileError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  readonly keyPath?: string;
  /** The message without the FILE:LINE: prefix. */
  readonly detail: string;

  constructor(at: ProfileErrorInit, detail: string) {
    super(formatProfileError(at, detail));
    this.name = 'ProfileError';
    this.file = at.file;
    this.detail = detail;
    if (at.line !== undefined) this.line = at.line;
    if (at.col !== undefined) this.col = at.col;
    if (at.keyPath !== undefined && at.keyPath !== '') this.keyPath = at.keyPath;
  }
}

function formatProfileError(at: ProfileErrorInit, detail: string): string {
  let head = at.file;
  if (at.line !== undefined) {
    head += `:${at.line}`;
    if (at.col !== undefined) head += `:${at.col}`;
  }
  const key = at.keyPath !== undefined && at.keyPath !== '' ? `${at.keyPath}: ` : '';
  // One line, always: a newline inside a user-supplied string must not let a
  // profile forge a second diagnostic line.
  return `${head}: ${key}${detail}`.replace(/[\r\n]+/g, ' ');
}

/** Builds a ProfileError located at a SourceRef, optionally naming a key. */
export function errorAt(source: SourceRef, detail: string, keyPath?: string): ProfileError {
  const init: ProfileErrorInit = { file: source.file, line: source.line };
  if (keyPath !== undefined) init.keyPath = keyPath;
  return new ProfileError(init, detail);
}
