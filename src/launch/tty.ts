/**
 * The caller's terminal. When any of stdin, stdout and stderr is a terminal
 * the sandbox gets a private pseudo-terminal in its place, relayed by the
 * shim's monitor (shim-c/tty.c), so the program never holds the caller's
 * terminal and job control works as for any other job. Raw mode (the
 * monitor passes every key through, the pty does the line editing) only
 * when both stdin and stdout are the terminal; in a pipeline the caller's
 * terminal keeps its own modes.
 */
import * as tty from 'node:tty';
import type { LaunchPlan } from '../plan/plan.js';

export function terminalRelay(plan: LaunchPlan, isatty: (fd: number) => boolean = tty.isatty): LaunchPlan['tty'] {
  const fds = [0, 1, 2].filter((fd) => isatty(fd));
  if (fds.length === 0) return undefined;
  const devpts = plan.mounts.find((m) => m.op === 'devpts');
  // The mount planner always mounts /dev/pts (src/mounts/plan.ts).
  if (!devpts) throw new Error('no devpts instance in the plan for the terminal relay');
  return { devpts: devpts.dest, fds, raw: fds.includes(0) && fds.includes(1) };
}
