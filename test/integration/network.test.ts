// Issue 16: network "private" (pasta) and "private" with an allow list
// (tsjail-net-proxy), against real servers: one on the host (standing for
// the host's services, on its loopback and its own address) and one inside
// a network namespace of its own reached over a veth pair, standing for
// "the internet" (no traffic leaves this machine). Sandboxes run as the
// unprivileged test user; the test network needs root to build.
import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asUser, makeUserDir, removeDir, tsjail, tsjailAsync, tsjailArgv, userEnv } from '../helpers/sandbox.js';
import { buildInternet, httpServer, privateNetworkSkip } from '../helpers/internet.js';

const home = makeUserDir('net');
t.teardown(() => removeDir(home));
fs.writeFileSync(path.join(home, 'index.html'), 'hello from the server\n');
fs.chmodSync(path.join(home, 'index.html'), 0o644);

const running: ChildProcess[] = [];
t.teardown(() => running.forEach((c) => c.kill('SIGKILL')));

const HOSTPORT = 20000 + (process.pid % 20000);
const hostAddr = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

const noPasta = privateNetworkSkip();
const internet = buildInternet(t);
const noInternet = typeof internet === 'string' ? internet : undefined;
const INET = typeof internet === 'string' ? '' : internet.addr;
const NETNS = typeof internet === 'string' ? '' : internet.netns;

t.before(async () => {
  const probe = 'index.html';
  await httpServer(t, { dir: home, addr: '0.0.0.0', port: HOSTPORT, probe });
  await httpServer(t, { dir: home, addr: '0.0.0.0', port: HOSTPORT + 1, probe });
  if (typeof internet !== 'string') {
    await httpServer(t, { dir: home, addr: INET, port: 8080, netns: internet.netns, probe });
    await httpServer(t, { dir: home, addr: INET, port: 8081, netns: internet.netns, probe });
  }
});

const curl = (url: string, extra: string[] = []) => ['--', 'curl', '-sS', '-m', '10', ...extra, url];

t.test('control: outside, the host servers and the "internet" answer', { skip: noInternet }, async (t) => {
  const r = spawnSync('curl', ['-sf', `http://127.0.0.1:${HOSTPORT}/index.html`], { encoding: 'utf8' });
  t.equal(r.stdout, 'hello from the server\n', 'host loopback');
  const i = spawnSync('curl', ['-sf', `http://${INET}:8080/index.html`], { encoding: 'utf8' });
  t.equal(i.stdout, 'hello from the server\n', 'the internet');
  const h = tsjail(['--net', 'host', ...curl(`http://127.0.0.1:${HOSTPORT}/index.html`)], { home });
  t.equal(h.stdout, 'hello from the server\n', 'with --net host the sandbox reaches the host loopback');
});

t.test('private: the internet works, the host does not', { skip: noPasta ?? noInternet }, async (t) => {
  const ok = tsjail(['--net', 'private', ...curl(`http://${INET}:8080/index.html`)], { home });
  t.equal(ok.status, 0, ok.stderr);
  t.equal(ok.stdout, 'hello from the server\n', 'a server on the internet is fetched');
  const lo = tsjail(['--net', 'private', ...curl(`http://127.0.0.1:${HOSTPORT}/index.html`)], { home });
  t.not(lo.status, 0, "the host's loopback is not the sandbox's");
  t.match(lo.stderr, /Couldn't connect|Connection refused/);
  if (hostAddr) {
    const own = tsjail(['--net', 'private', ...curl(`http://${hostAddr}:${HOSTPORT}/index.html`)], { home });
    t.not(own.status, 0, `the host's own address ${hostAddr} is unreachable`);
    t.equal(own.stdout, '');
  }
  for (const lan of ['10.0.0.1', '192.168.1.1', '172.16.0.1', '169.254.169.254']) {
    const r = tsjail(['--net', 'private', ...curl(`http://${lan}/`)], { home });
    t.match(r.stderr, /unreachable|Couldn't connect/i, `${lan} (LAN, link-local) is unreachable`);
  }
  const dns = tsjail(['--net', 'private', '--', 'cat', '/etc/resolv.conf'], { home });
  t.match(dns.stdout, /^nameserver 169\.254\.1\.53$/m, 'the sandbox has its own resolver address');
});

const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(100)
    s.sendto(b"echo " + d, a)
`;
const UDP_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.send(b"ping")
    print(s.recv(100).decode())
except Exception as e:
    print(type(e).__name__)
`;

/** A UDP echo server on ADDR:PORT (in `netns` when given), until the end of `t`. */
async function udpEcho(t: Test, addr: string, port: number, netns?: string): Promise<void> {
  const argv = [...(netns ? ['ip', 'netns', 'exec', netns] : []), 'python3', '-c', UDP_ECHO, addr, String(port)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.includes('ready') && resolve());
    child.once('exit', () => reject(new Error(`UDP echo on ${addr}:${port} exited`)));
  });
}

