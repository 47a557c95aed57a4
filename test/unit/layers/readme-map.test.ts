// README.md's map of src/ (one line per folder, "  src/NAME  what it holds")
// stays true: every folder of src/ has its line and every line names a
// folder that exists; the src/cli line names every verb a user can type.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../../src/cli/main.js';

const root = path.resolve(import.meta.dirname, '../../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const lines = new Map([...readme.matchAll(/^ {2}src\/([a-z0-9-]+) +(.+)$/gm)].map((m) => [m[1]!, m[2]!] as const));

t.test('every folder of src/ is on the map, and nothing else', async (t) => {
  const folders = fs
    .readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  t.ok(lines.size > 10, `the map was found (${lines.size} lines)`);
  t.same([...lines.keys()].sort(), folders);
});

t.test('the src/cli line names every verb a user types', async (t) => {
  const cli = lines.get('cli') ?? '';
  const verbs = new Set(
    COMMANDS.flatMap((c) => (c.paths ?? []).map((p) => p[0])).filter(
      (w): w is string => w !== undefined && /^[a-z]/.test(w),
    ),
  );
  for (const v of verbs) t.match(cli, new RegExp(`\\b${v}\\b`), v);
});
