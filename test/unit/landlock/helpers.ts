// Mount-plan nodes for the Landlock unit tests: a directory's stat and a
// mounted node of a role, with fields overridden per case.
import type { FsNode } from '../../../src/mounts/plan.js';

export const dir = { kind: 'dir' as const, dev: 1n, ino: 2n, rdev: 0n, mode: 0o755 };

export const node = (path: string, role: FsNode['role'], extra: Partial<FsNode> = {}): FsNode => ({
  path,
  role,
  exec: false,
  origin: 't',
  layer: 1,
  mounted: true,
  stat: dir,
  ...extra,
});
