/**
 * A stand-in for "the internet" that no traffic leaves this machine for: a
 * network namespace of its own holding one address of TEST-NET-2
 * (198.51.100.0/24), reached from the host over a veth pair and a host
 * route. Any sandbox network reaches it: "host" through the host's routing
 * table, "private" through pasta, which connects from the host's stack,
 * while the host's loopback is out of reach of "private". Building it needs
 * root; HTTP servers (python3 -m http.server) run inside it or on the host.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Test } from 'tap';
import { asUser, IS_ROOT, userEnv } from './sandbox.js';
import { probePrivateNetwork } from '../../src/net/plan.js';

export interface Internet {
  /** The one address of the namespace. */
  addr: string;
  /** The namespace's name, for `ip netns exec`. */
  netns: string;
}

const sh = (cmd: string): void => {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};

/**
 * Builds the namespace, removed at `t`'s teardown; a string is the reason
 * it cannot be built here. Test files run side by side, each with its own
 * namespace, veth and address: an address another run holds is passed over.
 */
export function buildInternet(t: Test): Internet | string {
  if (!IS_ROOT) return 'building a test network namespace needs root';
  const netns = `tsjail-inet-${process.pid}`;
  const veth = `tjh${process.pid % 100000}`;
  try {
    sh(`ip netns add ${netns}`);
    t.teardown(() => spawnSync('ip', ['netns', 'delete', netns]));
    sh(`ip link add ${veth} type veth peer name tjn netns ${netns}`);
    sh(`ip link set ${veth} up`);
    let addr: string | undefined;
    for (let i = 0; i < 250 && !addr; i++) {
      const candidate = `198.51.100.${2 + ((process.pid + i) % 250)}`;
      if (spawnSync('ip', ['route', 'add', `${candidate}/32`, 'dev', veth]).status === 0) addr = candidate;
    }
    if (!addr) throw new Error('every address of 198.51.100.0/24 is routed elsewhere');
    sh(`ip -n ${netns} link set lo up && ip -n ${netns} addr add ${addr}/32 dev tjn && ip -n ${netns} link set tjn up`);
    sh(`ip -n ${netns} route add default dev tjn`);
    return { addr, netns };
  } catch (e) {
    return `cannot build the test network: ${(e as Error).message}`;
  }
}

/**
 * A static HTTP server of `dir` on ADDR:PORT, inside `netns` when given (as
 * root), else on the host as the test user; ready once `probe` (a path
 * under it) answers; killed at `t`'s teardown. `protocol` "HTTP/1.1" keeps
 * connections open for the next request.
 */
export async function httpServer(
  t: Test,
  opts: { dir: string; addr: string; port: number; netns?: string; probe?: string; protocol?: 'HTTP/1.1' },
): Promise<void> {
  const py = ['python3', '-m', 'http.server', '-b', opts.addr, '-d', opts.dir, String(opts.port)];
  // HTTP/1.1: connections kept open between requests (http.server's default is HTTP/1.0, one per connection).
  if (opts.protocol) py.push('--protocol', opts.protocol);
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...py] : asUser(py, userEnv({ home: opts.dir }));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const url = `http://${opts.addr === '0.0.0.0' ? '127.0.0.1' : opts.addr}:${opts.port}/${opts.probe ?? ''}`;
  const probe = [...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []), 'curl', '-sf', '-o', '/dev/null', url];
  // Up to a minute: python starts slowly on a loaded machine (a readiness wait, no timing is asserted).
  for (let i = 0; i < 1200 && !exited; i++) {
    if (spawnSync(probe[0]!, probe.slice(1)).status === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on ${opts.addr}:${opts.port} did not start${exited ? `: it ${exited}` : ''}: ${err}`);
}

/** Why network "private" cannot run here for the test user, or undefined when it can. */
export function privateNetworkSkip(): string | undefined {
  const support = probePrivateNetwork({ PATH: '/usr/bin:/bin' });
  if (!support.pasta) return support.unavailable;
  // The test user's view of /dev/net/tun: ours (root) says nothing about it.
  const tun = asUser(['test', '-r', '/dev/net/tun', '-a', '-w', '/dev/net/tun'], userEnv({}));
  if (spawnSync(tun[0]!, tun.slice(1)).status !== 0)
    return '/dev/net/tun is not readable and writable by the test user (.ci/run grants it as stock Debian has it)';
  return undefined;
}
