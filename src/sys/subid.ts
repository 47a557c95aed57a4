/**
 * The caller's subordinate ids (subuid(5), subgid(5)): the ranges shadow's
 * setuid helpers newuidmap and newgidmap let this user map into a user
 * namespace. Read, never written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface SubidRange {
  start: number;
  count: number;
}

export interface Subids {
  /** The caller's name as /etc/passwd has it ('' when it has none). */
  name: string;
  uid?: SubidRange;
  gid?: SubidRange;
  /** Where the two files were read (for messages). */
  files: { subuid: string; subgid: string };
}

/** The first range of NAME (or of the number ID) in subid(5) text. */
export function subidRange(text: string, name: string, id: number): SubidRange | undefined {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (who === undefined || who === '' || (who !== name && who !== String(id))) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s > 0 && c > 0 && s + c <= 0xfffffffe)
      return { start: s, count: c };
  }
  return undefined;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function callerSubids(uid: number, files = { subuid: '/etc/subuid', subgid: '/etc/subgid' }): Subids {
  let name = '';
  try {
    name = os.userInfo().username;
  } catch {
    // no passwd entry: match by number only
  }
  return {
    name,
    uid: subidRange(readOr(files.subuid), name, uid),
    gid: subidRange(readOr(files.subgid), name, uid),
    files,
  };
}

export function inRange(id: number, r: SubidRange | undefined): boolean {
  return r !== undefined && id >= r.start && id < r.start + r.count;
}
