// The layering README.md describes: no cycle between the folders of src/
// (value and type imports alike), and src/plan a leaf every stage may import.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');
const script = path.join(root, 'scripts/layers.mjs');

function layers(src: string): {
  status: number | null;
  graph: Record<string, Record<string, string[]>>;
  cycles: string[][];
} {
  const r = spawnSync(process.execPath, [script, '--json', src], { encoding: 'utf8' });
  return { status: r.status, ...JSON.parse(r.stdout) };
}

t.test('src/ has no cycle between folders', async (t) => {
  const r = layers(path.join(root, 'src'));
  t.same(r.cycles, [], 'no cycle');
  t.equal(r.status, 0);
  t.same(r.graph.plan, {}, 'src/plan imports no other folder');
  for (const [from, tos] of Object.entries(r.graph)) t.notOk('cli' in tos, `${from} does not import the CLI`);
});

t.test('the script sees value, type, re-export and import() edges, and reports a cycle', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsjail-layers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (f: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  };
  write('a/x.ts', "import { y } from '../b/y.js';\nexport const x = y;\n");
  write('b/y.ts', "export const y = 1;\nexport type Z = import('../c/z.js').Z;\n");
  write('c/z.ts', "export type { W as Z } from '../d/w.js';\n");
  write('d/w.ts', "import type { X } from '../e/v.js';\nexport type W = X;\n");
  write('e/v.ts', "export type X = number;\nexport const later = () => import('../a/x.js');\n");
  const r = layers(dir);
  t.equal(r.status, 1, 'exit status 1 on a cycle');
  t.same(Object.keys(r.graph.a ?? {}), ['b']);
  t.same(Object.keys(r.graph.b ?? {}), ['c']);
  t.same(Object.keys(r.graph.c ?? {}), ['d']);
  t.same(Object.keys(r.graph.d ?? {}), ['e']);
  t.same(Object.keys(r.graph.e ?? {}), ['a']);
  t.same(r.cycles, [['a', 'b', 'c', 'd', 'e', 'a']]);
  fs.writeFileSync(path.join(dir, 'e/v.ts'), 'export type X = number;\n');
  const fixed = layers(dir);
  t.equal(fixed.status, 0);
  t.same(fixed.cycles, []);
});
