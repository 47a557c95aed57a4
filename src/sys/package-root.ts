/**
 * The directory of this tsjail installation: the nearest ancestor of this
 * module holding package.json. Works from src/ (tests), dist/ (tsc output)
 * and the single-file bundle dist/tsjail.mjs alike.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null | undefined;

export function packageRoot(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) {
      cached = null;
      return undefined;
    }
    dir = up;
  }
}