t.test('private: UDP reaches the internet, not the host', { skip: noPasta ?? noInternet }, async (t) => {
  const port = 40000 + (process.pid % 20000);
  await udpEcho(t, INET, port, NETNS);
  await udpEcho(t, '0.0.0.0', port + 1);
  const udp = (opts: string[], addr: string, p: number) =>
    tsjail(['-p', 'default', ...opts, '--', 'python3', '-c', UDP_CLIENT, addr, String(p)], { home }).stdout;
  const outside = spawnSync('python3', ['-c', UDP_CLIENT, '127.0.0.1', String(port + 1)], { encoding: 'utf8' });
  t.equal(outside.stdout, 'echo ping\n', "control: outside, the host's loopback echoes");
  t.equal(udp(['--net', 'host'], '127.0.0.1', port + 1), 'echo ping\n', 'control: so it does under --net host');
  t.equal(udp(['--net', 'private'], INET, port), 'echo ping\n', 'private: a UDP server on the internet answers');
  t.notMatch(udp(['--net', 'private'], '127.0.0.1', port + 1), /echo/, "private: the host's loopback does not");
  if (hostAddr)
    t.notMatch(udp(['--net', 'private'], hostAddr, port + 1), /echo/, `private: nor the host's own ${hostAddr}`);
  t.notMatch(udp(['--allow-host', `${INET}:${port}`], INET, port), /echo/, 'allow: no UDP leaves, listed or not');
});

// Inside an allow list's namespace: a listener of the program's own on its loopback, then a connection to it.
const OWN_LISTENER = `
import errno, socket
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.socket()
try:
    c.connect(l.getsockname())
    print("connected")
except OSError as e:
    print(errno.errorcode[e.errno])
`;

t.test('allow: Landlock lets TCP connect only to the proxy port (ABI 4 on)', async (t) => {
  const run = (abi?: string) =>
    tsjail(['-p', 'default', '--allow-host', 'example.org:443', '-v', '--', 'python3', '-c', OWN_LISTENER], {
      home,
      ...(abi ? { env: { TSJAIL_LANDLOCK_ABI: abi } } : {}),
    });
  const without = run('3');
  t.equal(
    without.stdout,
    'connected\n',
    'control: under ABI 3 (no network rules) the program reaches its own listener',
  );
  t.match(without.stderr, 'Landlock ABI 3 cannot limit TCP ports: the network namespace alone');
  const here = run();
  if (!/Landlock: TCP connections only to port 3128/.test(here.stderr))
    return void t.skip(`this kernel has no Landlock ABI 4 network rules: ${here.stderr.slice(0, 300)}`, async () => {});
  t.equal(here.stdout, 'EACCES\n', 'with the rule, a TCP connect to any other port is refused, even inside');
});

t.test('private where pasta cannot run, without a fallback: 125 naming the package', async (t) => {
  const r = tsjail(['--net', 'private', '--', 'true'], { home, env: { TSJAIL_PASTA: '/nonexistent/pasta' } });
  t.equal(r.status, 125, r.stderr);
  t.match(r.stderr, /TSJAIL_PASTA=\/nonexistent\/pasta is not an executable.*Debian package passt/);
});

