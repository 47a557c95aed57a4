/**
 * Output helpers. Diagnostics go to stderr with writeSync so that nothing is
 * left in a buffer when the process is replaced by the shim.
 */
import * as fs from 'node:fs';

export function say(line: string): void {
  fs.writeSync(2, `tsjail: ${line}\n`);
}

export function out(text: string): void {
  fs.writeSync(1, text.endsWith('\n') ? text : text + '\n');
}
