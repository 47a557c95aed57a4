/**
 * The hand-over: encode the plan into a sealed memfd and execve the shim in
 * place of this Node process, so nothing of Node stays resident beside the
 * program (the shim becomes the monitor the caller waits on).
 */
import * as fs from 'node:fs';
import { TsjailError } from '../errors.js';
import { restoreStdio, execve, sealedMemfd } from '../sys/kernel.js';
import { encodePlan } from './encode.js';
import type { LaunchPlan } from './plan.js';

/** Positional writes (pwrite) leave the file offset at 0, where the shim starts reading. */
function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off, off);
}

export function handOver(plan: LaunchPlan, shim: string): never {
  const bytes = encodePlan(plan);
  const fd = sealedMemfd('tsjail-plan', bytes, writeAll);
  for (const std of [0, 1, 2]) restoreStdio(std);
  const errno = execve(shim, ['tsjail-shim', '--plan-fd', String(fd)], []);
  throw new TsjailError(`cannot execute the sandbox helper ${shim} (errno ${errno})`);
}
