import { join } from 'node:path';
import t from 'tap';

import { ProfileError, checkProfiles, loadProfile } from '../../../src/profile/index.js';
import { parseProfileText } from '../../../src/profile/load.js';
import { mapPositions } from '../../../src/profile/positions.js';
import { FIXTURES, SHIPPED, vars, writeTree } from './helpers.js';

const opts = { vars: vars(), searchPath: [SHIPPED] };

t.test("a syntax error is FILE:LINE:COL: message, at json5's position", async (t) => {
  const file = join(FIXTURES, 'bad', 'syntax.json5');
  const err = t.throws(() => loadProfile(file, opts)) as ProfileError;
  t.type(err, ProfileError);
  t.equal(err.message, `${file}:4:3: invalid character 'n'`);
  t.equal(err.line, 4);
  t.equal(err.col, 3);
});

t.test('syntax error at end of input', async (t) => {
  const err = t.throws(() => parseProfileText('f.json5', '{\n  a: [1,\n')) as ProfileError;
  t.equal(err.message, 'f.json5:3:1: invalid end of input');
});

t.test('an unreadable file names the file and the reason', async (t) => {
  const err = t.throws(() => loadProfile('/nonexistent/x.json5', opts)) as ProfileError;
  t.equal(err.message, '/nonexistent/x.json5: cannot read profile: no such file');
  const dir = t.testdir({ 'd.json5': {} });
  const err2 = t.throws(() => loadProfile(join(dir, 'd.json5'), opts)) as ProfileError;
  t.match(err2.message, /d\.json5: cannot read profile: not a regular file$/);
});

t.test('the position map finds every key and value', async (t) => {
  const text = [
    '// comment with { braces } and "quotes"',
    '{',
    "  'quoted': 1, /* block",
    '  comment */ filesystem: {',
    '    ro: ["/a", \'/b\',',
    '      "/c\\"d",   // escaped quote',
    '    ],',
    '  },',
    '  syscalls: { allow: [ { name: "ioctl", args: [ {arg: 1, op: "==", value: 0x5401},',
    '                                                {arg: 2, op: "in", value: [1, 2]} ] } ] },',
    '  "odd key": { "x.y": +Infinity },',
    '}',
  ].join('\n');
  const m = mapPositions(text);
  const at = (p: string) => m.nodes.get(p);
  t.same(at('quoted'), { key: { line: 3, col: 3 }, value: { line: 3, col: 13 } });
  t.same(at('filesystem')?.key, { line: 4, col: 14 });
  t.same(at('filesystem.ro[1]')?.value, { line: 5, col: 16 });
  t.same(at('filesystem.ro[2]')?.value, { line: 6, col: 7 });
  t.same(at('syscalls.allow[0].args[0].value')?.value, { line: 9, col: 75 });
  t.same(at('syscalls.allow[0].args[1].op')?.key, { line: 10, col: 58 });
  t.same(at('syscalls.allow[0].args[1].value[1]')?.value, { line: 10, col: 79 });
  t.same(at('["odd key"]["x.y"]')?.value, { line: 11, col: 23 });
  t.same(m.duplicates, []);
});

t.test('a key written twice is an error naming both lines', async (t) => {
  const dir = writeTree(t.testdir(), {
    'dup.json5': '{\n  filesystem: { ro: ["/usr"] },\n  hostname: "a",\n  filesystem: { rw: ["/tmp"] },\n}\n',
  });
  const errs = checkProfiles([join(dir, 'dup.json5')], opts);
  t.equal(errs.length, 1);
  t.equal(
    errs[0]!.message,
    `${join(dir, 'dup.json5')}:4: filesystem: key written twice (first at line 2); the first would be ignored`,
  );
});

t.test('a byte-order mark is accepted and does not shift positions', async (t) => {
  const r = parseProfileText('f', '\ufeff{\n  hostname: "h",\n}');
  t.same(r.data, { hostname: 'h' });
  t.same(r.positions.nodes.get('hostname')?.key, { line: 2, col: 3 });
});

t.test('a profile that is not an object', async (t) => {
  const dir = writeTree(t.testdir(), { 'list.json5': '\n["/usr"]\n' });
  const err = t.throws(() => loadProfile(join(dir, 'list.json5'), opts)) as ProfileError;
  t.equal(err.message, `${join(dir, 'list.json5')}:2: a profile must be an object { ... }, got a list`);
});

t.test('absurd nesting is an error, not a stack overflow', async (t) => {
  const err = t.throws(() =>
    parseProfileText('f', `{ description: ${'['.repeat(100000)}${']'.repeat(100000)} }`),
  ) as ProfileError;
  t.equal(err.message, 'f:1:80: nested deeper than 64 levels');
});
