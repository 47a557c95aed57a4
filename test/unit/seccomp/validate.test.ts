// Policy validation: errors name the list and index of the offending entry.

import t from 'tap';
import { compileSeccomp, SeccompPolicyError, validateSeccompPolicy } from '../../../src/seccomp/compile.js';
import type { SeccompPolicyInput, SyscallEntry } from '../../../src/seccomp/policy.js';

const base: SeccompPolicyInput = {
  allow: ['@default'],
  deny: [],
  action: 'errno',
  network: 'none',
  nestedSandbox: false,
};

function errs(
  allow: SyscallEntry[],
  deny: SyscallEntry[] = [],
  arch: 'x86_64' | 'aarch64' = 'x86_64',
  extra: Partial<SeccompPolicyInput> = {},
) {
  return validateSeccompPolicy({ ...base, allow, deny, ...extra }, arch);
}

t.test('the documented example is valid', async (t) => {
  t.same(
    errs(
      ['@default', 'ptrace', { name: 'ioctl', args: [{ arg: 1, op: '==', value: 'FIONREAD' }] }],
      ['ptrace', { name: 'socket', args: [{ arg: 0, op: 'in', value: ['AF_PACKET', 17] }] }],
    ),
    [],
  );
});

const BAD: [string, SyscallEntry[], SyscallEntry[], 'x86_64' | 'aarch64', RegExp, 'allow' | 'deny', number][] = [
  ['unknown syscall', ['@default', 'frobnicate'], [], 'x86_64', /unknown syscall "frobnicate"/, 'allow', 1],
  ['unknown group', ['@nope'], [], 'x86_64', /unknown group "@nope"/, 'allow', 0],
  ['name absent on the arch', ['arch_prctl'], [], 'aarch64', /"arch_prctl" does not exist on aarch64/, 'allow', 0],
  [
    'unknown constant',
    [{ name: 'ioctl', args: [{ arg: 1, op: '==', value: 'TIOCFOO' }] }],
    [],
    'x86_64',
    /unknown constant "TIOCFOO"/,
    'allow',
    0,
  ],
  [
    'value wider than a 32-bit argument',
    [],
    [{ name: 'ioctl', args: [{ arg: 1, op: '==', value: '0x100005412' }] }],
    'x86_64',
    /does not fit the 32-bit argument/,
    'deny',
    0,
  ],
  [
    'argument index beyond the syscall',
    ['read', { name: 'getpid', args: [{ arg: 0, op: '==', value: 1 }] }],
    [],
    'x86_64',
    /getpid takes 0 arguments on x86_64; arg 0 does not exist/,
    'allow',
    1,
  ],
  [
    'arg out of 0..5',
    [{ name: 'mmap', args: [{ arg: 6, op: '==', value: 1 }] }],
    [],
    'x86_64',
    /arg must be an integer from 0 to 5/,
    'allow',
    0,
  ],
  [
    'empty in',
    [{ name: 'socket', args: [{ arg: 0, op: 'in', value: [] }] }],
    [],
    'x86_64',
    /empty list can never match/,
    'allow',
    0,
  ],
  [
    'bits outside the mask',
    [{ name: 'clone', args: [{ arg: 0, op: '&==', mask: 0xff, value: 0x100 }] }],
    [],
    'x86_64',
    /outside mask/,
    'allow',
    0,
  ],
  [
    'mask with another op',
    [{ name: 'clone', args: [{ arg: 0, op: '==', mask: 0xff, value: 1 }] }],
    [],
    'x86_64',
    /mask is only allowed/,
    'allow',
    0,
  ],
  [
    '"< 0" never matches',
    [{ name: 'kill', args: [{ arg: 1, op: '<', value: 0 }] }],
    [],
    'x86_64',
    /never matches/,
    'allow',
    0,
  ],
  [
    'unknown op',
    [{ name: 'kill', args: [{ arg: 1, op: '=~' as '==', value: 0 }] }],
    [],
    'x86_64',
    /op must be one of/,
    'allow',
    0,
  ],
  [
    'unknown condition key',
    [{ name: 'kill', args: [{ arg: 1, op: '==', value: 0, extra: 1 } as never] }],
    [],
    'x86_64',
    /unknown condition key "extra"/,
    'allow',
    0,
  ],
  ['conditions on a group', [{ name: '@default', args: [] }], [], 'x86_64', /not a group/, 'allow', 0],
  ['denying execve', [], ['ptrace', 'execve'], 'x86_64', /cannot be denied/, 'deny', 1],
  ['denying a group that holds exit_group', [], ['@essential'], 'x86_64', /tsjail needs/, 'deny', 0],
  [
    'unsafe integer',
    [{ name: 'mmap', args: [{ arg: 1, op: '==', value: 2 ** 60 }] }],
    [],
    'x86_64',
    /write it as a string/,
    'allow',
    0,
  ],
];

for (const [name, allow, deny, arch, re, list, index] of BAD) {
  t.test(name, async (t) => {
    const e = errs(allow, deny, arch);
    t.equal(e.length, 1, JSON.stringify(e));
    t.match(e[0], { list, index, message: re });
  });
}

t.test('i386 names are valid with multiarch only', async (t) => {
  t.equal(errs(['socketcall']).length, 1);
  t.same(errs(['socketcall'], [], 'x86_64', { multiarch: true }), []);
});

t.test('64-bit values and negative numbers', async (t) => {
  t.same(
    errs([
      { name: 'mmap', args: [{ arg: 1, op: '>=', value: '0xffffffff00000000' }] },
      { name: 'personality', args: [{ arg: 0, op: '==', value: -1 }] },
    ]),
    [],
  );
});

t.test('bad action is reported for the policy as a whole', async (t) => {
  const e = validateSeccompPolicy({ ...base, action: 'trap' as 'errno' }, 'x86_64');
  t.match(e, [{ index: -1, message: /action must be/ }]);
});

t.test('compileSeccomp throws SeccompPolicyError listing every error', async (t) => {
  let caught: unknown;
  try {
    compileSeccomp({ ...base, allow: ['nope', '@nope'] }, 'x86_64');
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof SeccompPolicyError);
  t.equal((caught as SeccompPolicyError).errors.length, 2);
  t.match((caught as Error).message, /syscalls\.allow\[0\]: unknown syscall/);
});
