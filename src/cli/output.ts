/**
 * Output helpers. Diagnostics go to stderr with writeSync so that nothing is
 * left in a buffer when the process is replaced by the shim.
 */
import * as fs from 'node:fs';

/** One line, always: control characters (a newline in a path) are shown escaped. */
export function say(line: string): void {
  // eslint-disable-next-line no-control-regex
  const safe = line.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  fs.writeSync(2, `tsjail: ${safe}\n`);
}

/** All of it: a write to a pipe may take only part of a large buffer. */
export function out(text: string): void {
  const buf = Buffer.from(text.endsWith('\n') ? text : text + '\n');
  for (let off = 0; off < buf.length;) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      // A non-blocking stdout that is full: wait for it rather than lose output.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
