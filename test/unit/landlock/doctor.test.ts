import t from 'tap';
import { landlockBoot, landlockEnforcement } from '../../../src/cli/doctor.js';
import { abiRow } from '../../../src/landlock/abi.js';

const LSM = 'lockdown,capability,landlock,bpf';

t.test("whether Landlock is active: the LSM list when readable, else the probe's answer", async (t) => {
  t.equal(landlockBoot({ kernelAbi: 7 }, LSM), `enabled at boot; active LSMs: ${LSM}`);
  t.equal(
    landlockBoot({ kernelAbi: 7 }, undefined),
    'enabled at boot; the active LSM list is unreadable (securityfs not mounted)',
  );
  t.equal(
    landlockBoot({ kernelAbi: 0, kernelReason: 'disabled', errno: 95 }, 'capability,apparmor'),
    'built into the kernel but not enabled at boot: add landlock to the lsm= kernel parameter; active LSMs: capability,apparmor',
  );
  t.match(
    landlockBoot({ kernelAbi: 0, kernelReason: 'disabled', errno: 95 }, undefined),
    /^built into the kernel but not enabled at boot.*securityfs not mounted/,
  );
  t.match(
    landlockBoot({ kernelAbi: 0, kernelReason: 'not-built', errno: 38 }, undefined),
    /^not built into this kernel/,
  );
  t.match(landlockBoot({ kernelAbi: 0, kernelReason: 'error', errno: 1 }, LSM), /^the probe failed with errno 1;/);
  t.match(landlockBoot({ kernelAbi: 5 }, 'capability'), /^enabled \(the kernel answers\), though absent/);
});

t.test('what is enforced at each ABI, and what "required" cannot have', async (t) => {
  const at = (abi: number) =>
    Object.fromEntries(
      landlockEnforcement(abiRow(abi)!)
        .filter(([k]) => k)
        .map(([k, v]) => [k.trim(), v]),
    );
  const text = (abi: number) =>
    landlockEnforcement(abiRow(abi)!)
      .map(([, v]) => v)
      .join('\n');
  t.same(at(7), {
    filesystem:
      'enforced: execute write_file read_file read_dir remove_dir remove_file make_char make_dir make_reg make_sock make_fifo make_block make_sym refer truncate ioctl_dev',
    'tcp ports': 'enforced where a profile lists them',
    scoping: 'abstract unix sockets and signals stay inside the sandbox',
    audit: 'denials logged with --log-denials (kernel audit log)',
    '"required"': 'every profile can start',
  });
  t.equal(at(6).audit, 'not available (ABI 7)');
  t.match(at(5).scoping, /^not available \(ABI 6\)/);
  t.equal(at(5)['"required"'], 'refused for profiles that need abstract_unix_socket (ABI 6) for network "host"');
  t.equal(
    at(2)['"required"'],
    'refused for profiles that need truncate (ABI 3), ioctl_dev (ABI 5) for devices, abstract_unix_socket (ABI 6) for network "host"',
  );
  t.match(at(3)['tcp ports'], /^not available \(ABI 4\): profiles listing ports will not start/);
  t.match(text(3), /not enforced here: ioctl_dev \(ABI 5\)/);
  t.match(text(1), /not enforced here: refer \(ABI 2\), truncate \(ABI 3\), ioctl_dev \(ABI 5\)/);
  t.match(text(1), /moving files between directories fails with EXDEV/);
  t.notMatch(text(2), /EXDEV/);
});
