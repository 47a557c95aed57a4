/**
 * A host tree for the mount planner's tests: a fresh directory (its real
 * path, no symlink above it) removed when the test ends, and `mk` to make a
 * directory (no content) or a file below it.
 */
import type { Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function hostTree(t: Test, prefix: string): { root: string; mk: (rel: string, content?: string) => string } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const mk = (rel: string, content?: string): string => {
    const p = path.join(root, rel);
    if (content === undefined) fs.mkdirSync(p, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
    return p;
  };
  return { root, mk };
}
