// Two launch plans that differ only in the report of discarded files, for
// bench/discard.sh: the plan a cached `tsjail -v PROGRAM` left in the plan
// cache (src/cache/store.ts), with its VERBOSE record dropped so the shim
// says nothing else, once as it is (its DISCARD records: the report on) and
// once without them (the report off), each with ARGS appended as ARGV
// records the way shim-c/fast.c appends them.
//   node discard-plans.mjs CACHE-FILE OUT-PREFIX ARG...
// writes OUT-PREFIX-on.plan and OUT-PREFIX-off.plan.
import * as fs from 'node:fs';

const PLAN_MAGIC = 0x504a5354; // src/plan/encode.ts
const VERBOSE = 4;
const DISCARD = 21;
const ARGV = 33;

const [cacheFile, prefix, ...args] = process.argv.slice(2);
if (!cacheFile || !prefix || args.length === 0) {
  console.error('usage: node discard-plans.mjs CACHE-FILE OUT-PREFIX ARG...');
  process.exit(2);
}
const file = fs.readFileSync(cacheFile);

/** The plan blob: its magic, preceded by the blob's length, which the plan's own length field repeats. */
function findPlan(buf) {
  for (let at = 4; at + 16 <= buf.length; at++) {
    if (buf.readUInt32LE(at) !== PLAN_MAGIC || buf.readUInt32LE(at + 4) !== 1) continue;
    const len = buf.readUInt32LE(at + 8);
    if (buf.readUInt32LE(at - 4) === len && at + len <= buf.length) return buf.subarray(at, at + len);
  }
  throw new Error(`${cacheFile}: no launch plan found`);
}

const plan = findPlan(file);
const records = [];
for (let at = 16; at < plan.length;) {
  const type = plan.readUInt16LE(at);
  const len = plan.readUInt32LE(at + 4);
  records.push({ type, bytes: plan.subarray(at, at + 8 + len) });
  at += 8 + len;
}
if (records.length !== plan.readUInt32LE(12)) throw new Error(`${cacheFile}: record count does not match`);
if (!records.some((r) => r.type === DISCARD))
  throw new Error(`${cacheFile}: no DISCARD record (was the plan made with -v?)`);

const argv = args.map((a) => {
  const s = Buffer.from(a, 'utf8');
  const rec = Buffer.alloc(12 + s.length);
  rec.writeUInt16LE(ARGV, 0);
  rec.writeUInt32LE(4 + s.length, 4);
  rec.writeUInt32LE(s.length, 8);
  s.copy(rec, 12);
  return rec;
});

for (const [name, keep] of [
  ['on', (r) => r.type !== VERBOSE],
  ['off', (r) => r.type !== VERBOSE && r.type !== DISCARD],
]) {
  const body = [...records.filter(keep).map((r) => r.bytes), ...argv];
  const head = Buffer.alloc(16);
  const length = 16 + body.reduce((n, b) => n + b.length, 0);
  head.writeUInt32LE(PLAN_MAGIC, 0);
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(length, 8);
  head.writeUInt32LE(body.length, 12);
  fs.writeFileSync(`${prefix}-${name}.plan`, Buffer.concat([head, ...body]));
}
