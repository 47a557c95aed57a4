/**
 * The launch plan as one readable JSON document (`--dry-run`): every record
 * in the order the shim applies it, numbers where they are numbers, device
 * and inode numbers as decimal strings, file contents as text, the seccomp
 * program summarised (use `tsjail seccomp disasm` to read it).
 */
import { createHash } from 'node:crypto';
import type { LaunchPlan, MountOp, NetRule } from './plan.js';

const octal = (n: number): string => '0' + n.toString(8);

function mountJson(op: MountOp): Record<string, unknown> {
  switch (op.op) {
    case 'bind':
      return { ...op, dev: op.dev.toString(), ino: op.ino.toString() };
    case 'devbind':
      return { ...op, rdev: op.rdev.toString() };
    case 'tmpfs':
    case 'mkdir':
      return { ...op, mode: octal(op.mode) };
    case 'file':
      return { ...op, mode: octal(op.mode), content: Buffer.from(op.content).toString('utf8') };
    default:
      return { ...op };
  }
}

/** ADDR/PREFIX of a network rule (IPv6 groups in full). */
export function prefixText(r: NetRule): string {
  const a = [...r.addr];
  const text =
    r.family === 4
      ? a.join('.')
      : Array.from({ length: 8 }, (_, i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16)).join(':');
  return `${text}/${r.prefix}`;
}

export function planToJson(plan: LaunchPlan, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: plan.version,
    ...extra,
    namespaces: ['user', 'mount', 'pid', 'ipc', 'uts', 'cgroup', ...(plan.net ? ['net'] : [])],
    uid: plan.uid,
    gid: plan.gid,
    hostname: plan.hostname,
    mounts: plan.mounts.map(mountJson),
    tty: plan.tty ?? null,
    ipc: plan.ipc ?? null,
    network: {
      helper: plan.netHelper ?? null,
      rules: (plan.netRules ?? []).map((r) => `${r.action} ${prefixText(r)}${r.why ? ` (${r.why})` : ''}`),
      proxy: plan.netProxy ?? null,
    },
    cgroups: plan.cgroups ?? [],
    caps: plan.caps ?? [],
    idmap: plan.idmap ?? null,
    cwd: plan.cwd,
    ...(plan.discard ? { discard: plan.discard } : {}),
    rlimits: plan.rlimits.map((r) => ({
      name: r.name,
      resource: r.resource,
      soft: r.soft.toString(),
      hard: r.hard.toString(),
    })),
    env: plan.env,
    argv: plan.argv,
    exec: plan.exec,
    landlock: plan.landlock
      ? {
          abi: plan.landlock.abi,
          handledFs: '0x' + plan.landlock.fs.toString(16),
          handledNet: '0x' + plan.landlock.net.toString(16),
          scoped: '0x' + plan.landlock.scoped.toString(16),
          flags: plan.landlock.flags,
          paths: plan.landlock.paths.map((r) => ({ path: r.path, access: '0x' + r.access.toString(16) })),
          ports: plan.landlock.ports.map((r) => ({ port: r.port, access: '0x' + r.access.toString(16) })),
        }
      : null,
    seccomp: plan.seccomp
      ? {
          arch: plan.seccomp.arch,
          flags: plan.seccomp.flags,
          instructions: plan.seccomp.instructions,
          sha256: createHash('sha256').update(plan.seccomp.program).digest('hex'),
        }
      : null,
    ...(plan.report
      ? {
          report: {
            fd: plan.report.fd ?? null,
            summary: plan.report.summary,
            syscalls: plan.report.syscalls.map((r) => ({ nr: r.nr, errno: r.errno, hint: r.hint })),
          },
        }
      : {}),
  };
}
