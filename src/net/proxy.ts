/**
 * Starting tsjail-net-proxy (shim-c/net-proxy.c) at the hand-over, beside the
 * shim it is built with, for a "private" network with an allow list. Like the
 * D-Bus proxy (src/desktop/proxy.ts) it is held by a LIFELINE: it writes one
 * byte on descriptor 3 when it has started, then receives its listening
 * socket over that same descriptor from the shim's monitor (NETLISTEN: the
 * socket was made inside the sandbox's network namespace), and exits when
 * the monitor closes it, with the sandbox.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import type { NetProxyPlan } from '../plan/plan.js';
import { startHelper, type StartedProxy } from '../desktop/proxy.js';

/** The proxy built beside `shim` (shim-c/, or a distribution's libexec directory). */
export function findNetProxy(shim: string): string {
  const p = path.join(path.dirname(shim), 'tsjail-net-proxy');
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    throw new TsjailError(`an allow list needs tsjail-net-proxy beside ${shim}, and it is not there`, {
      hint: 'build it with `npm run build` (make -C shim-c)',
    });
  }
}

export function startNetProxy(
  proxy: NetProxyPlan,
  opts: { shim: string; verbose: boolean; clearCloexec: (fd: number) => void; timeoutMs?: number; reportFd?: number },
): StartedProxy {
  const bin = findNetProxy(opts.shim);
  return startHelper(
    {
      what: 'tsjail-net-proxy',
      dirPrefix: 'tsjail-net-',
      argv: () => [
        bin,
        ...(opts.verbose ? ['-v'] : []),
        ...(opts.reportFd !== undefined ? ['--report-fd=4'] : []),
        '--fd=3',
        '--profile',
        proxy.profile,
        ...proxy.allow,
      ],
      ...(opts.reportFd !== undefined ? { fd4: opts.reportFd } : {}),
      sockets: [],
      exitHint: 'it said why on stderr',
    },
    { clearCloexec: opts.clearCloexec, timeoutMs: opts.timeoutMs },
  );
}