// A DNS question for NAME (type A) sent by UDP to ADDR:53, and the
// addresses of the answer: the resolver address itself is asked, not the
// C library (whose /etc/hosts could answer).
const DNS_QUERY = `
import random, socket, struct, sys
name, addr = sys.argv[1], sys.argv[2]
qid = random.randrange(65536)
q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\\0" + struct.pack(">HH", 1, 1)
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(q, (addr, 53))
    r, _ = s.recvfrom(4096)
except Exception as e:
    print(type(e).__name__)
    sys.exit(0)
rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
i = 12
for _ in range(qd):
    while r[i]:
        i += r[i] + 1
    i += 5
out = []
for _ in range(an):
    i += 2 if r[i] & 0xC0 == 0xC0 else 0
    while r[i] and r[i] & 0xC0 != 0xC0:
        i += r[i] + 1
    i += 1 if r[i - 1] == 0 or r[i] else 0
    t, c, ttl, l = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if t == 1:
        out.append(socket.inet_ntoa(r[i:i + 4]))
    i += l
print("id-ok" if rid == qid else "id-bad", "rcode", flags & 15, *sorted(out))
`;

/**
 * A name the host's resolver answers and /etc/hosts does not name, or why
 * there is none here. pasta forwards the resolver address to the host's
 * nameserver, so this one test asks that server (the rest of the file keeps
 * its traffic on this machine); where it answers nothing, the test skips.
 */
