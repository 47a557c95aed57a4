// Reported refusals: the native ABI's refusals by errno handed to the
// shim's reporter (SECCOMP_RET_USER_NOTIF) instead of returned by the
// kernel, with the errno the reporter must answer (shim-c/report.c). Pure.
//
// Only the refusals with EPERM or EAFNOSUPPORT are handed over: they are the
// profile's (or tsjail's mandatory) denials. ENOSYS stays in the filter
// (unknown calls, the fallbacks of clone3 and the new mount API: not a
// refusal anyone can lift, and programs probe them at every start), and so
// do "kill" and "log". A 32-bit ABI beside the native one keeps plain errno
// returns: the reporter knows calls by their native number.

import { EAFNOSUPPORT, EPERM, SECCOMP_RET_ALLOW, SECCOMP_RET_USER_NOTIF, retErrno } from './bpf.js';
import type { Decision, LoweredAbi } from './lower.js';
import { syscallTable } from './tables/index.js';

/** A syscall some of whose refusals go to the listener. */
export interface NotifiedSyscall {
  nr: number;
  name: string;
  errno: number;
}

const HANDED: ReadonlyMap<number, number> = new Map([
  [retErrno(EPERM), EPERM],
  [retErrno(EAFNOSUPPORT), EAFNOSUPPORT],
]);

/**
 * The ABI's decisions with its errno refusals turned into notifications, and
 * which calls they are; the calls named in `observe` (opens and execs, whose
 * paths the reporter looks at) are notified when the filter allows them
 * too, and listed as `observed` (errno 0: the reporter lets them go on). A
 * call the filter also refuses is not observed, unless `learn`: then the
 * allowed cases of such a call (ioctl but TIOCSTI, socket of the families
 * the network allows) are observed and its refused cases keep their plain
 * errno returns, since one call cannot be both an answer and a go-on.
 */
export function notifyRefusals(
  l: LoweredAbi,
  observe: ReadonlySet<string> = new Set(),
  learn = false,
): { lowered: LoweredAbi; notified: NotifiedSyscall[]; observed: NotifiedSyscall[] } {
  const table = syscallTable(l.abi);
  const notified: NotifiedSyscall[] = [];
  const observed: NotifiedSyscall[] = [];
  const decisions = l.decisions.map((d, nr): Decision => {
    const name = table.byNr(nr)?.name;
    if (name !== undefined && observe.has(name)) {
      const all = d.kind === 'ret' ? [d.ret] : [...d.cases.map((c) => c.ret), d.otherwise];
      if ((learn || all.every((r) => !HANDED.has(r))) && all.includes(SECCOMP_RET_ALLOW)) {
        const swap = (ret: number): number => (ret === SECCOMP_RET_ALLOW ? SECCOMP_RET_USER_NOTIF : ret);
        observed.push({ nr, name, errno: 0 });
        return d.kind === 'ret'
          ? { kind: 'ret', ret: swap(d.ret) }
          : { ...d, cases: d.cases.map((c) => ({ when: c.when, ret: swap(c.ret) })), otherwise: swap(d.otherwise) };
      }
    }
    const rets = d.kind === 'ret' ? [d.ret] : [...d.cases.map((c) => c.ret), d.otherwise];
    const errnos = new Set(rets.flatMap((r) => (HANDED.has(r) ? [HANDED.get(r)!] : [])));
    // One errno per call is what the reporter can answer with (socket's is
    // EAFNOSUPPORT, every other's EPERM); a call refused with two keeps its
    // plain returns.
    if (errnos.size !== 1) return d;
    const swap = (ret: number): number => (HANDED.has(ret) ? SECCOMP_RET_USER_NOTIF : ret);
    notified.push({ nr, name: table.byNr(nr)?.name ?? `#${nr}`, errno: [...errnos][0]! });
    return d.kind === 'ret'
      ? { kind: 'ret', ret: swap(d.ret) }
      : { ...d, cases: d.cases.map((c) => ({ when: c.when, ret: swap(c.ret) })), otherwise: swap(d.otherwise) };
  });
  return { lowered: { ...l, decisions }, notified, observed };
}
