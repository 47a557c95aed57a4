// One wire format, checked from both ends: a plan with every record type is
// encoded here (src/plan/encode.ts) and decoded by the shim's own parser
// (shim-c/plan.c, through shim-c/tests/plan-dump), then compared field by
// field. The record numbers are compared with shim-c/plan.h and PLAN.md.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodePlan, RecordType } from '../../../src/plan/encode.js';
import { enterPlan, splitPlan } from '../../../src/plan/enter.js';
import type { CgroupOp, LandlockPlan, LaunchPlan, MountFlag, MountOp, SeccompPlan } from '../../../src/plan/plan.js';

const shim = path.resolve(import.meta.dirname, '../../../shim-c');
const build = spawnSync('make', ['-s', '-C', shim, 'tests/plan-dump'], { encoding: 'utf8' });

/** PLAN.md's mount flag bits and BIND/DENY kinds. */
const FLAG: Record<MountFlag, number> = { ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8 };
const bits = (flags: MountFlag[]): number => flags.reduce((a, f) => a | FLAG[f], 0);
const KIND = { dir: 1, file: 2 } as const;

const mounts: MountOp[] = [
  { op: 'tmpfs', dest: '/tmp', mode: 0o1777, size: 1 << 20, flags: ['nosuid', 'nodev', 'noexec'] },
  { op: 'bind', src: '/usr', dest: '/usr', dev: 2049n, ino: 0xfedcba9876543210n, kind: 'dir', flags: ['ro', 'nosuid'] },
  { op: 'bind', src: '/etc/hosts', dest: '/etc/hosts', dev: 1n, ino: 2n, kind: 'file', flags: ['ro'] },
  { op: 'mkdir', dest: '/home/u', mode: 0o700 },
  { op: 'symlink', target: 'usr/bin', dest: '/bin' },
  {
    op: 'file',
    dest: '/etc/passwd',
    mode: 0o644,
    content: new TextEncoder().encode('u:x:1000:1000::/home/u:/bin/sh\n'),
  },
  {
    op: 'file',
    dest: '/etc/resolv.conf',
    mode: 0o444,
    content: new TextEncoder().encode('nameserver 10.0.2.3\n'),
    over: true,
  },
  { op: 'proc', dest: '/proc' },
  { op: 'devbind', src: '/dev/null', dest: '/dev/null', rdev: 0x103n },
  { op: 'devpts', dest: '/dev/pts' },
  { op: 'remount', dest: '/', flags: ['ro', 'nosuid', 'nodev'] },
  { op: 'bindself', dest: '/proc/sys', flags: ['ro', 'nosuid', 'nodev', 'noexec'] },
  { op: 'deny', dest: '/home/u/.ssh', kind: 'dir' },
  { op: 'deny', dest: '/etc/shadow', kind: 'file' },
];

const scope = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/tsjail-1.scope';
const cgroups: CgroupOp[] = [
  { op: 'cgroup', path: `${scope}/supervisor`, procs: false, self: true },
  { op: 'write', path: `${scope}/cgroup.subtree_control`, value: '+memory +pids +cpu' },
  { op: 'cgroup', path: `${scope}/sandbox`, procs: true, self: false, oom: 'v2', message: 'tsjail: memory "limit"' },
  { op: 'write', path: `${scope}/sandbox/memory.max`, value: '268435456' },
  { op: 'cgroup', path: '/sys/fs/cgroup/pids/a/sb-1-2', procs: true, self: false },
  { op: 'cgroup', path: '/sys/fs/cgroup/memory/a/sb-1-2', procs: true, self: false, oom: 'v1', message: 'm' },
  // v1 as src/cgroup makes it: the monitor names the directory, its files by their bare names.
  { op: 'cgroup', path: '/sys/fs/cgroup/cpu/tsjail-u', procs: true, self: false, named: true },
  { op: 'write', path: 'cpu.cfs_quota_us', value: '50000' },
];

