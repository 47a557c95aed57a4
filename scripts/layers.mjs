#!/usr/bin/env node
// The import graph between the folders of src/ (one concept per folder),
// counting value and type imports alike: `import`, `import type`,
// `export ... from`, `import()` and `import('...').T` in types. Prints one
// line per edge with the files behind it, then every cycle; exits 1 when
// there is a cycle. A file directly in src/ (errors.ts) is a node of its own.
//
//   node scripts/layers.mjs [--json] [SRC_DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const json = args.includes('--json');
const srcDir = path.resolve(args.find((a) => !a.startsWith('--')) ?? new URL('../src', import.meta.url).pathname);

function* tsFiles(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

/** Every module specifier a file names, in value or type position. */
function specifiers(file) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) out.push(e.text);
    } else if (ts.isImportTypeNode(node)) {
      const a = node.argument;
      if (ts.isLiteralTypeNode(a) && ts.isStringLiteral(a.literal)) out.push(a.literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [a] = node.arguments;
      if (a && ts.isStringLiteral(a)) out.push(a.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The folder of src/ a file belongs to ("errors.ts" for a file directly in src/). */
function folderOf(file) {
  return path.relative(srcDir, file).split(path.sep)[0];
}

const edges = new Map(); // from -> to -> Set(files)
const nodes = new Set();
for (const file of tsFiles(srcDir)) {
  const from = folderOf(file);
  nodes.add(from);
  for (const spec of specifiers(file)) {
    if (!spec.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    if (path.relative(srcDir, target).startsWith('..')) continue;
    const to = folderOf(target);
    if (to === from) continue;
    nodes.add(to);
    if (!edges.has(from)) edges.set(from, new Map());
    const m = edges.get(from);
    if (!m.has(to)) m.set(to, new Set());
    m.get(to).add(path.relative(srcDir, file));
  }
}

// Cycles: every strongly connected component of more than one folder
// (Tarjan), each shown as one cycle through it.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const sccs = [];
let counter = 0;
const strong = (v) => {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) sccs.push(scc.sort());
  }
};
for (const v of [...nodes].sort()) if (!index.has(v)) strong(v);

/** A shortest cycle through `start` inside its component (breadth-first). */
function cycleThrough(start, members) {
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        for (let u = prev.get(v); u !== null; u = prev.get(u)) pathBack.push(u);
        return [...pathBack.reverse(), start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}
const cycles = sccs.map((scc) => cycleThrough(scc[0], new Set(scc)));

if (json) {
  const graph = {};
  for (const v of [...nodes].sort()) {
    graph[v] = {};
    for (const [w, files] of [...(edges.get(v) ?? new Map())].sort()) graph[v][w] = [...files].sort();
  }
  console.log(JSON.stringify({ graph, cycles }, null, 2));
} else {
  for (const v of [...nodes].sort()) {
    const outs = [...(edges.get(v)?.keys() ?? [])].sort();
    console.log(`${v} -> ${outs.length ? outs.join(', ') : '(nothing)'}`);
  }
  for (const [i, c] of cycles.entries()) {
    console.log(`cycle among ${sccs[i].join(', ')}, for example: ${c.join(' -> ')}`);
    for (let i = 0; i + 1 < c.length; i++)
      console.log(`  ${c[i]} -> ${c[i + 1]}: ${[...edges.get(c[i]).get(c[i + 1])].sort().join(', ')}`);
  }
  if (cycles.length === 0) console.log('no cycle between the folders of src/');
}
process.exit(cycles.length ? 1 : 0);
