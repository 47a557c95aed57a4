// Issue 16 item 4: what `network: { mode: "host", tcp: ... }` restricts.
// Landlock's port rules are about TCP only: a UDP datagram (or an ICMP echo
// socket, or SCTP) would go anywhere the host's network goes. So with a tcp
// list, and with `udp: false`, seccomp refuses every inet socket that is not
// TCP; `udp: true` lets them through again. Outside control: the same
// sendto from the test user reaches a UDP listener on the host's loopback.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { asUser, makeUserDir, removeDir, tsjail, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { needsLandlock } from '../helpers/machine.js';

const work = makeUserDir('escape-udp');
t.teardown(() => removeDir(work));

// sendto PORT TAG: one datagram to 127.0.0.1:PORT; prints "sent" or "errno N".
const SEND = [
  'import socket, sys',
  'try:',
  '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  "    s.sendto(sys.argv[2].encode(), ('127.0.0.1', int(sys.argv[1])))",
  "    print('sent')",
  'except OSError as e:',
  "    print('errno', e.errno)",
].join('\n');
// Other inet sockets that are not TCP: ICMP echo ("ping") and SCTP.
const OTHERS = [
  'import socket',
  'for name, args in (("icmp", (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)),',
  '                   ("sctp", (socket.AF_INET, socket.SOCK_STREAM, 132)),',
  '                   ("tcp", (socket.AF_INET, socket.SOCK_STREAM, 0)),',
  '                   ("tcp6", (socket.AF_INET6, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, socket.IPPROTO_TCP))):',
  '    try:',
  '        socket.socket(*args).close()',
  '        print(name, "ok")',
  '    except OSError as e:',
  '        print(name, "errno", e.errno)',
].join('\n');
writeUserFile(path.join(work, 'send.py'), SEND);
writeUserFile(path.join(work, 'others.py'), OTHERS);

let listener: ChildProcess | undefined;
let received = '';
let port = 0;
t.teardown(() => listener?.kill('SIGKILL'));

t.before(async () => {
  const py =
    "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('127.0.0.1', 0))\nprint(s.getsockname()[1], flush=True)\nwhile True:\n    print(s.recv(100).decode(), flush=True)\n";
  const argv = asUser(['python3', '-c', py], userEnv({ home: work }));
  listener = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  listener.stdout!.setEncoding('utf8');
  port = await new Promise<number>((resolve) => {
    listener!.stdout!.once('data', (d: string) => resolve(Number(d.trim())));
  });
  listener.stdout!.on('data', (d: string) => (received += d));
});

/** Has the listener received TAG (give the datagram a moment on loopback)? */
async function got(tag: string): Promise<boolean> {
  for (let i = 0; i < 40 && !received.includes(tag); i++) await new Promise((r) => setTimeout(r, 25));
  return received.includes(tag);
}

const profile = (name: string, network: string): string => {
  const file = path.join(work, `${name}.json5`);
  writeUserFile(file, `{ network: ${network} }\n`);
  return file;
};
const send = (opts: string[], tag: string) =>
  tsjail([...opts, '--ro', work, '--', 'python3', path.join(work, 'send.py'), String(port), tag], { cwd: work });
// socket() refused as for a family the kernel lacks: EAFNOSUPPORT.
const REFUSED = 'errno 97';

t.test('control: outside, sendto reaches the UDP listener', async (t) => {
  const argv = asUser(['python3', path.join(work, 'send.py'), String(port), 'outside-1'], userEnv({ home: work }));
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  t.equal(r.stdout.trim(), 'sent');
  t.ok(await got('outside-1'), 'the datagram arrived');
});

t.test('--net host without a tcp list: UDP as the host has it (unchanged)', async (t) => {
  const r = send(['--net', 'host'], 'host-1');
  t.equal(r.stdout.trim(), 'sent', r.stderr);
  t.ok(await got('host-1'), 'the datagram arrived');
});

const noTcpRules = needsLandlock(4, 'a tcp list needs Landlock TCP rules');
t.test('a tcp list: UDP and every other inet socket but TCP are refused', { skip: noTcpRules }, async (t) => {
  const tcp = profile('tcp', '{ mode: "host", tcp: { connect: [443] } }');
  const r = send(['-p', tcp], 'tcp-1');
  t.equal(r.stdout.trim(), REFUSED, r.stderr);
  t.notOk(await got('tcp-1'), 'nothing arrived');
  const outside = asUser(['python3', path.join(work, 'others.py')], userEnv({ home: work }));
  const o = spawnSync(outside[0]!, outside.slice(1), { encoding: 'utf8' }).stdout;
  const inside = tsjail(['-p', tcp, '--ro', work, '--', 'python3', path.join(work, 'others.py')], { cwd: work });
  t.match(inside.stdout, /^tcp ok$/m, 'TCP sockets are made');
  t.match(inside.stdout, /^tcp6 ok$/m, 'also IPv6 with flags and IPPROTO_TCP');
  for (const kind of ['icmp', 'sctp']) {
    // Where the kernel offers it outside (ping_group_range, the sctp module), it is refused inside.
    if (new RegExp(`^${kind} ok$`, 'm').test(o))
      t.match(inside.stdout, new RegExp(`^${kind} ${REFUSED}$`, 'm'), `${kind}: works outside, refused inside`);
    else t.comment(`${kind} sockets are not available outside here: ${o}`);
  }
  const udp = profile('tcp-udp', '{ mode: "host", tcp: { connect: [443] }, udp: true }');
  const u = send(['-p', udp], 'tcp-udp-1');
  t.equal(u.stdout.trim(), 'sent', `udp: true lets it through ${u.stderr}`);
  t.ok(await got('tcp-udp-1'), 'the datagram arrived');
});

t.test('udp: false without a tcp list refuses UDP too', async (t) => {
  const r = send(['-p', profile('noudp', '{ mode: "host", udp: false }')], 'noudp-1');
  t.equal(r.stdout.trim(), REFUSED, r.stderr);
  t.notOk(await got('noudp-1'), 'nothing arrived');
});

t.test('udp only goes with mode "host"', async (t) => {
  const r = tsjail(['-p', profile('bad', '{ mode: "private", udp: true }'), 'true'], { cwd: work });
  t.equal(r.status, 125);
  t.match(r.stderr, /bad\.json5:1: .*udp.*only means something with mode "host"/);
});