const landlock: LandlockPlan = {
  abi: 6,
  fs: 0xffffn,
  net: 0x3n,
  scoped: 0x3n,
  flags: 2,
  paths: [
    { path: '/', access: 0x8n },
    { path: '/usr', access: 0x5n },
  ],
  ports: [
    { port: 443, access: 0x2n },
    { port: 65535, access: 0x1n },
  ],
};
const seccomp: SeccompPlan = {
  arch: 'x86_64',
  flags: 1,
  program: Uint8Array.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
  instructions: 1,
};

const plan: LaunchPlan = {
  version: 1,
  net: true,
  uid: 1000,
  gid: 1001,
  hostname: 'box "quoted"',
  verbose: 2,
  lifelines: [3, 9, 11],
  netHelper: ['/usr/bin/pasta', '--config-net', ''],
  netRules: [
    { family: 4, prefix: 8, addr: Uint8Array.from([10, 0, 0, 0]), action: 'unreachable' },
    { family: 6, prefix: 128, addr: Uint8Array.from([0xfd, ...Array<number>(14).fill(0), 1]), action: 'pass' },
  ],
  netListen: { port: 3128, fd: 9 },
  tty: { devpts: '/dev/pts', fds: [0, 2], raw: true },
  ipc: { shm: 5 * 2 ** 30 + 1, msgmax: 1, msgmnb: 2, msgmni: 3, semmsl: 4, semmns: 5, semopm: 6, semmni: 0x7fffffff },
  record: { dir: '/run/user/1000/tsjail', name: 'web-1.x_y', meta: '{"name":"web-1.x_y","q":"\\"é"}' },
  parent: 4242,
  cgroups,
  caps: [0, 7, 40],
  idmap: {
    newuidmap: '/usr/bin/newuidmap',
    newgidmap: '/usr/bin/newgidmap',
    uid: [1000, 1000, 1, 1, 100000, 65536],
    gid: [1001, 1001, 1],
  },
  mounts,
  cwd: '/home/u',
  discard: ['/tmp', '/home/u'],
  rlimits: [
    { name: 'core', resource: 4, soft: 0n, hard: 0n },
    { name: 'nofile', resource: 7, soft: 1024n, hard: 0xffffffffffffffffn },
  ],
  env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8', 'EMPTY=', 'TAB=a\tb', 'UTF=ÿ€'],
  argv: ['prog', '-x', '', 'back\\slash'],
  exec: { program: 'prog', path: '/usr/bin:/bin' },
  landlock,
  seccomp,
  report: {
    fd: 9,
    summary: true,
    syscalls: [
      {
        nr: 101,
        errno: 1,
        json: '{"kind":"syscall","syscall":"ptrace"',
        hint: 'ptrace: add "ptrace" to syscalls.allow',
      },
      { nr: 41, errno: 97, json: '{"s":"\\"é"', hint: '' },
    ],
    paths: [
      { nr: 257, pathArg: 1, dirfdArg: 0, flagsArg: 2, json: '{"kind":"path"', hint: 'h' },
      { nr: 59, pathArg: 0, json: '{', hint: '' },
    ],
    dbus: { fd: 11, talk: '{"kind":"dbus","key":"dbus.session.talk"', own: '{"o":"\\"é"' },
    landlock: [
      { path: '/', access: 0x7ff2n, json: '{"key":"filesystem.rw"', hint: 'shown read-only' },
      { path: '/home/u/w', access: 1n, json: '{"key":null', hint: '' },
    ],
  },
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Field by field what plan.c must have decoded (struct plan_mount: absent fields are 0 or null). */
function expectedMount(m: MountOp): Record<string, unknown> {
  const none = { src: null, dev: '0', ino: '0', size: '0', mode: 0, kind: 0, flags: 0, data: null };
  switch (m.op) {
    case 'tmpfs':
      return { ...none, type: 'TMPFS', dest: m.dest, size: String(m.size), mode: m.mode, flags: bits(m.flags) };
    case 'bind':
      return {
        ...none,
        type: 'BIND',
        src: m.src,
        dest: m.dest,
        dev: String(m.dev),
        ino: String(m.ino),
        kind: KIND[m.kind],
        flags: bits(m.flags),
      };
    case 'mkdir':
      return { ...none, type: 'MKDIR', dest: m.dest, mode: m.mode };
    case 'symlink':
      return { ...none, type: 'SYMLINK', src: m.target, dest: m.dest };
    case 'file':
      return { ...none, type: m.over ? 'FILEOVER' : 'FILE', dest: m.dest, mode: m.mode, data: hex(m.content) };
    case 'proc':
      return { ...none, type: 'PROC', dest: m.dest };
    case 'devbind':
      return { ...none, type: 'DEVBIND', src: m.src, dest: m.dest, dev: String(m.rdev) };
    case 'devpts':
      return { ...none, type: 'DEVPTS', dest: m.dest };
    case 'remount':
      return { ...none, type: 'REMOUNT', dest: m.dest, flags: bits(m.flags) };
    case 'bindself':
      return { ...none, type: 'BINDSELF', dest: m.dest, flags: bits(m.flags) };
    case 'deny':
      return { ...none, type: 'DENY', dest: m.dest, kind: KIND[m.kind] };
  }
}

/** The record types of an encoded plan, from its record headers. */
function recordTypes(buf: Buffer): Set<number> {
  const out = new Set<number>();
  for (let off = 16; off < buf.length; off += 8 + buf.readUInt32LE(off + 4)) out.add(buf.readUInt16LE(off));
  return out;
}

t.test('record numbers: encode.ts, shim-c/plan.h and PLAN.md agree', async (t) => {
  const header = fs.readFileSync(path.join(shim, 'plan.h'), 'utf8');
  const inC = Object.fromEntries([...header.matchAll(/^\s*R_([A-Z_]+) = (\d+),/gm)].map((m) => [m[1], Number(m[2])]));
  t.same(inC, { ...RecordType }, 'the same names and numbers as enum plan_type');
  const doc = fs.readFileSync(path.join(shim, 'PLAN.md'), 'utf8');
  for (const [name, n] of Object.entries(RecordType))
    t.match(doc, new RegExp(`\\|\\s*${n}\\s*\\|\\s*\`?${name}\\b`), `PLAN.md lists ${n} ${name}`);
});

t.test(
  'a plan with every record type decodes in C to the same fields',
  { skip: build.status === 0 ? false : `make tests/plan-dump failed: ${build.stderr.trim()}` },
  async (t) => {
    const bytes = encodePlan(plan);
    t.same(
      [...recordTypes(bytes)].sort((a, b) => a - b),
      Object.values(RecordType)
        .filter((n) => n !== RecordType.ENTER && n !== RecordType.CGJOIN)
        .sort((a, b) => a - b),
      'every record type but ENTER (which excludes mounts) and CGJOIN (ENTER only) is in the plan',
    );
    const r = spawnSync(path.join(shim, 'tests/plan-dump'), { input: bytes, encoding: 'utf8' });
    t.equal(r.status, 0, `plan.c accepts it ${r.stderr}`);
    const c = JSON.parse(r.stdout);
    t.same(c.ns_flags, 1, 'NAMESPACES: a network namespace');
    t.same([c.uid, c.gid], [plan.uid, plan.gid], 'IDS');
    t.same(c.hostname, plan.hostname, 'HOSTNAME');
    t.same(c.verbose, plan.verbose, 'VERBOSE');
    t.same(c.lifelines, plan.lifelines, 'LIFELINE');
    t.same([c.tty_fds, c.tty_flags, c.tty_devpts], [0b101, 1, '/dev/pts'], 'TTY');
    t.same([c.ipc_shm, c.ipc_msg, c.ipc_sem], [String(plan.ipc!.shm), [1, 2, 3], [4, 5, 6, 0x7fffffff]], 'IPC');
    t.same(
      [c.record_dir, c.record_name, c.record_meta],
      [plan.record!.dir, plan.record!.name, plan.record!.meta],
      'RECORD',
    );
    t.same(c.parent_pid, plan.parent, 'PARENT');
    t.same(c.netargv, plan.netHelper, 'NETARG');
    t.same(
      c.netrules,
      plan.netRules!.map((r) => ({
        family: r.family,
        prefix: r.prefix,
        action: r.action === 'pass' ? 2 : 1,
        addr: hex(r.addr),
      })),
      'NETRULE',
    );
    t.same([c.listen_port, c.listen_fd], [3128, 9], 'NETLISTEN');
    t.same(
      c.cgroups,
      cgroups.map((g) =>
        g.op === 'write'
          ? { type: 'CGWRITE', path: g.path, flags: 0, message: null, value: g.value }
          : {
              type: 'CGROUP',
              path: g.path,
              flags:
                (g.procs ? 1 : 0) |
                (g.self ? 2 : 0) |
                (g.oom === 'v1' ? 4 : g.oom === 'v2' ? 8 : 0) |
                (g.named ? 0x10 : 0),
              message: g.message ?? '',
              value: null,
            },
      ),
      'CGROUP and CGWRITE, in order',
    );
    t.same(c.caps, String((1n << 0n) | (1n << 7n) | (1n << 40n)), 'CAPS');
    t.same(
      [c.newuidmap, c.newgidmap, c.uid_map, c.gid_map],
      ['/usr/bin/newuidmap', '/usr/bin/newgidmap', '1000 1000 1 1 100000 65536', '1001 1001 1'],
      'IDMAP',
    );
    t.equal(c.mounts.length, mounts.length, 'every mount record, in order');
    mounts.forEach((m, i) => t.same(c.mounts[i], expectedMount(m), `${m.op} ${m.dest}`));
    t.same(c.chdir, plan.cwd, 'CHDIR');
    t.same(c.discard, plan.discard, 'DISCARD');
    t.same(
      c.rlimits,
      plan.rlimits.map((l) => ({ resource: l.resource, soft: String(l.soft), hard: String(l.hard) })),
      'RLIMIT',
    );
    t.same(c.env, plan.env, 'ENV');
    t.same(c.argv, plan.argv, 'ARGV');
    t.same([c.program, c.search_path], [plan.exec.program, plan.exec.path], 'EXEC');
    const ll = landlock;
    t.same(
      [c.has_landlock, c.ll_abi, c.ll_flags, c.ll_fs, c.ll_net, c.ll_scoped],
      [1, ll.abi, ll.flags, String(ll.fs), String(ll.net), String(ll.scoped)],
      'LANDLOCK',
    );
    t.same(
      c.ll_rules,
      [
        ...ll.paths.map((p) => ({ path: p.path, port: '0', access: String(p.access) })),
        ...ll.ports.map((p) => ({ path: null, port: String(p.port), access: String(p.access) })),
      ],
      'LL_PATH and LL_PORT',
    );
    const sc = seccomp;
    t.same([c.has_seccomp, c.seccomp_flags, c.seccomp_prog], [1, sc.flags, hex(sc.program)], 'SECCOMP');
    t.same([c.has_report, c.report_out, c.report_flags], [1, 9, 1], 'REPORT');
    t.same(
      [c.report_dbus_fd, c.report_dbus_talk, c.report_dbus_own],
      [11, plan.report!.dbus!.talk, plan.report!.dbus!.own],
      'REPORT_DBUS',
    );
    t.same(c.report_syscalls, plan.report!.syscalls, 'REPORT_SYSCALL');
    t.same(
      c.report_paths,
      plan.report!.paths!.map((p) => ({
        nr: p.nr,
        path_arg: p.pathArg,
        dirfd_arg: p.dirfdArg ?? 0xffffffff,
        flags_arg: p.flagsArg ?? 0xffffffff,
        json: p.json,
        hint: p.hint,
      })),
      'REPORT_PATH',
    );
    t.same(
      c.report_ll,
      plan.report!.landlock!.map((l) => ({ path: l.path, access: String(l.access), json: l.json, hint: l.hint })),
      'REPORT_LANDLOCK',
    );
  },
);

t.test(
  'a plan without the optional records decodes with them absent',
  { skip: build.status === 0 ? false : 'make tests/plan-dump failed' },
  async (t) => {
    const {
      landlock: _l,
      seccomp: _s,
      lifelines: _f,
      tty: _t,
      ipc: _i,
      record: _r,
      parent: _p,
      netHelper: _h,
      netRules: _nr,
      netListen: _n,
      cgroups: _g,
      caps: _c,
      idmap: _m,
      report: _rep,
      ...rest
    } = plan;
    const small: LaunchPlan = { ...rest, net: false, verbose: 0, mounts: [{ op: 'proc', dest: '/proc' }] };
    const r = spawnSync(path.join(shim, 'tests/plan-dump'), { input: encodePlan(small), encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    t.same([c.ns_flags, c.verbose, c.lifelines, c.tty_fds, c.tty_devpts, c.ipc_shm], [0, 0, [], 0, null, '0']);
    t.same([c.record_dir, c.parent_pid, c.enter_pid], [null, 0, 0]);
    t.same([c.netargv, c.netrules, c.listen_fd], [[], [], -1], 'no network records');
    t.same(c.cgroups, [], 'no cgroups');
    t.same([c.caps, c.uid_map, c.gid_map], ['0', null, null]);
    t.same([c.has_landlock, c.ll_rules, c.has_seccomp, c.seccomp_prog], [0, [], 0, null]);
    t.same([c.has_report, c.report_out, c.report_syscalls, c.report_dbus_fd], [0, -1, [], -1], 'no REPORT');
  },
);

t.test(
  "enter's plan keeps the sandbox's process records and decodes in C",
  { skip: build.status === 0 ? false : 'make tests/plan-dump failed' },
  async (t) => {
    const { record: _r, parent: _p, lifelines: _f, ipc: _i, netListen: _n, report: _rep, ...started } = plan;
    const bytes = enterPlan(encodePlan(started), {
      pid: 777,
      start: 0x123456789n,
      argv: ['/bin/sh', '-c', 'id'],
      tty: { fds: [0, 1], raw: false },
      verbose: 0,
      monitor: { pid: 4242, start: 99n },
    });
    const types = recordTypes(bytes);
    t.notOk(types.has(RecordType.CGROUP) || types.has(RecordType.CGWRITE), 'no cgroup is made');
    for (const m of [RecordType.BIND, RecordType.TMPFS, RecordType.HOSTNAME, RecordType.LIFELINE, RecordType.IPC])
      t.notOk(types.has(m), `record ${m} is dropped`);
    const r = spawnSync(path.join(shim, 'tests/plan-dump'), { input: bytes, encoding: 'utf8' });
    t.equal(r.status, 0, `plan.c accepts it ${r.stderr}`);
    const c = JSON.parse(r.stdout);
    t.same([c.enter_pid, c.enter_start], [777, String(0x123456789n)], 'ENTER');
    t.same(c.mounts, [], 'no mounts');
    t.same([c.hostname, c.lifelines, c.ipc_shm], [null, [], '0'], 'no set-up records');
    t.same(
      [c.ns_flags, c.uid, c.gid, c.chdir, c.env],
      [1, plan.uid, plan.gid, plan.cwd, plan.env],
      "the sandbox's own",
    );
    t.same(c.rlimits.length, plan.rlimits.length, 'its rlimits');
    t.same([c.has_landlock, c.ll_rules.length, c.has_seccomp], [1, 4, 1], 'its Landlock rules and seccomp filter');
    t.same([c.argv, c.program, c.search_path], [['/bin/sh', '-c', 'id'], '/bin/sh', plan.exec.path], 'the command');
    t.same([c.tty_fds, c.tty_flags, c.tty_devpts], [3, 0, '/dev/pts'], "a pty of the sandbox's devpts");
    t.same(
      c.cg_joins,
      [
        `${scope}/sandbox`,
        '/sys/fs/cgroup/pids/a/sb-1-2',
        '/sys/fs/cgroup/memory/a/sb-1-2',
        '/sys/fs/cgroup/cpu/tsjail-u/sb-4242-99',
      ],
      "CGJOIN: the cgroups init was moved into, a NAMED one by its monitor's name; not the monitor's own",
    );
    const dump = (b: Buffer) => spawnSync(path.join(shim, 'tests/plan-dump'), { input: b, encoding: 'utf8' });
    const join = splitPlan(bytes).find((x) => x.type === RecordType.CGJOIN)!.bytes;
    const cgroup = splitPlan(encodePlan(started)).find((x) => x.type === RecordType.CGROUP)!.bytes;
    const withCgroup = dump(withRecord(bytes, cgroup));
    t.equal(withCgroup.status, 1, 'ENTER beside a CGROUP is refused');
    t.match(withCgroup.stderr, /ENTER with a CGROUP or CGWRITE/);
    const noEnter = dump(withRecord(encodePlan({ ...started, cgroups: undefined }), join));
    t.equal(noEnter.status, 1, 'CGJOIN without ENTER is refused');
    t.match(noEnter.stderr, /CGJOIN without an ENTER/);
    const bad = spawnSync(path.join(shim, 'tests/plan-dump'), {
      input: withRecord(bytes, splitPlan(encodePlan(started)).find((x) => x.type === RecordType.PROC)!.bytes),
      encoding: 'utf8',
    });
    t.equal(bad.status, 1, 'ENTER beside mount records is refused');
    t.match(bad.stderr, /ENTER with a mount/);
  },
);

/** A plan with one more record (for a plan that must be refused). */
t.test(
  "a NAMED cgroup's files are reached by their bare names only, and only after a CGROUP",
  { skip: build.status === 0 ? false : 'make tests/plan-dump failed' },
  async (t) => {
    const made: CgroupOp = {
      op: 'cgroup',
      path: '/sys/fs/cgroup/memory/tsjail-u',
      procs: true,
      self: false,
      named: true,
    };
    const named: CgroupOp[] = [made, { op: 'write', path: 'memory.limit_in_bytes', value: '1' }];
    const dump = (b: Buffer) => spawnSync(path.join(shim, 'tests/plan-dump'), { input: b, encoding: 'utf8' });
    const bytes = encodePlan({ ...plan, cgroups: named });
    t.equal(dump(bytes).status, 0, 'the pair decodes');
    // The CGROUP record taken out: the bare name has no directory.
    const recs = splitPlan(bytes);
    const head = Buffer.from(bytes.subarray(0, 16));
    const rest = recs.filter((r) => r.type !== RecordType.CGROUP).map((r) => r.bytes);
    const alone = Buffer.concat([head, ...rest]);
    alone.writeUInt32LE(alone.length, 8);
    alone.writeUInt32LE(rest.length, 12);
    const r = dump(alone);
    t.equal(r.status, 1, 'a bare CGWRITE before any CGROUP is refused');
    t.match(r.stderr, /before any CGROUP/);
    // An absolute path into the directory a NAMED cgroup is made in is not one of its files.
    t.throws(
      () =>
        encodePlan({
          ...plan,
          cgroups: [named[0]!, { op: 'write', path: '/sys/fs/cgroup/memory/tsjail-u/x', value: '1' }],
        }),
      /not a file of the plan's cgroups/,
      'the encoder refuses it',
    );
    t.throws(() => encodePlan({ ...plan, cgroups: [named[1]!] }), /a bare name/, 'and a bare name first');
    t.throws(
      () => encodePlan({ ...plan, cgroups: [{ ...made, procs: false, oom: undefined, self: true }] }),
      /not named by it/,
      "the monitor's own cgroup is never NAMED",
    );
  },
);

function withRecord(plan: Buffer, record: Buffer): Buffer {
  const out = Buffer.concat([plan, record]);
  out.writeUInt32LE(out.length, 8);
  out.writeUInt32LE(plan.readUInt32LE(12) + 1, 12);
  return out;
}
