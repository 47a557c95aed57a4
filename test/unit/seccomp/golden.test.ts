// Golden disassembly of @default for network none/host x nestedSandbox
// off/on, on x86_64 and aarch64, and with multiarch (the i386 half, int
// $0x80) on x86_64. TSJAIL_UPDATE_GOLDEN=1 rewrites the files.

import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { compileSeccomp, disassemble } from '../../../src/seccomp/compile.js';

for (const arch of ['x86_64', 'aarch64'] as const) {
  for (const network of ['none', 'host'] as const) {
    const variants: [nestedSandbox: boolean, multiarch: boolean][] = [
      [false, false],
      [true, false],
      ...(arch === 'x86_64' ? [[false, true] as [boolean, boolean]] : []),
    ];
    for (const [nestedSandbox, multiarch] of variants) {
      const file = `default-net-${network}${nestedSandbox ? '-nested' : ''}${multiarch ? '-multiarch' : ''}.${arch}.txt`;
      t.test(file, async (t) => {
        const res = compileSeccomp(
          { allow: ['@default'], deny: [], action: 'errno', network, nestedSandbox, multiarch },
          arch,
        );
        const text = disassemble(res.bytes, arch);
        const url = new URL(`../../golden/seccomp/${file}`, import.meta.url);
        if (process.env.TSJAIL_UPDATE_GOLDEN === '1') writeFileSync(url, text);
        t.equal(text, readFileSync(url, 'utf8'), 'run with TSJAIL_UPDATE_GOLDEN=1 to accept a change');
      });
    }
  }
}
