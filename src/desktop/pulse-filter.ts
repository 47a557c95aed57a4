/**
 * Starting tsjail-pulse-filter (shim-c/pulse-filter.c) at the hand-over,
 * beside the shim it is built with, for the sandbox's sound server
 * (src/desktop/pulseaudio.ts). It lives exactly as long as the sandbox, as
 * the D-Bus proxy does (src/desktop/proxy.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import type { PulsePlan } from '../plan/plan.js';
import { startHelper, type StartedProxy } from './proxy.js';

/** The filter built beside `shim` (shim-c/, or a distribution's libexec directory). */
export function findPulseFilter(shim: string): string {
  const p = path.join(path.dirname(shim), 'tsjail-pulse-filter');
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    throw new TsjailError(`the pulseaudio socket needs tsjail-pulse-filter beside ${shim}, and it is not there`, {
      hint: 'build it with `npm run build` (make -C shim-c)',
    });
  }
}

export function startPulseFilter(
  pulse: PulsePlan,
  opts: { shim: string; verbose: boolean; clearCloexec: (fd: number) => void; timeoutMs?: number },
): StartedProxy {
  const filter = findPulseFilter(opts.shim);
  return startHelper(
    {
      what: 'tsjail-pulse-filter',
      dirPrefix: 'tsjail-pulse-',
      argv: (dir) => [
        filter,
        ...(opts.verbose ? ['-v'] : []),
        '--fd=3',
        path.join(dir, 'native'),
        pulse.server,
        ...(pulse.cookie ? [pulse.cookie] : []),
      ],
      sockets: [{ name: 'native', inside: pulse.inside, why: 'PulseAudio through tsjail-pulse-filter' }],
      exitHint: `is the sound server at ${pulse.server} running?`,
    },
    { hostRuntime: pulse.hostRuntime, clearCloexec: opts.clearCloexec, timeoutMs: opts.timeoutMs },
  );
}
