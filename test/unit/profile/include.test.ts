import { join } from 'node:path';
import t from 'tap';

import { ProfileError, checkProfiles, loadProfile } from '../../../src/profile/index.js';
import { FIXTURES, SHIPPED, vars, writeTree } from './helpers.js';

const GRAPH = join(FIXTURES, 'graph');
const opts = { vars: vars(), searchPath: [GRAPH, SHIPPED] };
const g = (name: string): string => join(GRAPH, name);
const inc = (name: string): string => join(GRAPH, 'include', `${name}.json5`);
const BASE = join(SHIPPED, 'include', 'base.json5');

t.test('includes merge in order, below the including profile; base comes first', async (t) => {
  const p = loadProfile('order', opts);
  t.same(p.files, [BASE, inc('first'), inc('second'), g('order.json5')]);
  t.equal(p.hostname, 'second', 'the later include wins a scalar');
  t.equal(p.landlock, 'required', 'a scalar only one layer sets survives');
  t.equal(p.syscalls.action, 'log');
  t.same(p.limits, { core: 0, nofile: 20, nproc: 10 }, 'limits merge per key');
  t.same(
    p.syscalls.allow.map((a) => [a.value, a.layer]),
    [
      ['read', 1],
      ['open', 2],
      ['@default', 3],
      ['write', 3],
    ],
    'lists are a union in layer order; a repeated entry keeps its first place',
  );
  t.same(p.syscalls.allow[0]!.source, { file: inc('first'), line: 4, col: 23 });
});

t.test('a diamond include is merged once, at its first place', async (t) => {
  const p = loadProfile('diamond', opts);
  t.same(p.files, [BASE, inc('shared'), inc('left'), inc('right'), g('diamond.json5')]);
  t.same(
    p.sockets.map((s) => s.value),
    ['pipewire', 'wayland', 'x11'],
  );
});

t.test('base named explicitly is not merged twice', async (t) => {
  const p = loadProfile('explicit-base', opts);
  t.same(p.files, [BASE, inc('shared'), g('explicit-base.json5')]);
});

t.test('a cycle is an error naming the chain, at the include entry that closes it', async (t) => {
  t.throws(() => loadProfile('cycle', opts), {
    message: `${inc('b')}:3: include[0]: include cycle: a -> b -> a`,
    file: inc('b'),
    line: 3,
    keyPath: 'include[0]',
  });
  t.throws(() => loadProfile('self', opts), {
    message: `${inc('selfish')}:3: include[0]: include cycle: selfish -> selfish`,
  });
});

t.test("a missing include is an error at its entry's FILE:LINE", async (t) => {
  const err = t.throws(() => loadProfile('missing', opts)) as ProfileError;
  t.equal(
    err.message,
    `${g('missing.json5')}:4: include[1]: snippet "does-not-exist" not found in include/ of: ${GRAPH}, ${SHIPPED}`,
  );
});

t.test('includes nested too deep are an error naming the chain', async (t) => {
  const err = t.throws(() => loadProfile('deep', opts)) as ProfileError;
  t.match(
    err.message,
    new RegExp(`^${inc('d16')}:1: include\\[0\\]: includes nested deeper than 16: deep -> d1 -> d2 .* -> d16 -> d17$`),
  );
});

t.test("a snippet with errors is reported in its own file; the includer's other errors too", async (t) => {
  const dir = writeTree(t.testdir(), {
    'include/broken.json5': '{\n  hostnam: "x",\n}\n',
    'include/unparsable.json5': '{ oops }',
    'p.json5': '{\n  include: ["broken", "unparsable"],\n  sockets: ["nope"],\n}\n',
  });
  const errs = checkProfiles(['p'], { vars: vars(), searchPath: [dir, SHIPPED] }).map((e) => e.message);
  t.same(errs, [
    `${dir}/p.json5:3: sockets[0]: unknown socket "nope"; expected one of "wayland", "x11", "x11-isolated", "pulseaudio", "pipewire"`,
    `${dir}/include/broken.json5:2: hostnam: unknown key; did you mean "hostname"?`,
    `${dir}/include/unparsable.json5:1:8: invalid character '}'`,
  ]);
});

t.test('base must be on the search path', async (t) => {
  const dir = writeTree(t.testdir(), { 'p.json5': '{}' });
  t.throws(() => loadProfile('p', { vars: vars(), searchPath: [dir] }), {
    message: `${dir}/p.json5: the built-in snippet "base" was not found in include/ of: ${dir}`,
  });
});

t.test('a snippet on an earlier search directory shadows a later one', async (t) => {
  const searchPath = [join(FIXTURES, 'user'), join(FIXTURES, 'shipped'), SHIPPED];
  const p = loadProfile('firefox', { vars: vars(), searchPath });
  t.ok(p.files.includes(join(FIXTURES, 'user', 'include', 'gpu.json5')));
  t.notOk(p.files.includes(join(FIXTURES, 'shipped', 'include', 'gpu.json5')));
  t.same(
    p.devices.map((d) => d.value),
    ['dri', 'kvm', 'snd'],
  );
});
