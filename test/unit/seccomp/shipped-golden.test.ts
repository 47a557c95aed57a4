// Golden disassembly of the filter every shipped profile runs under, on
// x86_64 and aarch64, so a reviewer sees in the diff what a change to a
// profile or to the compiler does to the program. A new profile needs its
// golden files: TSJAIL_UPDATE_GOLDEN=1 writes them.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compileProfileSeccomp, seccompNetwork } from '../../../src/policy/seccomp.js';
import { buildVarContext, loadProfile } from '../../../src/profile/index.js';
import { disassemble } from '../../../src/seccomp/compile.js';
import { REPO } from '../../helpers/sandbox.js';

const dir = join(REPO, 'profiles');
const vars = buildVarContext({
  env: { XDG_RUNTIME_DIR: '/run/user/1000' },
  uid: 1000,
  user: 'u',
  home: '/home/u',
  cwd: '/home/u/work',
  userDirsText: null,
});
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.json5') && !f.endsWith('.local.json5'))
  .map((f) => f.slice(0, -'.json5'.length));

t.ok(names.includes('default') && names.includes('untrusted'), 'the shipped profiles are found');
for (const name of names) {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const file = join(REPO, 'test', 'golden', 'seccomp', `profile-${name}.${arch}.txt`);
    t.test(`${name} on ${arch}`, async (t) => {
      const p = loadProfile(name, { vars, searchPath: [dir] });
      const text = disassemble(compileProfileSeccomp(p, seccompNetwork(p.network), arch).bytes, arch);
      if (process.env.TSJAIL_UPDATE_GOLDEN === '1') writeFileSync(file, text);
      t.ok(existsSync(file), `${file} exists (TSJAIL_UPDATE_GOLDEN=1 writes it)`);
      if (existsSync(file))
        t.equal(text, readFileSync(file, 'utf8'), 'run with TSJAIL_UPDATE_GOLDEN=1 to accept a change');
    });
  }
}
