/**
 * Shared setup for the profile tests: fixture directories, a controlled
 * variable context, and a way to write throw-away profiles.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildVarContext, type VarContext, type VarContextInit } from '../../../src/profile/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..', '..');
export const FIXTURES = join(REPO, 'test', 'fixtures', 'profiles');
/** The profiles tsjail ships (base and default live here). */
export const SHIPPED = join(REPO, 'profiles');

export const HOME = '/home/alice';

export function vars(over: Partial<VarContextInit> = {}): VarContext {
  return buildVarContext({
    env: { XDG_RUNTIME_DIR: '/run/user/1000' },
    uid: 1000,
    user: 'alice',
    home: HOME,
    cwd: '/home/alice/work',
    userDirsText: null,
    ...over,
  });
}

/** Writes files (relative path -> text) below dir and returns dir. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}
