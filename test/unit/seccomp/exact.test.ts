// Exact instructions for each condition kind: the word-level lowering and
// code generation of one condition, yes -> ALLOW, no -> EPERM. Brittle on
// purpose (one place where the generated code itself is pinned).

import t from 'tap';
import { EPERM, retErrno } from '../../../src/seccomp/bpf.js';
import { codegen } from '../../../src/seccomp/codegen.js';
import { lowerCond, RET_ALLOW } from '../../../src/seccomp/lower.js';
import type { Cond } from '../../../src/seccomp/policy.js';
import { resolve } from '../../../src/seccomp/resolve.js';
import { exprTree, ret } from '../../../src/seccomp/tree.js';

const MN: Record<number, string> = {
  0x20: 'ld',
  0x54: 'and',
  0x05: 'ja',
  0x15: 'jeq',
  0x25: 'jgt',
  0x35: 'jge',
  0x45: 'jset',
  0x06: 'ret',
};

function listing(c: Cond, ctx: 'allow' | 'deny', abi32 = false): string[] {
  const tree = exprTree(lowerCond(c, ctx, abi32), ret(RET_ALLOW), ret(retErrno(EPERM)));
  return resolve(codegen(tree).entry).insns.map((i) => {
    const m = MN[i.code]!;
    if (m === 'ld') return `ld [${i.k}]`;
    if (m === 'ret') return i.k === RET_ALLOW ? 'ret ALLOW' : 'ret EPERM';
    if (m === 'and') return `and 0x${i.k.toString(16)}`;
    return `${m} 0x${i.k.toString(16)} ${i.jt} ${i.jf}`;
  });
}

const c = (
  arg: number,
  width: 32 | 64,
  op: Cond['op'],
  values: bigint[],
  mask = width === 32 ? 0xffffffffn : 0xffffffffffffffffn,
): Cond => ({ arg, width, op, values, mask });

const CASES: [string, Cond, 'allow' | 'deny', boolean, string[]][] = [
  [
    'deny, 32-bit ==: low word only',
    c(1, 32, '==', [0x5412n]),
    'deny',
    false,
    ['ld [24]', 'jeq 0x5412 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'allow, 32-bit ==: value, then high word 0',
    c(1, 32, '==', [0x5412n]),
    'allow',
    false,
    ['ld [24]', 'jeq 0x5412 0 2', 'ld [28]', 'jeq 0x0 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'allow, 32-bit == with bit 31: high word 0 or sign-extended',
    c(1, 32, '==', [0x80045430n]),
    'allow',
    false,
    ['ld [24]', 'jeq 0x80045430 0 3', 'ld [28]', 'jeq 0x0 2 0', 'jeq 0xffffffff 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'allow, 32-bit !=: full canonical-high check',
    c(0, 32, '!=', [5n]),
    'allow',
    false,
    [
      'ld [16]',
      'jeq 0x5 6 0',
      'ld [20]',
      'jeq 0x0 3 0',
      'jeq 0xffffffff 0 3',
      'ld [16]',
      'jset 0x80000000 0 1',
      'ret ALLOW',
      'ret EPERM',
    ],
  ],
  ['deny, 32-bit <', c(0, 32, '<', [10n]), 'deny', false, ['ld [16]', 'jge 0xa 1 0', 'ret ALLOW', 'ret EPERM']],
  ['deny, 32-bit <=', c(0, 32, '<=', [10n]), 'deny', false, ['ld [16]', 'jgt 0xa 1 0', 'ret ALLOW', 'ret EPERM']],
  ['deny, 32-bit >', c(0, 32, '>', [10n]), 'deny', false, ['ld [16]', 'jgt 0xa 1 0', 'ret EPERM', 'ret ALLOW']],
  ['deny, 32-bit >=', c(0, 32, '>=', [10n]), 'deny', false, ['ld [16]', 'jge 0xa 1 0', 'ret EPERM', 'ret ALLOW']],
  [
    'deny, &== general mask: and + jeq',
    c(0, 32, '&==', [0x10n], 0xf0n),
    'deny',
    false,
    ['ld [16]', 'and 0xf0', 'jeq 0x10 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'deny, &== value 0: jset',
    c(0, 32, '&==', [0n], 0x7e020000n),
    'deny',
    false,
    ['ld [16]', 'jset 0x7e020000 1 0', 'ret ALLOW', 'ret EPERM'],
  ],
  [
    'deny, &== single bit: jset',
    c(0, 32, '&==', [0x100n], 0x100n),
    'deny',
    false,
    ['ld [16]', 'jset 0x100 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'deny, in: chain of jeq',
    c(0, 32, 'in', [1n, 2n, 10n]),
    'deny',
    false,
    ['ld [16]', 'jeq 0x1 3 0', 'jeq 0x2 2 0', 'jeq 0xa 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    'allow on i386: every argument is 32-bit, high word ignored',
    c(1, 32, '==', [0x5412n]),
    'allow',
    true,
    ['ld [24]', 'jeq 0x5412 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    '64-bit ==: high then low',
    c(2, 64, '==', [0x100000003n]),
    'allow',
    false,
    ['ld [36]', 'jeq 0x1 0 2', 'ld [32]', 'jeq 0x3 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    '64-bit >: high decides unless equal (load reused)',
    c(2, 64, '>', [0x100000003n]),
    'allow',
    false,
    ['ld [36]', 'jgt 0x1 4 0', 'jeq 0x1 0 2', 'ld [32]', 'jgt 0x3 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    '64-bit >=',
    c(2, 64, '>=', [0x100000003n]),
    'allow',
    false,
    ['ld [36]', 'jgt 0x1 4 0', 'jeq 0x1 0 2', 'ld [32]', 'jge 0x3 1 0', 'ret EPERM', 'ret ALLOW'],
  ],
  [
    '64-bit <: negated >=',
    c(2, 64, '<', [0x100000003n]),
    'allow',
    false,
    ['ld [36]', 'jgt 0x1 4 0', 'jeq 0x1 0 2', 'ld [32]', 'jge 0x3 1 0', 'ret ALLOW', 'ret EPERM'],
  ],
  [
    '64-bit &==: per-half masks',
    c(2, 64, '&==', [0x100000000n], 0xff000000ffn),
    'allow',
    false,
    ['ld [36]', 'and 0xff', 'jeq 0x1 0 3', 'ld [32]', 'jset 0xff 1 0', 'ret ALLOW', 'ret EPERM'],
  ],
];

for (const [name, cond, ctx, abi32, want] of CASES) {
  t.test(name, async (t) => {
    t.same(listing(cond, ctx, abi32), want);
  });
}
