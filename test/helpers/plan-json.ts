/**
 * The inverse of src/plan/json.ts for tests: a `--dry-run` document back to
 * a LaunchPlan, so a test can take the plan tsjail made, change one thing the
 * policy layer would never produce, and hand it to the shim directly.
 * The seccomp program is only summarised in JSON and is left out.
 */
import type { LandlockPlan, LaunchPlan, MountOp } from '../../src/plan/plan.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export function planFromJson(j: any): LaunchPlan {
  const mounts: MountOp[] = j.mounts.map((m: any) => {
    switch (m.op) {
      case 'bind':
        return { ...m, dev: BigInt(m.dev), ino: BigInt(m.ino) };
      case 'devbind':
        return { ...m, rdev: BigInt(m.rdev) };
      case 'tmpfs':
      case 'mkdir':
        return { ...m, mode: Number.parseInt(m.mode, 8) };
      case 'file':
        return { ...m, mode: Number.parseInt(m.mode, 8), content: Buffer.from(m.content) };
      default:
        return m;
    }
  });
  const ll: LandlockPlan | undefined = j.landlock
    ? {
        abi: j.landlock.abi,
        fs: BigInt(j.landlock.handledFs),
        net: BigInt(j.landlock.handledNet),
        scoped: BigInt(j.landlock.scoped),
        flags: j.landlock.flags,
        paths: j.landlock.paths.map((p: any) => ({ path: p.path, access: BigInt(p.access) })),
        ports: j.landlock.ports.map((p: any) => ({ port: p.port, access: BigInt(p.access) })),
      }
    : undefined;
  return {
    version: 1,
    net: j.namespaces.includes('net'),
    uid: j.uid,
    gid: j.gid,
    hostname: j.hostname,
    verbose: 0,
    mounts,
    cwd: j.cwd,
    rlimits: j.rlimits.map((r: any) => ({
      name: r.name,
      resource: r.resource,
      soft: BigInt(r.soft),
      hard: BigInt(r.hard),
    })),
    env: j.env,
    argv: j.argv,
    exec: j.exec,
    landlock: ll,
    tty: j.tty ?? undefined,
    ...(j.ipc ? { ipc: j.ipc } : {}),
  };
}
