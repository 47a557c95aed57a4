/**
 * Resource limits: profile names -> setrlimit resources. The numbers are the
 * generic Linux ones (include/uapi/asm-generic/resource.h), the same on
 * x86_64 and aarch64. A limit above the caller's hard limit cannot be set by
 * an unprivileged process, so it is lowered to that hard limit (and said
 * under -v) rather than failing the launch.
 */
import * as fs from 'node:fs';
import { TsjailError } from '../errors.js';
import type { IpcLimits, MountOp, RlimitOp } from '../plan/plan.js';
import { RLIM_INFINITY } from '../plan/plan.js';
import type { LimitValue } from '../profile/types.js';

export const RLIMITS: Record<string, { resource: number; label: string }> = {
  cputime: { resource: 0, label: 'Max cpu time' },
  fsize: { resource: 1, label: 'Max file size' },
  data: { resource: 2, label: 'Max data size' },
  stack: { resource: 3, label: 'Max stack size' },
  core: { resource: 4, label: 'Max core file size' },
  rss: { resource: 5, label: 'Max resident set' },
  nproc: { resource: 6, label: 'Max processes' },
  nofile: { resource: 7, label: 'Max open files' },
  memlock: { resource: 8, label: 'Max locked memory' },
  as: { resource: 9, label: 'Max address space' },
  sigpending: { resource: 11, label: 'Max pending signals' },
  msgqueue: { resource: 12, label: 'Max msgqueue size' },
  nice: { resource: 13, label: 'Max nice priority' },
  rtprio: { resource: 14, label: 'Max realtime priority' },
};

/** The caller's hard limits, from /proc/self/limits (label -> value). */
export function currentHardLimits(file = '/proc/self/limits'): Map<string, bigint> {
  const out = new Map<string, bigint>();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const label = line.slice(0, 26).trim();
    const fields = line.slice(26).trim().split(/\s+/);
    const hard = fields[1];
    if (!label || hard === undefined) continue;
    out.set(label, hard === 'unlimited' ? RLIM_INFINITY : BigInt(hard));
  }
  return out;
}

/** limits.NAME (a size) in bytes; 0 when unset or "unlimited". */
export function sizeLimit(limits: Record<string, LimitValue>, name: 'tmpfs' | 'shm' | 'memory'): number {
  const v = limits[name];
  if (v === undefined || v === 'unlimited') return 0;
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return 0; // the schema allows only sizes here
  const m = /^([0-9]+)([KMG]?)$/i.exec(v);
  if (!m) throw new TsjailError(`limits.${name}: not a size: ${JSON.stringify(v)}`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

/**
 * limits.memory (bytes), pids and cpu (CPUs): what the sandbox's cgroup
 * enforces (src/cgroup); "unlimited" or absent: nothing.
 */
export function cgroupLimits(limits: Record<string, LimitValue>): { memory?: number; pids?: number; cpu?: number } {
  const out: { memory?: number; pids?: number; cpu?: number } = {};
  const memory = sizeLimit(limits, 'memory');
  if (memory > 0) out.memory = memory;
  if (typeof limits.pids === 'number') out.pids = limits.pids;
  if (typeof limits.cpu === 'number') out.cpu = limits.cpu;
  return out;
}

/** limits.tmpfs in bytes (0: no cap, the kernel's default of half the RAM). */
export function tmpfsLimit(limits: Record<string, LimitValue>): number {
  return sizeLimit(limits, 'tmpfs');
}

/**
 * The System V shared memory the sandbox's IPC namespace may hold, in bytes
 * (its kernel.shmmax and shmall): limits.shm, else limits.tmpfs (the same
 * kind of memory as /dev/shm); 0 when neither is set, the kernel's defaults.
 */
export function shmLimit(limits: Record<string, LimitValue>): number {
  return limits.shm !== undefined ? sizeLimit(limits, 'shm') : tmpfsLimit(limits);
}

/**
 * The IPC namespace's System V limits beside shared memory: message queues
 * and semaphores, whose kernel defaults (32000 queues of 16 KiB, 32000 sets
 * of 32000 semaphores) let a program pin hundreds of MiB to GiBs of kernel
 * memory. Here: at most 256 queues of 16 KiB (messages of at most 8 KiB,
 * both the kernel's defaults), 4 MiB in all, and 128 sets of at most 250
 * semaphores, 32000 in all (about 2 MiB), 32 operations per semop (the
 * kernel's defaults before Linux 3.19 raised them). Written with shmmax,
 * whenever the sandbox gets an IPC record.
 */
export const IPC_BOUNDS = {
  msgmax: 8192,
  msgmnb: 16384,
  msgmni: 256,
  semmsl: 250,
  semmns: 32000,
  semopm: 32,
  semmni: 128,
} as const;

/** The IPC record for a shared-memory limit of `shm` bytes (> 0). */
export function ipcLimits(shm: number): IpcLimits {
  return { shm, ...IPC_BOUNDS };
}

/**
 * Every tmpfs of the plan gets limits.tmpfs as its size: /tmp, /dev/shm, /dev,
 * the home and a profile's tmpfs entries, each (the root tmpfs is read-only).
 */
export function capTmpfs(ops: MountOp[], size: number): MountOp[] {
  if (size <= 0) return ops;
  return ops.map((op) => (op.op === 'tmpfs' && op.size === 0 ? { ...op, size } : op));
}

export function planLimits(limits: Record<string, LimitValue>, hard: Map<string, bigint>, notes: string[]): RlimitOp[] {
  const ops: RlimitOp[] = [];
  for (const [name, value] of Object.entries(limits)) {
    const def = RLIMITS[name];
    if (!def || typeof value === 'boolean') continue;
    let v = value === 'unlimited' ? RLIM_INFINITY : BigInt(value);
    const max = hard.get(def.label);
    if (max !== undefined && v > max) {
      notes.push(
        `limit ${name} ${value} lowered to the caller's hard limit ${max === RLIM_INFINITY ? 'unlimited' : max}`,
      );
      v = max;
    }
    ops.push({ name, resource: def.resource, soft: v, hard: v });
  }
  return ops;
}

/**
 * limits.pids as RLIMIT_NPROC (where no pids cgroup can be had; see
 * src/cgroup/place.ts's nprocPerUserns): the plan's nproc record becomes the
 * lower of limits.nproc and limits.pids, at most the caller's hard limit.
 */
export function withProcessLimit(
  ops: RlimitOp[],
  pids: number,
  hard: Map<string, bigint>,
  notes: string[],
): RlimitOp[] {
  const def = RLIMITS.nproc!;
  const kept = ops.find((op) => op.resource === def.resource);
  let v = BigInt(pids);
  if (kept && kept.hard < v) return ops;
  const max = hard.get(def.label);
  if (max !== undefined && v > max) {
    notes.push(`limits.pids ${pids} lowered to the caller's hard limit of processes ${max}`);
    v = max;
  }
  return [...ops.filter((op) => op !== kept), { name: 'nproc', resource: def.resource, soft: v, hard: v }];
}