function resolvable(): { name: string; upstream: string } | string {
  const upstream = /^nameserver\s+(\d+\.\d+\.\d+\.\d+)/m.exec(fs.readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
  if (!upstream) return 'the host has no IPv4 nameserver in /etc/resolv.conf';
  const hosts = fs.readFileSync('/etc/hosts', 'utf8');
  for (const name of ['deb.debian.org', 'debian.org', 'registry.npmjs.org']) {
    if (new RegExp(`\\s${name.replace(/\./g, '\\.')}(\\s|$)`, 'm').test(hosts)) continue;
    const r = spawnSync('python3', ['-c', DNS_QUERY, name, upstream], { encoding: 'utf8' });
    if (/^id-ok rcode 0 \d/.test(r.stdout)) return { name, upstream };
  }
  return `the host's resolver ${upstream} answers none of the names tried (no DNS here)`;
}

t.test("private: DNS through the resolver address inside answers as the host's resolver does", async (t) => {
  if (noPasta) return t.skip(noPasta, async () => {});
  const dns = resolvable();
  if (typeof dns === 'string') return t.skip(dns, async () => {});
  const outside = spawnSync('python3', ['-c', DNS_QUERY, dns.name, dns.upstream], { encoding: 'utf8' }).stdout.trim();
  t.match(outside, /^id-ok rcode 0 \d/, `control: the host's resolver ${dns.upstream} answers ${dns.name}: ${outside}`);
  const asked = tsjail(['--net', 'private', '--', 'python3', '-c', DNS_QUERY, dns.name, '169.254.1.53'], { home });
  t.equal(asked.stdout.trim(), outside, `169.254.1.53 inside gives the same answer ${asked.stderr}`);
  const libc = tsjail(['--net', 'private', '--', 'getent', 'hosts', dns.name], { home });
  t.equal(libc.status, 0, `getent hosts ${dns.name} resolves inside ${libc.stderr}`);
  t.match(
    libc.stdout,
    new RegExp(`^(${outside.split(' ').slice(3).join('|').replace(/\./g, '\\.')})\\s`),
    'with an address of that answer',
  );
  const none = tsjail(['--net', 'none', '--', 'python3', '-c', DNS_QUERY, dns.name, '169.254.1.53'], { home });
  t.match(none.stdout.trim(), /^(OSError|TimeoutError)$/, `with no network no resolver answers: ${none.stdout.trim()}`);
});

t.test('private: 20 sandboxes at once each get a working network', { skip: noPasta ?? noInternet }, async (t) => {
  const runs = await Promise.all(
    Array.from({ length: 20 }, () =>
      tsjailAsync(['--net', 'private', ...curl(`http://${INET}:8080/index.html`)], { home, timeout: 120_000 }),
    ),
  );
  t.same(
    runs.map((r) => r.stdout),
    Array<string>(20).fill('hello from the server\n'),
    runs.map((r) => r.stderr).join(''),
  );
});

t.test('allow: only what the list names, through the proxy', { skip: noInternet }, async (t) => {
  const allow = ['--allow-host', `${INET}:8080`, '--allow-host', `localhost:${HOSTPORT}`];
  const ok = tsjail([...allow, ...curl(`http://${INET}:8080/index.html`)], { home });
  t.equal(ok.stdout, 'hello from the server\n', `${INET}:8080, listed, is fetched`);
  const tunnel = tsjail([...allow, ...curl(`http://${INET}:8080/index.html`, ['--proxytunnel'])], { home });
  t.equal(tunnel.stdout, 'hello from the server\n', 'also through CONNECT');
  const socks = tsjail([...allow, ...curl(`http://${INET}:8080/index.html`, ['-x', 'socks5h://127.0.0.1:3128'])], {
    home,
  });
  t.equal(socks.stdout, 'hello from the server\n', 'also through SOCKS5');
  const name = tsjail([...allow, ...curl(`http://localhost:${HOSTPORT}/index.html`)], { home });
  t.equal(name.stdout, 'hello from the server\n', "an allowed name (the host's loopback) is fetched");
  const port = tsjail([...allow, ...curl(`http://${INET}:8081/index.html`)], { home });
  t.equal(
    port.stdout,
    `tsjail: ${INET}:8081 is not in the allow list of profile curl\n`,
    'another port: 403 naming the profile',
  );
  t.match(port.stderr, `refused GET ${INET}:8081`, 'said on stderr');
  const sport = tsjail([...allow, ...curl(`http://${INET}:8081/index.html`, ['-x', 'socks5h://127.0.0.1:3128'])], {
    home,
  });
  t.match(sport.stderr, /SOCKS5 connection .*\(2\)/, 'SOCKS5: reply 2, not allowed by the ruleset');
  const lo = tsjail([...allow, ...curl(`http://127.0.0.1:${HOSTPORT + 1}/index.html`)], { home });
  t.match(lo.stdout, /is not in the allow list/, 'an unlisted host service: 403');
  const direct = tsjail([...allow, ...curl(`http://${INET}:8080/index.html`, ['--noproxy', '*'])], { home });
  t.not(direct.status, 0, "curl --noproxy '*' reaches nothing");
  t.equal(direct.stdout, '');
  const env = tsjail([...allow, '--', 'env'], { home, env: { NO_PROXY: '*' } });
  t.match(env.stdout, /^HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128$/m);
  t.match(env.stdout, /^NODE_USE_ENV_PROXY=1$/m);
  t.notMatch(env.stdout, /^no_proxy=/im, 'no bypass list');
});

// A raw client inside the sandbox: what curl would never send, sent to the proxy as it is.
const RAW_CLIENT = `
import socket, sys
s = socket.create_connection(("127.0.0.1", 3128))
if sys.argv[1] == "socks":
    name = sys.argv[2].encode()
    s.sendall(b"\\x05\\x01\\x00")
    s.recv(2)
    s.sendall(b"\\x05\\x01\\x00\\x03" + bytes([len(name)]) + name + int(sys.argv[3]).to_bytes(2, "big"))
    print("SOCKS5 reply", s.recv(10)[1])
else:
    s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    sys.stdout.write(out.decode("latin-1"))
`;
// A server that answers with the Host headers it was sent.
const HOST_ECHO = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("host=" + str(self.headers.get_all("Host")) + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`;
const raw = (allow: string[], ...args: string[]) =>
  tsjail(['-p', 'default', ...allow.flatMap((a) => ['--allow-host', a]), '--', 'python3', '-c', RAW_CLIENT, ...args], {
    home,
  });

t.test('allow: the host of an absolute-form request is its authority alone', { skip: noInternet }, async (t) => {
  // Port 80, so that the URL names no port: the host then ends at the path's "/".
  await httpServer(t, {
    dir: home,
    addr: INET,
    port: 80,
    netns: NETNS,
    probe: 'index.html',
  });
  for (const entry of [INET, `${INET}:80`]) {
    const r = tsjail(['--allow-host', entry, ...curl(`http://${INET}/index.html`)], { home });
    t.equal(r.stdout, 'hello from the server\n', `allowed as ${entry}: http://${INET}/index.html is fetched`);
    t.notMatch(r.stderr, /refused/, r.stderr);
  }
  const q = tsjail(['--allow-host', INET, ...curl(`http://${INET}?x=1`)], { home });
  t.equal(q.stdout, 'hello from the server\n', 'a query right after the host: the host alone, the path "/?x=1"');
  // A name with a "/" in it would have matched the wildcard and been given to the resolver.
  const slash = raw(
    ['*.allowed.example'],
    'http',
    'GET http://evil.example/.allowed.example HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n',
  );
  t.match(slash.stdout, /^HTTP\/1\.1 403 Forbidden/, slash.stdout + slash.stderr);
  t.match(slash.stdout, 'tsjail: evil.example:80 is not in the allow list', 'refused as the host it names');
  const user = raw(['*.allowed.example'], 'http', 'GET http://evil.example@a.allowed.example/ HTTP/1.1\\r\\n\\r\\n');
  t.match(user.stdout, /^HTTP\/1\.1 400 Bad Request[^]*a user name in the URL/, 'userinfo: 400, neither host tried');
  for (const odd of ['evil.example/.allowed.example', 'evil.example%.allowed.example', 'a..allowed.example']) {
    const s = raw(['*.allowed.example'], 'socks', odd, '80');
    t.equal(s.stdout, 'SOCKS5 reply 1\n', `SOCKS5 ${odd}: refused as no host name (reply 1), before the list`);
    t.match(s.stderr, 'not a host name or address');
  }
  // The Host header goes as the URL names the host: the one the list allowed, not another site at that address.
  const echo = spawn('ip', ['netns', 'exec', NETNS, 'python3', '-c', HOST_ECHO, INET, '8084'], { stdio: 'ignore' });
  t.teardown(() => {
    echo.kill('SIGKILL');
  });
  for (let i = 0; i < 1200; i++) {
    if (
      spawnSync('ip', ['netns', 'exec', NETNS, 'curl', '-sf', '-o', '/dev/null', `http://${INET}:8084/`]).status === 0
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const direct = spawnSync(
    'ip',
    ['netns', 'exec', NETNS, 'curl', '-sS', '-H', 'Host: other.example', `http://${INET}:8084/`],
    {
      encoding: 'utf8',
    },
  );
  t.equal(direct.stdout, "host=['other.example']\n", 'control: the server says which Host it was sent');
  const fronted = raw(
    [`${INET}:8084`],
    'http',
    `GET http://${INET}:8084/ HTTP/1.1\\r\\nHost: other.example\\r\\n\\r\\n`,
  );
  t.match(
    fronted.stdout,
    `\r\n\r\nhost=['${INET}:8084']\n`,
    "through the proxy: the URL's host alone, the program's Host dropped",
  );
  const ok = raw([`${INET}:8080`], 'socks', INET, '8080');
  t.equal(ok.stdout, 'SOCKS5 reply 0\n', 'control: the raw SOCKS5 client is let through to a listed host');
});

t.test(
  'allow: a connection the client keeps is one request, the next one is checked anew',
  { skip: noInternet },
  async (t) => {
    const other = makeUserDir('net-other');
    t.teardown(() => removeDir(other));
    fs.writeFileSync(path.join(other, 'index.html'), 'hello from the other server\n');
    fs.chmodSync(path.join(other, 'index.html'), 0o644);
    await httpServer(t, { dir: home, addr: INET, port: 8082, netns: NETNS, probe: 'index.html', protocol: 'HTTP/1.1' });
    await httpServer(t, {
      dir: other,
      addr: INET,
      port: 8083,
      netns: NETNS,
      probe: 'index.html',
      protocol: 'HTTP/1.1',
    });
    const a = `http://${INET}:8082/index.html`;
    const b = `http://${INET}:8083/index.html`;
    // curl(b, [a]) fetches a, then b. Outside control: curl keeps the connection to a server that keeps it (HTTP/1.1).
    const keep = spawnSync('curl', ['-sS', '-v', a, a], { encoding: 'utf8' });
    t.match(keep.stderr, /Re-using existing connection/, 'outside, curl reuses a kept connection');
    const both = tsjail(['--allow-host', `${INET}:8082`, '--allow-host', `${INET}:8083`, ...curl(b, [a])], { home });
    t.equal(both.stdout, 'hello from the server\nhello from the other server\n', 'each request reaches its own server');
    const one = tsjail(['--allow-host', `${INET}:8082`, ...curl(b, [a])], { home });
    t.equal(
      one.stdout,
      `hello from the server\ntsjail: ${INET}:8083 is not in the allow list of profile curl\n`,
      'an unlisted host after a listed one on the same client: 403, not sent to the first server',
    );
    const direct = spawnSync('curl', ['-sS', '-i', a], { encoding: 'utf8' });
    t.notMatch(direct.stdout, /^Connection:/im, 'control: the server itself says nothing of closing');
    const head = tsjail(['--allow-host', `${INET}:8082`, ...curl(a, ['-i'])], { home });
    t.match(
      head.stdout,
      /^HTTP\/1\.1 200 [^]*\r\nConnection: close\r\n\r\nhello from the server\n$/,
      'through the proxy it does',
    );
  },
);

// Issue 16 item 3: the browser and mail profiles have their own network
// (the private-network snippet), with the host's as the fallback that says
// so; dev reaches the registries only; untrusted stays without network.
const NET_PROFILES = ['firefox', 'chromium', 'epiphany', 'thunderbird', 'evolution', 'claws-mail'];
t.test('browser and mail profiles: private; the host network where pasta cannot run, said once', async (t) => {
  const probe = ['--', '/usr/bin/curl', '-sS', '-m', '10', `http://127.0.0.1:${HOSTPORT}/index.html`];
  for (const profile of NET_PROFILES) {
    if (noPasta === undefined) {
      const own = tsjail(['-p', profile, ...probe], { home });
      t.not(own.status, 0, `${profile}: the host's loopback is out of reach (a network of its own)`);
      t.match(own.stderr, /Couldn't connect|Connection refused/, own.stderr);
      t.notMatch(own.stderr, /network\.fallback/, 'no fallback said');
    }
    // As on a machine without pasta: the fallback.
    const fb = tsjail(['-p', profile, ...probe], { home, env: { TSJAIL_PASTA: '/nonexistent/pasta' } });
    t.equal(fb.stdout, 'hello from the server\n', `${profile}: without pasta, the host's network`);
    t.equal(fb.stderr.match(/using network\.fallback "host"/g)?.length, 1, 'said once');
    t.match(fb.stderr, /TSJAIL_PASTA=\/nonexistent\/pasta is not an executable.*Debian package passt/, 'saying why');
  }
  const none = tsjail(['-p', 'untrusted', ...probe], { home });
  t.not(none.status, 0, 'untrusted: no network');
  t.equal(none.stdout, '');
});

// audacity (issue 12) needs an inet socket for its single-instance server
// on 127.0.0.1, which network "none" refuses: "private" with the fallback
// "none" gives it a loopback of its own.
t.test(
  'audacity: its own loopback works, the host is out of reach; no network at all where pasta cannot run',
  async (t) => {
    if (noPasta === undefined) {
      const listener = tsjail(['-p', 'audacity', '--', 'python3', '-c', OWN_LISTENER], { home });
      t.equal(listener.stdout, 'connected\n', 'a listener of its own on its loopback takes a connection');
      const host = tsjail(
        ['-p', 'audacity', '--', '/usr/bin/curl', '-sS', '-m', '10', `http://127.0.0.1:${HOSTPORT}/`],
        {
          home,
        },
      );
      t.not(host.status, 0, "the host's loopback is out of reach");
      t.match(host.stderr, /Couldn't connect|Connection refused/, host.stderr);
    } else t.comment(`the private half is skipped: ${noPasta}`);
    const fb = tsjail(['-p', 'audacity', '--', 'python3', '-c', OWN_LISTENER], {
      home,
      env: { TSJAIL_PASTA: '/nonexistent/pasta' },
    });
    t.notMatch(fb.stdout, /connected/, 'without pasta: no inet socket at all, never the host network');
    t.equal(fb.stderr.match(/using network\.fallback "none"/g)?.length, 1, 'the fallback said once');
  },
);

t.test('dev: the registries only, through the proxy; more with --allow-host', { skip: noInternet }, async (t) => {
  const proj = path.join(home, 'proj');
  fs.mkdirSync(proj, { recursive: true });
  fs.chownSync(proj, fs.statSync(home).uid, fs.statSync(home).gid);
  const url = `http://${INET}:8080/index.html`;
  const env = tsjail(['-p', 'dev', '--', 'env'], { home, cwd: proj });
  t.match(env.stdout, /^HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128$/m, 'the tools are told of the proxy');
  const refused = tsjail(['-p', 'dev', ...curl(url)], { home, cwd: proj });
  t.equal(refused.stdout, `tsjail: ${INET}:8080 is not in the allow list of profile dev\n`, 'an unlisted host: 403');
  const direct = tsjail(['-p', 'dev', ...curl(url, ['--noproxy', '*'])], { home, cwd: proj });
  t.not(direct.status, 0, 'past the proxy: nothing');
  t.equal(direct.stdout, '');
  const more = tsjail(['-p', 'dev', '--allow-host', `${INET}:8080`, ...curl(url)], { home, cwd: proj });
  t.equal(more.stdout, 'hello from the server\n', '--allow-host adds to the list');
  const explain = tsjail(['profile', 'explain', 'dev'], { home, cwd: proj });
  for (const host of ['registry.npmjs.org:443', 'pypi.org:443', 'index.crates.io:443', 'deb.debian.org:443'])
    t.match(explain.stdout, host, `explain names ${host}`);
});

t.test('doctor: whether "private" can run here, and the proxy for allow lists', async (t) => {
  const here = tsjail(['doctor'], { home });
  t.match(here.stdout, /^allow lists +available: \/\S+\/tsjail-net-proxy \(no tun device needed\)$/m);
  if (noPasta === undefined)
    t.match(here.stdout, /^private network +available: pasta \/\S+pasta, \/dev\/net\/tun readable and writable$/m);
  else t.match(here.stdout, /^private network +NOT AVAILABLE: /m, `here: ${noPasta}`);
  const none = tsjail(['doctor'], { home, env: { TSJAIL_PASTA: '/nonexistent/pasta' } });
  t.match(none.stdout, /^private network +NOT AVAILABLE: TSJAIL_PASTA=\/nonexistent\/pasta is not an executable/m);
  t.match(none.stdout, /use their network\.fallback \(browsers, mail: "host"\) or do not start/);
});

/** Host pids of the test user's processes below `root` (children, grandchildren...). */
function descendants(root: number): { pid: number; comm: string }[] {
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return { pid: Number(d), ppid, comm };
      } catch {
        return undefined;
      }
    })
    .filter((p) => p !== undefined);
  const out: { pid: number; comm: string }[] = [];
  const walk = (p: number): void => {
    for (const c of all.filter((x) => x.ppid === p)) {
      out.push({ pid: c.pid, comm: c.comm });
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);

for (const [what, opts, helper] of [
  ['private', ['--net', 'private'], 'pasta'],
  ['allow', ['--allow-host', 'example.org:443'], 'tsjail-net-prox'],
] as const) {
  for (const end of ['the program exits', 'tsjail is SIGKILLed'] as const) {
    t.test(`${what}: ${helper} ends when ${end}`, { skip: what === 'private' ? noPasta : false }, async (t) => {
      const argv = asUser(tsjailArgv([...opts, '--', 'sh', '-c', 'echo up; read x; echo bye']), userEnv({ home }));
      const child = spawn(argv[0]!, argv.slice(1), { cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
      running.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => d.includes('up') && resolve());
        child.once('close', () => resolve());
      });
      t.equal(child.exitCode, null, `the sandbox runs ${err}`);
      // Debian's pasta is passt.avx2 where the CPU has AVX2.
      const helpers = descendants(child.pid!).filter(
        (p) => p.comm.startsWith(helper) || (helper === 'pasta' && p.comm.startsWith('passt')),
      );
      t.equal(helpers.length, 1, `one ${helper} beside the sandbox`);
      if (end === 'tsjail is SIGKILLed') child.kill('SIGKILL');
      else child.stdin!.end('\n');
      await new Promise((r) => child.once('close', r));
      for (let i = 0; i < 200 && helpers.some((h) => alive(h.pid)); i++) await new Promise((r) => setTimeout(r, 25));
      t.same(
        helpers.filter((h) => alive(h.pid)),
        [],
        `${helper} is gone`,
      );
    });
  }
}
