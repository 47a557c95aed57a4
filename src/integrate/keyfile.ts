/**
 * Desktop entries and D-Bus service files: the freedesktop "key file"
 * format (groups of Key=Value lines), read line by line so that an override
 * keeps every line of the original but the ones it changes, and a report
 * can name the file and line at fault.
 */

export interface KeyLine {
  /** 1-based line number. */
  line: number;
  group: string;
  key: string;
  value: string;
}

/** Every Key=Value line with its group (comments and blank lines left out). */
export function keyLines(text: string): KeyLine[] {
  const out: KeyLine[] = [];
  let group = '';
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    if (l.startsWith('[') && l.endsWith(']')) {
      group = l.slice(1, -1);
      return;
    }
    const eq = l.indexOf('=');
    if (eq <= 0) return;
    out.push({ line: i + 1, group, key: l.slice(0, eq).trim(), value: l.slice(eq + 1).trim() });
  });
  return out;
}

/** The value of KEY in GROUP (the first), or undefined. */
export function keyValue(text: string, group: string, key: string): KeyLine | undefined {
  return keyLines(text).find((k) => k.group === group && k.key === key);
}

/**
 * An Exec value split into arguments (the desktop entry spec's quoting: a
 * double-quoted argument with \" \` \$ \\ escapes).
 */
export function execArgs(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) cur += value[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      any = true;
    } else if (c === ' ' || c === '\t') {
      if (cur !== '' || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur !== '' || any) out.push(cur);
  return out;
}

/** The program an Exec value runs: past `env` and its NAME=VALUE arguments. */
export function execProgram(value: string): string | undefined {
  const args = execArgs(value);
  let i = 0;
  if (args[0] === 'env' || args[0] === '/usr/bin/env') {
    i = 1;
    while (i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i]!)) i++;
  }
  return args[i];
}

/** One argument quoted for an Exec value when it needs it. */
export function execQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** TEXT with each matching line's value replaced (other lines byte for byte). */
export function rewrite(text: string, change: (k: KeyLine) => string | null | undefined): string {
  const byLine = new Map(keyLines(text).map((k) => [k.line, k]));
  return text
    .split('\n')
    .flatMap((raw, i) => {
      const k = byLine.get(i + 1);
      if (!k) return [raw];
      const v = change(k);
      if (v === undefined) return [raw];
      if (v === null) return [];
      return [`${k.key}=${v}`];
    })
    .join('\n');
}
