// Groups: membership sanity and the generated documentation being in sync.

import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { renderGroupsDoc } from '../../helpers/seccomp/groups-doc.js';
import { expandGroup, GROUPS } from '../../../src/seccomp/groups.js';
import { syscallTable } from '../../../src/seccomp/tables/index.js';

const DOC = new URL('../../../man/seccomp-groups.md', import.meta.url);

t.test('man/seccomp-groups.md is generated from groups.ts', async (t) => {
  const want = renderGroupsDoc();
  if (process.env.TSJAIL_UPDATE_GOLDEN === '1') writeFileSync(DOC, want);
  t.equal(readFileSync(DOC, 'utf8'), want, 'run with TSJAIL_UPDATE_GOLDEN=1 to regenerate');
});

t.test('every group member exists on at least one architecture, or is a known foreign one', async (t) => {
  // Members kept for parity with systemd that exist only on other architectures.
  const foreign = new Set([
    'cacheflush',
    'set_tls',
    'arm_fadvise64_64',
    'subpage_prot',
    'switch_endian',
    'rtas',
    's390_runtime_instr',
    'sys_debug_setcontext',
    'swapcontext',
    's390_pci_mmio_read',
    's390_pci_mmio_write',
    'pciconfig_iobase',
    'pciconfig_read',
    'pciconfig_write',
    'recv',
    'send',
    'sync_file_range2',
    'llseek',
    'mmap2' /* arm, i386 has it */,
    'umount' /* i386 */,
    'waitpid',
    'stime',
    'ftime',
    'gtty',
    'stty',
    'idle',
    'lock',
    'mpx',
    'prof',
    'profil',
    'ulimit',
    'break',
  ]);
  for (const [name, def] of Object.entries(GROUPS)) {
    for (const m of def.members) {
      if (m.startsWith('@')) {
        t.ok(GROUPS[m], `${name}: ${m} is a group`);
        continue;
      }
      const known = (['x86_64', 'i386', 'aarch64'] as const).some((a) => syscallTable(a).byName(m));
      if (!known) t.ok(foreign.has(m), `${name}: ${m} exists somewhere`);
    }
  }
});

t.test('@default keeps what desktop programs need and drops the dangerous calls', async (t) => {
  const names = (ctx: { network: 'none' | 'host'; nestedSandbox: boolean }) =>
    new Set(expandGroup('@default', ctx).map((e) => (typeof e === 'string' ? e : e.name)));
  const d = names({ network: 'none', nestedSandbox: false });
  for (const n of [
    'read',
    'write',
    'openat',
    'mmap',
    'futex',
    'clone',
    'execve',
    'epoll_wait',
    'socket',
    'ioctl',
    'memfd_create',
    'seccomp',
    'landlock_create_ruleset',
    'prctl',
    'getrandom',
    'rseq',
    'madvise',
    'io_setup',
  ]) {
    t.ok(d.has(n), `has ${n}`);
  }
  for (const n of [
    'io_uring_setup',
    'keyctl',
    'unshare',
    'setns',
    'userfaultfd',
    'ptrace',
    'mount',
    'bpf',
    'perf_event_open',
    'process_vm_readv',
    'clone3',
    'open_tree',
    'kexec_load',
    'init_module',
    'chroot',
  ]) {
    t.notOk(d.has(n), `lacks ${n}`);
  }
  const nested = names({ network: 'host', nestedSandbox: true });
  t.ok(nested.has('unshare') && nested.has('chroot'), 'nestedSandbox adds unshare and chroot');
});
