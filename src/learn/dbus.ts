/**
 * D-Bus while learning (tsjail learn): each bus goes through an
 * xdg-dbus-proxy of its own in a recording mode, and its log says which
 * names the program called and asked to own. Pure: the caller
 * (src/cli/learn.ts) lists the bus's names and reads the logs.
 *
 * xdg-dbus-proxy logs only while it filters (--filter --log), and its rules
 * cannot allow every name (`*` is no rule, and NAME.* needs a NAME of two
 * elements). So the learning proxy has the base's rules widened with a talk
 * rule for every name on the bus and activatable when the run starts (never
 * a name tsjail refuses, src/desktop/dbus.ts), which lets the program call
 * what it finds. Owning is not widened: a name owned through the proxy is
 * not in its log (the log names a RequestName's name only when it refuses
 * it), so a name the program asks to own is refused while learning, logged,
 * and learned from that refusal.
 *
 * The log, one line per message the program sends:
 *   C4: -> DEST call IFACE.MEMBER at PATH        a call, passed on ...
 *   *HIDDEN* | *DENIED* [(ping)]                 ... unless refused at once
 *   Filtering message due to arg0 NAME, policy: P (required R)
 *                                                a bus call about NAME refused:
 *                                                R 3 own (RequestName), 2 talk
 *                                                (StartServiceByName), 1 see
 */
import { covers, forbiddenFor } from '../desktop/dbus.js';

export type Bus = 'session' | 'system';
export const BUSES: readonly Bus[] = ['session', 'system'];

/** What one bus's learning log says the program did. */
export interface DbusUse {
  /** A client of the proxy sent anything at all (it connected). */
  connected: boolean;
  /** Well-known names called that the proxy passed. */
  talk: string[];
  /** Well-known names called that the proxy refused (no such name at the start, or refused by tsjail). */
  refusedTalk: string[];
  /** Names it asked to own (each refused while learning, see above). */
  own: string[];
}

const BUS_DRIVER = 'org.freedesktop.DBus';

/** A destination that is a well-known name (not a unique name, not the bus itself). */
const wellKnown = (d: string): boolean => d !== '' && !d.startsWith(':') && !d.startsWith('(') && d !== BUS_DRIVER;

/** One learning proxy's log -> what the program did on that bus. */
export function parseProxyLog(text: string): DbusUse {
  const use: DbusUse = { connected: false, talk: [], refusedTalk: [], own: [] };
  const add = (list: string[], n: string): void => void (list.includes(n) ? 0 : list.push(n));
  let pending: string | undefined;
  for (const line of text.split('\n')) {
    // The proxy says a refusal on the line right after the call's.
    if (pending !== undefined) {
      if (line.startsWith('*HIDDEN*') || line.startsWith('*DENIED*')) add(use.refusedTalk, pending);
      else add(use.talk, pending);
      pending = undefined;
    }
    const call = /^C\d+: -> (\S+) call /.exec(line);
    if (call) {
      use.connected = true;
      if (wellKnown(call[1]!)) pending = call[1]!;
      continue;
    }
    if (/^C\d+: /.test(line)) {
      use.connected = true;
      continue;
    }
    const f = /^Filtering message due to arg0 ([^,]+), policy: \d+ \(required (\d+)\)/.exec(line);
    if (f && wellKnown(f[1]!)) {
      if (f[2] === '3') add(use.own, f[1]!);
      else if (f[2] === '2') add(use.refusedTalk, f[1]!);
    }
  }
  if (pending !== undefined) add(use.talk, pending);
  // A name both passed and refused (it appeared later) was called: it is a talk.
  use.refusedTalk = use.refusedTalk.filter((n) => !use.talk.includes(n));
  return use;
}

/** One `ListNames` / `ListActivatableNames` reply as dbus-send --print-reply prints it -> the names. */
export function parseNameList(text: string): string[] {
  return [...text.matchAll(/^\s*string "([^"]+)"\s*$/gm)].map((m) => m[1]!);
}

/**
 * The learning proxy's rules for a bus: the base's own (as xdg-dbus-proxy
 * arguments) and a talk rule for every well-known name in `names` that no
 * refused family holds and the base does not allow already.
 */
export function learningTalk(names: readonly string[], baseTalk: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names)
    if (wellKnown(n) && !forbiddenFor(n) && !baseTalk.some((p) => covers(p, n)) && !out.includes(n)) out.push(n);
  return out.sort();
}

/** The base's rules for one bus, as far as learning needs them. */
export interface BaseBus {
  talk: readonly string[];
  own: readonly string[];
}

/** What learning proposes for one bus. */
export interface LearnedBus {
  talk: string[];
  own: string[];
}

/**
 * Names -> the fewest rules that name exactly them: a name listed together
 * with names below it (NAME and NAME.x, an application's per-instance names)
 * becomes NAME.*; never `*`, never a rule above a name that was not used.
 */
export function collapseNames(names: readonly string[]): string[] {
  const sorted = [...new Set(names)].sort();
  const out: string[] = [];
  for (const n of sorted) {
    if (out.some((p) => covers(p, n))) continue;
    const below = sorted.some((m) => m.startsWith(`${n}.`));
    out.push(below ? `${n}.*` : n);
  }
  return out;
}

/**
 * One bus's use -> the names to add to the base (talk: called, passed or
 * refused; own: asked to own), without what the base allows already, and
 * the names of refused families, which are never proposed.
 */
export function learnBus(use: DbusUse, base: BaseBus | undefined): { add: LearnedBus; forbidden: string[] } {
  const forbidden: string[] = [];
  const keep = (n: string): boolean => {
    if (forbiddenFor(n)) {
      if (!forbidden.includes(n)) forbidden.push(n);
      return false;
    }
    return true;
  };
  const own = use.own.filter(keep).filter((n) => !(base?.own ?? []).some((p) => covers(p, n)));
  // Owning a name lets a program talk to it, too.
  const talkBase = [...(base?.talk ?? []), ...(base?.own ?? [])];
  const talk = [...use.talk, ...use.refusedTalk]
    .filter(keep)
    .filter((n) => !talkBase.some((p) => covers(p, n)) && !own.some((o) => covers(o, n)));
  return { add: { talk: collapseNames(talk), own: collapseNames(own) }, forbidden: forbidden.sort() };
}
