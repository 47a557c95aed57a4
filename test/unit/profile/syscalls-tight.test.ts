// Each shipped profile's system calls against the record of what its
// program was seen calling (test/fixtures/syscalls-seen/PROFILE.json,
// written by scripts/derive-syscalls.mjs from the learning run of the
// program's acceptance jobs; issue 12 item 3): the profile refuses no call
// the program made, and refuses every call of TIGHTENABLE it did not make,
// unless the record keeps it with a reason. Profiles without a record are
// listed below with why they have none.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { verdicts } from '../../../src/policy/explain.js';
import { loadProfile } from '../../../src/profile/index.js';
import { TIGHTENABLE, TIGHTENABLE_GROUPS, tightDeny, tightenableMembers } from '../../../src/seccomp/groups.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';
import { REPO, SHIPPED, vars } from './helpers.js';

const SEEN = join(REPO, 'test', 'fixtures', 'syscalls-seen');
const opts = { vars: vars(), searchPath: [SHIPPED] };

/** Shipped profiles without a record, and why (scripts/derive-syscalls.mjs reads it too). */
const UNRECORDED = JSON.parse(readFileSync(join(SEEN, 'unrecorded.json'), 'utf8')) as Record<string, string>;

interface SeenRecord {
  profile: string;
  seen: string[];
  kept: Record<string, string>;
}

const shipped = readdirSync(SHIPPED)
  .filter((f) => f.endsWith('.json5'))
  .map((f) => f.slice(0, -'.json5'.length))
  .sort();

t.test('every shipped profile has a record of its calls or a reason for none', async (t) => {
  for (const name of shipped) {
    const has = existsSync(join(SEEN, `${name}.json`));
    if (name in UNRECORDED) t.notOk(has, `${name}: no record (${UNRECORDED[name]})`);
    else t.ok(has, `${name}: test/fixtures/syscalls-seen/${name}.json`);
  }
  for (const f of readdirSync(SEEN).filter((f) => f !== 'unrecorded.json'))
    t.ok(shipped.includes(f.replace(/\.json$/, '')), `${f} is the record of a shipped profile`);
  for (const name of Object.keys(UNRECORDED)) t.ok(shipped.includes(name), `${name} (unrecorded.json) is shipped`);
});

const native = syscallTable('x86_64');
const onNative = (n: string) => native.byName(n) !== undefined;
for (const name of shipped.filter((n) => existsSync(join(SEEN, `${n}.json`)))) {
  t.test(`${name}: refuses what its program never made of the optional calls, and nothing it made`, async (t) => {
    const rec = JSON.parse(readFileSync(join(SEEN, `${name}.json`), 'utf8')) as SeenRecord;
    t.equal(rec.profile, name);
    t.ok(rec.seen.length > 20, `the record holds the calls of a real run (${rec.seen.length})`);
    for (const [k, why] of Object.entries(rec.kept))
      t.ok((k in TIGHTENABLE_GROUPS || k in TIGHTENABLE) && why.length > 10, `${k} is kept on purpose: ${why}`);
    const v = verdicts(loadProfile(name, opts), 'x86_64');
    const refused = (n: string) => (v.get(n) ?? 'none') === 'none';
    t.same(
      rec.seen.filter((n) => onNative(n) && refused(n)),
      [],
      'no call the program made is refused',
    );
    const deny = tightDeny(new Set(rec.seen), new Set(Object.keys(rec.kept)));
    const names = deny.flatMap((e) => (e.startsWith('@') ? tightenableMembers(e) : [e])).filter(onNative);
    t.ok(names.length > 0, `something of the optional calls goes (${deny.join(', ')})`);
    t.same(
      names.filter((n) => !refused(n)),
      [],
      'every optional call the program never made (groups whole) is refused',
    );
    const kept = Object.keys(rec.kept)
      .flatMap((k) => (k.startsWith('@') ? tightenableMembers(k) : [k]))
      .filter(onNative);
    t.same(kept.filter(refused), [], 'what the record keeps on purpose is not refused');
  });
}
