// tsjail-pulse-filter on the wire: a stand-in server records what reaches
// it, a client sends hand-made frames of PulseAudio's native protocol. The
// escape suite (test/escape/pulseaudio.test.ts) drives the same filter with
// a real daemon and pactl; this file checks what pactl cannot send.
import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { frame, tags } from '../helpers/pulse-wire.js';
import { REPO } from '../helpers/sandbox.js';

const FILTER = path.join(REPO, 'shim-c', 'tsjail-pulse-filter');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-filter-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const cookie = Buffer.alloc(256, 0xab);
fs.writeFileSync(path.join(dir, 'cookie'), cookie);

/** Frames as they arrive on a socket. */
class Frames {
  buf = Buffer.alloc(0);
  list: { channel: number; payload: Buffer }[] = [];
  ended = false;
  waiters: (() => void)[] = [];
  constructor(s: net.Socket) {
    s.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 20 && this.buf.length >= 20 + this.buf.readUInt32BE(0)) {
        const n = this.buf.readUInt32BE(0);
        this.list.push({ channel: this.buf.readUInt32BE(4), payload: this.buf.subarray(20, 20 + n) });
        this.buf = this.buf.subarray(20 + n);
      }
      this.wake();
    });
    // A reset (the filter closed with our bytes unread) ends it like a close.
    s.on('error', () => undefined);
    s.on('close', () => ((this.ended = true), this.wake()));
  }
  wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  /** The next frame, or undefined once the connection ended. */
  async next(): Promise<{ channel: number; payload: Buffer } | undefined> {
    for (;;) {
      if (this.list.length) return this.list.shift();
      if (this.ended) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

const u32At = (b: Buffer, i: number) => b.readUInt32BE(1 + 5 * i); // the i-th tagged u32

async function startFilter(t: { name: string; teardown(fn: () => void): void }, verbose = false) {
  const server = path.join(dir, `server-${t.name.replace(/\W/g, '')}`);
  const listen = path.join(dir, `filter-${t.name.replace(/\W/g, '')}`);
  const accepted: Frames[] = [];
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => {
    sockets.push(s);
    accepted.push(new Frames(s));
  });
  await new Promise<void>((r) => srv.listen(server, r));
  const child = spawn(FILTER, [...(verbose ? ['-v'] : []), '--fd=3', listen, server, path.join(dir, 'cookie')], {
    stdio: ['ignore', 'ignore', verbose ? 'pipe' : 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const life = child.stdio[3] as net.Socket;
  await new Promise<void>((r) => life.once('data', () => r()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.teardown(() => {
    child.kill('SIGKILL');
    srv.close();
  });
  const client = net.connect(listen);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const fromFilter = new Frames(client);
  const end = Date.now() + 10_000;
  while (accepted.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return {
    client,
    fromFilter,
    toServer: accepted[0]!,
    serverSock: sockets[0]!,
    life,
    exited,
    pid: child.pid!,
    listen,
    accepted,
    stderr: () => stderr,
  };
}

const AUTH = 8;
const auth = (tag: number) => frame(tags(AUTH, tag, 35 | 0x80000000 | 0x40000000, Buffer.alloc(256)));

t.test('AUTH: shared memory and memfd off both ways, the real cookie', async (t) => {
  const f = await startFilter(t);
  f.client.write(auth(0));
  const got = (await f.toServer.next())!;
  t.equal(u32At(got.payload, 0), AUTH);
  t.equal(u32At(got.payload, 2), 35, 'the server sees version 35 without the shm and memfd flags');
  t.same(got.payload.subarray(20), cookie, "the server gets the filter's cookie, not the client's");
  f.serverSock.write(frame(tags(2, 0, 35 | 0x80000000)));
  const reply = (await f.fromFilter.next())!;
  t.equal(u32At(reply.payload, 2), 35, 'the client sees no shm flag in the reply');
});

t.test('the filter confines itself before it takes connections', async (t) => {
  const f = await startFilter(t, true);
  const status = fs.readFileSync(`/proc/${f.pid}/status`, 'utf8');
  t.match(status, /^NoNewPrivs:\s+1$/m, 'no_new_privs');
  t.match(status, /^Seccomp:\s+2$/m, 'a seccomp filter (mode 2), loaded by the filter itself');
  // It still does its work under the allowlist: authentication, a refusal
  // with its message on stderr (write), a query relayed both ways.
  f.client.write(auth(0));
  t.equal(u32At((await f.toServer.next())!.payload, 0), AUTH, 'AUTH relayed');
  f.client.write(frame(tags(51, 1, 'module-ladspa-sink', 'plugin=/x.so')));
  t.equal(u32At((await f.fromFilter.next())!.payload, 0), 0, 'LOAD_MODULE refused');
  f.client.write(frame(tags(20, 2)));
  t.equal(u32At((await f.toServer.next())!.payload, 0), 20, 'GET_SERVER_INFO relayed');
  f.serverSock.write(frame(tags(2, 2, 'pulseaudio')));
  t.equal(u32At((await f.fromFilter.next())!.payload, 1), 2, 'its reply relayed');
  // A second client: accept4, then socket and connect to the server anew.
  const second = net.connect(f.listen);
  t.teardown(() => second.destroy());
  second.write(auth(0));
  const end = Date.now() + 10_000;
  while (f.accepted.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(u32At((await f.accepted[1]!.next())!.payload, 0), AUTH, "a second client's AUTH relayed");
  t.match(f.stderr(), /refused command 51/, 'its message reached stderr');
  f.life.destroy();
  t.equal(await f.exited, 0, 'and it exits as it should, not killed by its own filter');
});

t.test('refused commands are answered with PA_ERR_ACCESS and never reach the server', async (t) => {
  const f = await startFilter(t);
  f.client.write(auth(0));
  await f.toServer.next();
  for (const [tag, cmd] of [
    [1, 51], // LOAD_MODULE
    [2, 52], // UNLOAD_MODULE
    [3, 7], // EXIT
    [4, 15], // CREATE_UPLOAD_STREAM
    [5, 44], // SET_DEFAULT_SINK
    [6, 87], // EXTENSION
    [7, 104], // SEND_OBJECT_MESSAGE
    [8, 200], // beyond the protocol's commands
  ]) {
    f.client.write(frame(tags(cmd!, tag!, 'anything')));
    const r = (await f.fromFilter.next())!;
    t.same(
      [u32At(r.payload, 0), u32At(r.payload, 1), u32At(r.payload, 2)],
      [0, tag, 1],
      `command ${cmd}: ERROR, ACCESS`,
    );
  }
  // A query passes: it is the next thing the server sees.
  f.client.write(frame(tags(20, 9)));
  t.equal(u32At((await f.toServer.next())!.payload, 0), 20, 'GET_SERVER_INFO reaches the server, nothing before it');
});

t.test('filter.* properties are refused, filter.want=echo-cancel passes', async (t) => {
  const f = await startFilter(t);
  f.client.write(auth(0));
  await f.toServer.next();
  const create = (tag: number, props: [string, string][]) => frame(tags(3, tag, 'sink', { props }, 0, 0, 0));
  f.client.write(
    create(1, [
      ['filter.apply', 'ladspa-sink'],
      ['filter.apply.ladspa-sink.parameters', 'plugin=/x.so'],
    ]),
  );
  t.same(u32At((await f.fromFilter.next())!.payload, 0), 0, 'filter.apply: ERROR');
  f.client.write(create(2, [['filter.want', 'ladspa-sink']]));
  t.same(u32At((await f.fromFilter.next())!.payload, 0), 0, 'filter.want=ladspa-sink: ERROR');
  f.client.write(
    create(3, [
      ['media.role', 'phone'],
      ['filter.want', 'echo-cancel'],
    ]),
  );
  const fwd = (await f.toServer.next())!;
  t.same([u32At(fwd.payload, 0), u32At(fwd.payload, 1)], [3, 3], 'filter.want=echo-cancel reaches the server');
});

t.test('the volume of its own streams only', async (t) => {
  const f = await startFilter(t);
  f.client.write(auth(0));
  await f.toServer.next();
  const volume = (tag: number, idx: number) =>
    frame(Buffer.concat([tags(37, tag, idx), Buffer.from([0x76, 1, 0, 1, 0, 0])]));
  f.client.write(volume(1, 7));
  t.same(u32At((await f.fromFilter.next())!.payload, 0), 0, 'sink input 7 is not its own: ERROR');
  f.client.write(frame(tags(3, 2, 'sink', { props: [] })));
  await f.toServer.next();
  f.serverSock.write(frame(tags(2, 2, 0, 7, 4096)));
  await f.fromFilter.next();
  f.client.write(volume(3, 7));
  t.same(u32At((await f.toServer.next())!.payload, 0), 37, 'after the server created sink input 7 for it: forwarded');
  f.client.write(volume(4, 8));
  t.same(u32At((await f.fromFilter.next())!.payload, 0), 0, 'sink input 8: still refused');
});

for (const [what, bytes] of [
  ['a shared-memory frame', () => frame(Buffer.alloc(16), 0, 0x80000000)],
  ['a reused tag', () => frame(tags(20, 0))],
  ['audio before AUTH', null],
  ['a malformed property list', () => frame(Buffer.concat([tags(3, 5, 'sink'), Buffer.from('Pt')]))],
] as const) {
  t.test(`${what} ends the connection`, async (t) => {
    const f = await startFilter(t);
    if (bytes) {
      f.client.write(auth(0));
      await f.toServer.next();
      f.client.write(bytes());
    } else f.client.write(frame(Buffer.alloc(64), 0));
    t.equal(await f.fromFilter.next(), undefined, 'the client is disconnected');
    t.equal(await f.toServer.next(), undefined, 'and so is the server, which saw nothing of it');
  });
}

t.test('the filter exits when its lifeline closes', async (t) => {
  const f = await startFilter(t);
  f.life.destroy();
  t.equal(await f.exited, 0, 'exit status 0');
  t.equal(await f.fromFilter.next(), undefined, 'its client connection is closed');
});
