/**
 * One `network.allow` / `--allow-host` entry: a host name, a `*.` wildcard
 * (any name below it, not the name itself), an IPv4 address or an IPv6
 * address (in brackets when a port follows), with an optional `:PORT`
 * (default: any port). The proxy (shim-c/net-proxy.c) gets them as they are
 * parsed here.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface AllowEntry {
  /** Lower case, without brackets or the `*.`. */
  host: string;
  kind: 'name' | 'wildcard' | 'ipv4' | 'ipv6';
  /** Absent: any port. */
  port?: number;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function validName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((l) => LABEL.test(l));
}

/** The entry parsed, or a sentence saying what is wrong with it. */
export function parseAllowEntry(raw: string): AllowEntry | string {
  if (raw.trim() !== raw) return `${JSON.stringify(raw)}: spaces around the host`;
  let s = raw.toLowerCase();
  if (s === '') return 'an empty host';
  let port: number | undefined;
  let host: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return `${JSON.stringify(raw)}: "[" without "]"`;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `${JSON.stringify(raw)}: expected ":PORT" after "]"`;
    if (rest !== '') s = rest.slice(1);
    else s = '';
    if (!isIPv6(host)) return `${JSON.stringify(raw)}: not an IPv6 address in brackets`;
    if (s !== '') {
      if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535)
        return `${JSON.stringify(raw)}: port must be 1 to 65535`;
      port = Number(s);
    }
    return { host, kind: 'ipv6', ...(port !== undefined ? { port } : {}) };
  }
  if (isIPv6(s)) return { host: s, kind: 'ipv6' };
  const colon = s.lastIndexOf(':');
  host = colon >= 0 ? s.slice(0, colon) : s;
  if (colon >= 0) {
    const p = s.slice(colon + 1);
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      return `${JSON.stringify(raw)}: port must be 1 to 65535`;
    port = Number(p);
  }
  const withPort = port !== undefined ? { port } : {};
  if (isIPv4(host)) return { host, kind: 'ipv4', ...withPort };
  if (host.startsWith('*.')) {
    const below = host.slice(2);
    if (!validName(below) || !below.includes('.'))
      return `${JSON.stringify(raw)}: "*." must be followed by a domain with at least two labels`;
    return { host: below, kind: 'wildcard', ...withPort };
  }
  if (host.includes('*')) return `${JSON.stringify(raw)}: "*" only as a leading "*."`;
  if (!validName(host)) return `${JSON.stringify(raw)}: not a host name, "*." wildcard or address`;
  return { host, kind: 'name', ...withPort };
}

/** The parse error of an entry, or undefined when it is valid. */
export function allowEntryError(raw: string): string | undefined {
  const r = parseAllowEntry(raw);
  return typeof r === 'string' ? r : undefined;
}

/** The entry as the proxy and messages show it. */
export function formatAllowEntry(e: AllowEntry): string {
  const host = e.kind === 'wildcard' ? `*.${e.host}` : e.kind === 'ipv6' && e.port ? `[${e.host}]` : e.host;
  return e.port !== undefined ? `${host}:${e.port}` : host;
}
