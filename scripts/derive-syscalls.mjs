#!/usr/bin/env node
// Derives the shipped profiles' syscall removals from what each program was
// seen calling while it did the jobs of its acceptance tests.
//
//   1. As root, as CI runs the suite, with the apps installed (.ci/run):
//        mkdir -m 1777 /var/tmp/learned
//        TSJAIL_LEARN_DIR=/var/tmp/learned npx tap test/integration/apps-*.test.ts
//      Each job (not the denials) then runs under `tsjail learn -p PROFILE`
//      (test/helpers/apps.ts) and leaves PROFILE.XXXX.json5 there; the
//      browsers' jobs are learned by hand the same way (tsjail learn -p
//      firefox -o ... -- firefox-esr --headless --screenshot ... URL).
//   2. node scripts/derive-syscalls.mjs /var/tmp/learned
//      writes test/fixtures/syscalls-seen/PROFILE.json for each profile (the
//      union of the calls its runs made, beside the calls it keeps on
//      purpose, `kept`, carried over from the file already there), and
//      prints for each the `syscalls.deny` the profile must carry: every call
//      of TIGHTENABLE (src/seccomp/groups.ts) that the profile allows and the
//      program was not seen making, a group's name where all of it goes.
//      test/unit/profile/syscalls-tight.test.ts then holds each profile to
//      its record, and the acceptance tests prove the program still does its
//      job without what was removed.
//
// Needs `npm run build` (it reads dist/).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import JSON5 from 'json5';
import { TIGHTENABLE, TIGHTENABLE_GROUPS, expandGroup, tightDeny } from '../dist/seccomp/groups.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const seenDir = path.join(repo, 'test', 'fixtures', 'syscalls-seen');
const write = process.argv.includes('--write');
const dir = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!dir) {
  console.error('usage: node scripts/derive-syscalls.mjs [--write] DIR (the learned profiles of TSJAIL_LEARN_DIR)');
  process.exit(125);
}

const ctx = { network: 'tcp', nestedSandbox: true };
const names = (entries) =>
  entries.flatMap((e) =>
    typeof e === 'string' ? (e.startsWith('@') ? names(expandGroup(e, ctx)) : [e]) : e && e.name ? [e.name] : [],
  );

/** PROFILE -> { seen: Set, refused: Set, runs: n } */
const byProfile = new Map();
for (const f of fs.readdirSync(dir).sort()) {
  const m = /^([a-z0-9-]+)\.[0-9a-f]+\.json5$/.exec(f);
  if (!m) continue;
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  let doc;
  try {
    doc = JSON5.parse(text);
  } catch (e) {
    console.error(`${f}: not a profile (${e.message}); left out`);
    continue;
  }
  const p = byProfile.get(m[1]) ?? { seen: new Set(), refused: new Set(), runs: 0 };
  for (const n of names(doc.syscalls?.allow ?? [])) p.seen.add(n);
  const r = /Refused while learning \([^)]*\): ([^;]+);/.exec(text.replace(/\n\s*\/\/ /g, ' '));
  if (r) for (const n of r[1].split(/,\s*/)) p.refused.add(n.trim());
  p.runs++;
  byProfile.set(m[1], p);
}

// Profiles for any program (interpreters, build tools, the fallbacks) get no record.
const unrecorded = JSON.parse(fs.readFileSync(path.join(seenDir, 'unrecorded.json'), 'utf8'));
for (const [profile, p] of [...byProfile].sort()) {
  if (profile in unrecorded) {
    console.log(`${profile}: no record (${unrecorded[profile]})`);
    continue;
  }
  const file = path.join(seenDir, `${profile}.json`);
  const old = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const kept = old.kept ?? {};
  const record = {
    profile,
    derived: new Date().toISOString().slice(0, 10),
    kernel: `${os.release()} ${os.arch()}`,
    runs: p.runs,
    seen: [...p.seen].sort(),
    refused: [...p.refused].sort(),
    kept,
  };
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  const out = tightDeny(p.seen, new Set(Object.keys(kept)));
  if (write) applyDeny(profile, out);
  console.log(
    `${profile} (${p.runs} run${p.runs === 1 ? '' : 's'}, ${p.seen.size} calls seen${p.refused.size ? `, refused: ${[...p.refused].join(' ')}` : ''})`,
  );
  console.log(`  deny: ${JSON.stringify(out)}`);
}

/**
 * Rewrites the profile's `syscalls.deny` (profiles/PROFILE.json5): what it
 * refuses for reasons of its own (entries that are no TIGHTENABLE group or
 * call), then the derived removals, with a comment naming the record.
 */
function applyDeny(profile, derived) {
  const file = path.join(repo, 'profiles', `${profile}.json5`);
  const text = fs.readFileSync(file, 'utf8');
  const doc = JSON5.parse(text);
  const own = (doc.syscalls?.deny ?? []).filter(
    (e) => typeof e !== 'string' || !(e in TIGHTENABLE_GROUPS || e in TIGHTENABLE),
  );
  const list = [...own, ...derived];
  const start = text.search(/^ {2}syscalls: \{/m);
  if (start < 0) {
    // None yet: @default, and the block goes last.
    const close = text.lastIndexOf('\n}');
    fs.writeFileSync(
      file,
      `${text.slice(0, close)}\n  syscalls: {\n    allow: ["@default"],\n  },${text.slice(close)}`,
    );
    applyDeny(profile, derived);
    return;
  }
  const end = text.indexOf('\n  },', start);
  let block = text.slice(start, end);
  block = block
    .replace(/\n {4}\/\/ Also refused: [^\n]*(\n {4}\/\/ [^\n]*)*/, '')
    .replace(/\n {4}deny: \[[^\]]*\],/, '');
  const lines = [
    '    // Also refused: what its program was never seen making of the calls few programs need',
    `    // (test/fixtures/syscalls-seen/${profile}.json; "Tight system calls" in tsjail-profile(5)).`,
    '    deny: [',
  ];
  let line = '     ';
  for (const e of list) {
    const item = ` ${JSON.stringify(e)},`;
    if (line.length + item.length > 100) {
      lines.push(line);
      line = '     ';
    }
    line += item;
  }
  lines.push(line, '    ],');
  const at = block.search(/\n {4}allow: \[[^\]]*\],/);
  const allowEnd = block.indexOf('],', at) + 2;
  block = block.slice(0, allowEnd) + '\n' + lines.join('\n') + block.slice(allowEnd);
  fs.writeFileSync(file, text.slice(0, start) + block + text.slice(end));
}
