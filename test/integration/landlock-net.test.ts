// Landlock against the real kernel, the network and scoping side: TCP port
// lists (ABI 4), the host's abstract unix sockets and signals out of the
// sandbox's domain (scoping, ABI 6), with controls outside and below the ABI.
// What needs a newer ABI than this kernel's is skipped, saying so.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { needsLandlock } from '../helpers/machine.js';
import { outside, ready } from '../helpers/outside.js';
import { asUser, inSandbox, makeUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';

const work = makeUserDir('llnet');
t.teardown(() => removeDir(work));

/** A unix socket server of the test user outside, at `address` (python: "\\0name" is abstract). */
async function unixServer(t: Test, address: string): Promise<void> {
  const script = `import socket, time
s = socket.socket(socket.AF_UNIX); s.bind("${address}"); s.listen(50)
print("ready", flush=True)
time.sleep(120)`;
  await ready(outside(t, ['/usr/bin/python3', '-c', script]));
}

/** A python client that prints "connected" or "refused ERRNO". */
const unixClient = (address: string): string => `import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("${address}"); print("connected")
except OSError as e:
    print("refused", e.errno)`;

t.test(
  'TCP: a listed port connects, an unlisted one is refused',
  { skip: needsLandlock(4, 'TCP ports') },
  async (t) => {
    // Two ports the kernel picks, free by construction.
    const server = outside(t, [
      '/usr/bin/python3',
      '-c',
      `import socket, time
ss = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(50); ss.append(s)
print("ready", *[s.getsockname()[1] for s in ss], flush=True)
time.sleep(120)`,
    ]);
    const [base, other] = (await ready(server)).split(' ').slice(1).map(Number) as [number, number];
    writeUserFile(path.join(work, 'tcp.json5'), `{ network: { mode: "host", tcp: { connect: [${base}] } } }`);
    const probe = `use IO::Socket::INET; for my $p (${base}, ${other}) { my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $p, Proto => "tcp"); print "$p ", ($s ? "ok" : "fail: $!"), "\\n"; }`;
    const r = tsjail(['-p', path.join(work, 'tcp.json5'), '--', '/usr/bin/perl', '-e', probe]);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, new RegExp(`^${base} ok$`, 'm'));
    t.match(r.stdout, new RegExp(`^${other} fail: Permission denied$`, 'm'));
    const control = tsjail(['--net', 'host', '--', '/usr/bin/perl', '-e', probe]);
    t.match(control.stdout, new RegExp(`^${other} ok$`, 'm'), 'without a port list both connect');
    const low = tsjail(['-p', path.join(work, 'tcp.json5'), 'true'], { env: { TSJAIL_LANDLOCK_ABI: '3' } });
    t.equal(low.status, 125, 'a port list on a kernel below ABI 4 refuses to start');
    t.match(low.stderr, /TCP ports.*ABI 4/);
  },
);

t.test(
  'abstract unix sockets of the host are out of reach, also with network "host"',
  { skip: needsLandlock(6, 'scoping') },
  async (t) => {
    const address = `\\0tsjail-ll-${process.pid}`;
    await unixServer(t, address);
    const client = unixClient(address);
    const ctl = spawnSync(
      asUser(['/usr/bin/python3', '-c', client], userEnv({}))[0]!,
      asUser(['/usr/bin/python3', '-c', client], userEnv({})).slice(1),
      { encoding: 'utf8' },
    );
    t.match(ctl.stdout, /connected/, 'control: the same user outside connects');
    const r = tsjail(['--net', 'host', '--', '/usr/bin/python3', '-c', client]);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /refused 1\b/, 'EPERM from Landlock scoping');
    const old = tsjail(['--net', 'host', '--', '/usr/bin/python3', '-c', client], {
      env: { TSJAIL_LANDLOCK_ABI: '5' },
    });
    t.match(old.stdout, /connected/, 'below ABI 6 nothing can stop it');
    t.equal(old.stderr.match(/abstract unix sockets.*cannot scope/g)?.length, 1, 'and tsjail says so once');
  },
);

t.test(
  'a path socket the profile grants keeps working while abstract ones are scoped out',
  { skip: needsLandlock(6, 'scoping') },
  async (t) => {
    const sockDir = makeUserDir('llsock');
    t.teardown(() => removeDir(sockDir));
    const sock = path.join(sockDir, 'app.sock');
    await unixServer(t, sock);
    const client = unixClient(sock);
    const r = tsjail(['--net', 'host', '--ro', sock, '--', '/usr/bin/python3', '-c', client]);
    t.equal(r.status, 0, r.stderr);
    t.match(
      r.stdout,
      /connected/,
      'the granted socket (as X11 and the D-Bus proxy are granted) connects under ABI 6 scoping',
    );
  },
);

t.test("signals to a process outside the sandbox's domain fail", { skip: needsLandlock(6, 'scoping') }, async (t) => {
  // PID 1 inside is tsjail's init, which is outside the program's Landlock domain.
  const r = inSandbox('kill -0 1 2>/dev/null; echo "rc=$?"');
  t.match(r.stdout, /rc=1/);
  const old = inSandbox('kill -0 1 2>/dev/null; echo "rc=$?"', [], { env: { TSJAIL_LANDLOCK_ABI: '5' } });
  t.match(old.stdout, /rc=0/, 'control: without scoping the same signal is delivered');
});
