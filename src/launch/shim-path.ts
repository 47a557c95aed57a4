/**
 * Where the built shim is: $TSJAIL_SHIM (tests, packagers), the package's own
 * shim-c/ build, or a distribution's libexec directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsjailError } from '../errors.js';
import { packageRoot } from '../sys/package-root.js';

export function findShim(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.TSJAIL_SHIM
    ? [env.TSJAIL_SHIM]
    : [
        ...(packageRoot() ? [path.join(packageRoot()!, 'shim-c', 'tsjail-shim')] : []),
        '/usr/libexec/tsjail/tsjail-shim',
        '/usr/lib/tsjail/tsjail-shim',
      ];
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  throw new TsjailError(`the sandbox helper tsjail-shim was not found (looked in ${candidates.join(', ')})`, {
    hint: 'build it with `npm run build` (needs gcc and make), or set TSJAIL_SHIM',
  });
}
