import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildEnv, DEFAULT_PATH } from '../../../src/policy/build.js';
import { currentHardLimits, planLimits, withProcessLimit } from '../../../src/launch/limits.js';
import { RLIM_INFINITY } from '../../../src/plan/plan.js';
import { TsjailError } from '../../../src/errors.js';

t.test('environment order: PATH, keep (globs), sockets, env.set, --env', async (t) => {
  const env = buildEnv(
    { PATH: '/p', HOME: '/h', LC_ALL: 'C', LC_TIME: 'x', SECRET: 's', DISPLAY: ':9' },
    ['HOME', 'LC_*'],
    { DISPLAY: ':0' },
    { HOME: '/set', EXTRA: 'e' },
    ['EXTRA=cli', 'EMPTY='],
  );
  t.same(env, ['PATH=/p', 'HOME=/set', 'LC_ALL=C', 'LC_TIME=x', 'DISPLAY=:0', 'EXTRA=cli', 'EMPTY=']);
});

t.test('PATH falls back to a sane default', async (t) => {
  t.same(buildEnv({}, [], {}, {}, []), [`PATH=${DEFAULT_PATH}`]);
  t.same(buildEnv({ PATH: '' }, [], {}, {}, []), [`PATH=${DEFAULT_PATH}`]);
});

t.test('--env needs NAME=VALUE with a valid name', async (t) => {
  for (const bad of ['NOEQ', '=x', '1A=b', 'A-B=c', 'A\0=b'])
    t.throws(() => buildEnv({}, [], {}, {}, [bad]), TsjailError, bad);
  t.same(buildEnv({}, [], {}, {}, ['A=b=c']).at(-1), 'A=b=c');
});

t.test('limits: names to resources, unlimited, lowered to the hard limit', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lim-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const f = path.join(dir, 'limits');
  fs.writeFileSync(
    f,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max open files            1024                 4096                 files     \n' +
      'Max core file size        0                    unlimited            bytes     \n',
  );
  const hard = currentHardLimits(f);
  t.equal(hard.get('Max open files'), 4096n);
  t.equal(hard.get('Max core file size'), RLIM_INFINITY);
  const notes: string[] = [];
  const ops = planLimits({ nofile: 100000, core: 0, nproc: 'unlimited' }, hard, notes);
  t.same(
    ops.find((o) => o.name === 'nofile'),
    { name: 'nofile', resource: 7, soft: 4096n, hard: 4096n },
  );
  t.same(
    ops.find((o) => o.name === 'core'),
    { name: 'core', resource: 4, soft: 0n, hard: 0n },
  );
  t.equal(ops.find((o) => o.name === 'nproc')!.soft, RLIM_INFINITY);
  t.match(notes.join('\n'), /nofile 100000 lowered to the caller's hard limit 4096/);
  t.ok(currentHardLimits().size > 10, "this process's own limits parse");
});

t.test('limits.pids as RLIMIT_NPROC: the lower of it and limits.nproc, within the hard limit', async (t) => {
  const hard = new Map([['Max processes', 1000n]]);
  const nofile = { name: 'nofile', resource: 7, soft: 64n, hard: 64n };
  const notes: string[] = [];
  t.same(withProcessLimit([nofile], 64, hard, notes), [nofile, { name: 'nproc', resource: 6, soft: 64n, hard: 64n }]);
  const nproc = { name: 'nproc', resource: 6, soft: 32n, hard: 32n };
  t.same(withProcessLimit([nproc, nofile], 64, hard, notes), [nproc, nofile], 'limits.nproc 32 is lower: kept');
  t.same(
    withProcessLimit([{ ...nproc, soft: 128n, hard: 128n }], 64, hard, notes),
    [{ name: 'nproc', resource: 6, soft: 64n, hard: 64n }],
    'limits.pids 64 is lower: it replaces limits.nproc 128',
  );
  t.same(notes, []);
  t.same(withProcessLimit([], 4096, hard, notes), [{ name: 'nproc', resource: 6, soft: 1000n, hard: 1000n }]);
  t.match(notes, [/limits\.pids 4096 lowered to the caller's hard limit of processes 1000/]);
});
