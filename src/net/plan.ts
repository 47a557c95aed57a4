/**
 * The sandbox's network beyond "none" and "host" (issue 16):
 *
 * - "private": a network namespace of its own, with user-mode networking by
 *   pasta (Debian package passt) started by the shim's monitor with the
 *   namespace's descriptors (NETARG records); routing policy rules in the
 *   namespace (NETRULE) make the host's own addresses and subnets, the
 *   private, link-local and multicast ranges unreachable, so that only the
 *   internet is left; DNS goes to one address pasta maps to the host's
 *   resolver, named by the sandbox's own /etc/resolv.conf.
 * - "private" with `allow`: a namespace with only loopback, where the shim
 *   listens on 127.0.0.1:PROXY_PORT and hands that socket to
 *   tsjail-net-proxy outside (NETLISTEN), which connects only to the
 *   listed hosts. Nothing else is reachable: no tun device is needed.
 *
 * Pure planning on the policy and the host's facts (addresses, the probe);
 * the helpers start at the hand-over (src/launch/exec.ts, ./proxy.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isIPv4 } from 'node:net';
import { findOnPath } from '../desktop/proxy.js';
import type { MountOp, NetRule } from '../plan/plan.js';
import type { FsRequest } from '../mounts/plan.js';
import { formatAllowEntry, type AllowEntry } from '../profile/allow.js';

/** Where the proxy listens inside the sandbox (its loopback; nothing else of the host's is there). */
export const PROXY_PORT = 3128;
/** The sandbox's resolver in "private": pasta maps it to the host's first resolver (UDP port 53). */
export const DNS_ADDRESS = '169.254.1.53';

/** What this machine offers for "private" without allow: pasta and a tun device this user may open. */
export interface PrivateSupport {
  pasta?: string;
  /** Why "private" cannot run here (one line, with the fix). */
  unavailable?: string;
}

/**
 * pasta: TSJAIL_PASTA when set (another build; a path that is not an
 * executable makes "private" unavailable, as on a machine without pasta),
 * else the first on PATH or in /usr/bin.
 */
export function probePrivateNetwork(env: NodeJS.ProcessEnv, tun = '/dev/net/tun'): PrivateSupport {
  const chosen = env['TSJAIL_PASTA'];
  const pasta = chosen === undefined ? findOnPath('pasta', env) : executable(chosen);
  if (!pasta)
    return {
      unavailable:
        chosen === undefined
          ? 'the user-mode network helper pasta is not installed (Debian package passt)'
          : `TSJAIL_PASTA=${chosen} is not an executable file: no user-mode network helper (pasta, Debian package passt)`,
    };
  try {
    fs.accessSync(tun, fs.constants.R_OK | fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { pasta, unavailable: `${tun} does not exist (the kernel's tun module): pasta cannot make an interface` };
    let mode = '';
    try {
      mode = ` (mode ${(fs.statSync(tun).mode & 0o777).toString(8).padStart(4, '0')})`;
    } catch {
      // stat refused too: no mode to show
    }
    return {
      pasta,
      unavailable: `${tun} is not readable and writable by this user${mode}, so pasta cannot make the sandbox's interface; Debian ships it 0666: an administrator restores that with \`chmod 0666 ${tun}\` or grants one user with \`setfacl -m u:USER:rw ${tun}\``,
    };
  }
  return { pasta };
}

function executable(file: string): string | undefined {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return file.startsWith('/') && fs.statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** pasta's command line; descriptors 3 (user namespace), 4 (network namespace), 5 (ready) are the shim's (PLAN.md NETARG). */
export function pastaArgv(pasta: string): string[] {
  return [
    pasta,
    '--foreground',
    '--quiet',
    '--config-net',
    // The gateway is not the host: no connection to it reaches the host's loopback.
    '--no-map-gw',
    // No port of the host's loopback reaches the namespace, and none of the namespace's the host.
    '-t',
    'none',
    '-u',
    'none',
    '-T',
    'none',
    '-U',
    'none',
    '--dns-forward',
    DNS_ADDRESS,
    '--pid',
    '/proc/self/fd/5',
    '--userns',
    '/proc/self/fd/3',
    '--netns',
    '/proc/self/fd/4',
  ];
}

const BLOCKED4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/3',
];
const BLOCKED6 = ['fc00::/7', 'fe80::/10', 'ff00::/8'];

function bytes4(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number));
}

