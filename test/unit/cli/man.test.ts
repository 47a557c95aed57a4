// tsjail(1) documents every verb and option `tsjail --help` lists: the help
// text is read from the built CLI, the man page from man/tsjail.1.
import t from 'tap';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${repo}bin/tsjail.js`;

function help(args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsjail ${args.join(' ')} --help: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** roff source -> lines of plain text: fonts and macros dropped, alternating macros joined as troff joins them. */
function plain(roff: string): string[] {
  return roff.split('\n').map((l) => {
    let s = l
      .replace(/\\-/g, '-')
      .replace(/\\\(dq/g, '"')
      .replace(/\\f[BIRP]/g, '');
    const m = /^\.(B|I|BI|IB|BR|RB|IR|RI)\s+(.*)$/.exec(s);
    if (m) {
      const words = [...m[2]!.matchAll(/"([^"]*)"|(\S+)/g)].map((w) => w[1] ?? w[2]!);
      s = m[1]!.length === 1 ? words.join(' ') : words.join('');
    }
    return s;
  });
}

const man = plain(fs.readFileSync(`${repo}man/tsjail.1`, 'utf8'));
const section = (name: string): string[] => {
  const start = man.indexOf(`.SH ${name}`);
  const end = man.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return man.slice(start + 1, end < 0 ? undefined : end);
};

/** SYNOPSIS lines, each `.br`-separated entry joined into one. */
const synopsis = section('SYNOPSIS')
  .join(' ')
  .split(/\s*\.br\s*/)
  .map((l) => l.replace(/\s+/g, ' ').trim());
/** The heading of each VERBS entry (the line after .TP). */
const verbHeads = section('VERBS').filter((_, i, a) => a[i - 1] === '.TP');
const text = man.join('\n');

const top = help([]);
const verbs = [...top.matchAll(/^ {2}tsjail (.+)$/gm)].map((m) => {
  const words = m[1]!.split(' ');
  const at = words.findIndex((w) => /^[[<.]/.test(w));
  return { verb: words.slice(0, at < 0 ? undefined : at).join(' '), usage: m[1]! };
});

t.test('--help lists the verbs of SPEC', async (t) => {
  t.same(verbs.map((v) => v.verb).sort(), [
    'completion',
    'doctor',
    'enter',
    'integrate',
    'learn',
    'profile check',
    'profile explain',
    'profile list',
    'profile show',
    'ps',
    'run',
    'seccomp compile',
    'seccomp disasm',
    'setup-limits',
    'stop',
  ]);
});

for (const { verb } of verbs) {
  t.test(`tsjail(1) documents ${verb}`, async (t) => {
    t.ok(
      synopsis.some((l) => l.startsWith(`tsjail ${verb}`)),
      `SYNOPSIS has "tsjail ${verb}"`,
    );
    if (verb !== 'run')
      t.ok(
        verbHeads.some((h) => h.startsWith(`${verb}`)),
        `VERBS has an entry for ${verb}`,
      );
    const options = new Set([...help(verb.split(' ')).matchAll(/^ {2}(-\S+)/gm)].flatMap((m) => m[1]!.split(',')));
    for (const o of options) {
      t.match(text, new RegExp(`(^|[\\s\\[(])${o}([\\s\\]),]|$)`, 'm'), `${verb} ${o} is in the man page`);
    }
    if (verb === 'run') {
      for (const o of options) t.ok(section('OPTIONS').join('\n').includes(o), `run's ${o} is under OPTIONS`);
    }
  });
}

t.test('tsjail(1) documents --help and --version', async (t) => {
  for (const o of ['--help', '--version']) {
    t.ok(synopsis.includes(`tsjail ${o}`), `SYNOPSIS has tsjail ${o}`);
    t.ok(section('OPTIONS').includes(o), `OPTIONS has ${o}`);
  }
});