function bytes6(a: string): Uint8Array {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const parts = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** The network address of ADDR/PREFIX (host bits cleared). */
function masked(addr: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(addr);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

function rule(cidr: string, action: NetRule['action'], why: string): NetRule {
  const [addr, len] = cidr.split('/') as [string, string | undefined];
  const v4 = isIPv4(addr);
  const bytes = v4 ? bytes4(addr) : bytes6(addr.replace(/%.*$/, ''));
  const prefix = len === undefined ? bytes.length * 8 : Number(len);
  return { family: v4 ? 4 : 6, prefix, addr: masked(bytes, prefix), action, why };
}

/**
 * The rules of "private": the resolver's address first (reachable), then
 * the ranges that are never the internet, then every address of the host
 * and the subnets they are on (its LAN), in the order the kernel tries them.
 */
export function privateRules(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): NetRule[] {
  const rules: NetRule[] = [rule(`${DNS_ADDRESS}/32`, 'pass', 'the resolver pasta forwards')];
  for (const c of BLOCKED4) rules.push(rule(c, 'unreachable', 'not the internet'));
  for (const c of BLOCKED6) rules.push(rule(c, 'unreachable', 'not the internet'));
  const seen = new Set(rules.map((r) => `${r.family}:${Buffer.from(r.addr).toString('hex')}/${r.prefix}`));
  const add = (r: NetRule): void => {
    const key = `${r.family}:${Buffer.from(r.addr).toString('hex')}/${r.prefix}`;
    if (seen.has(key)) return;
    seen.add(key);
    rules.push(r);
  };
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const i of infos ?? []) {
      if (i.internal) continue;
      add(rule(i.address, 'unreachable', `an address of this host (${name})`));
      if (i.cidr) add(rule(i.cidr, 'unreachable', `a subnet this host is on (${name})`));
    }
  }
  return rules;
}

export function resolvConf(): Uint8Array {
  return Buffer.from(
    `# tsjail: the sandbox's own network (network "private"); pasta forwards\n# this address to the host's resolver.\nnameserver ${DNS_ADDRESS}\n`,
  );
}

/** The variables every common client reads for a proxy, all pointing at tsjail's. */
export function proxyEnv(): Record<string, string> {
  const http = `http://127.0.0.1:${PROXY_PORT}`;
  const socks = `socks5h://127.0.0.1:${PROXY_PORT}`;
  return {
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    ALL_PROXY: socks,
    http_proxy: http,
    https_proxy: http,
    all_proxy: socks,
    NODE_USE_ENV_PROXY: '1',
  };
}

/** The allow list as tsjail-net-proxy's arguments: KIND HOST PORT for each entry (port 0: any). */
export function proxyArgs(allow: AllowEntry[]): string[] {
  return allow.flatMap((e) => [e.kind, e.host, String(e.port ?? 0)]);
}

export function describeAllow(allow: AllowEntry[]): string {
  return allow.map(formatAllowEntry).join(', ');
}

/**
 * What "private" adds to the sandbox: with allow, the proxy's variables;
 * without, its own /etc/resolv.conf naming the address pasta forwards (the
 * host's names a resolver the namespace cannot reach), in place of the
 * host's file in the requests; `overTree`: bound over a system tree's own
 * file (src/mounts/tree.ts coversTreeFile), which is not to be changed.
 */
export function planPrivate(
  allow: AllowEntry[],
  fsReq: FsRequest[],
  overTree = false,
): { env: Record<string, string>; ops: MountOp[] } {
  if (allow.length) return { env: proxyEnv(), ops: [] };
  for (let i = fsReq.length - 1; i >= 0; i--) if (fsReq[i]!.path === '/etc/resolv.conf') fsReq.splice(i, 1);
  return {
    env: {},
    ops: [
      {
        op: 'file',
        dest: '/etc/resolv.conf',
        mode: 0o444,
        content: resolvConf(),
        why: 'the resolver of network "private"',
        ...(overTree ? { over: true } : {}),
      },
    ],
  };
}
