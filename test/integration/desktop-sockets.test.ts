// Issue 5, sockets: each `sockets` entry shows exactly its own socket in a
// private XDG_RUNTIME_DIR, reachable from inside, with the variable that
// names it; other sockets of the host's runtime directory (another Wayland
// display, the session bus, a PipeWire socket not asked for) stay invisible.
// Stand-in servers answer with their own name.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { asUser, inSandbox, makeUserDir, mkUserDir, removeDir, userEnv, writeUserFile } from '../helpers/sandbox.js';

const home = makeUserDir('sockets');
const runtime = path.join(home, 'run');
mkUserDir(runtime, 0o700);
mkUserDir(path.join(runtime, 'pulse'));
writeUserFile(path.join(home, '.config', 'pulse', 'cookie'), 'C'.repeat(256), 0o600);
const NAMES = ['wayland-1', 'wayland-2', 'pipewire-0', 'bus', 'pulse/native'];
// The stand-in servers run in their own process, as the test user: the
// sandboxes below are run synchronously, which would stall servers of ours.
const SERVE = `
import os, socket, sys, threading
def serve(name, s):
    while True:
        c, _ = s.accept(); c.sendall(('hello-' + name + '\\n').encode()); c.close()
# Every socket listens before "ready" (a thread binding late raced the test's check).
for n in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX); s.bind(os.path.join(sys.argv[1], n)); s.listen(8)
    threading.Thread(target=serve, args=(n, s), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
`;
writeUserFile(path.join(home, 'serve.py'), SERVE);
const serveArgv = asUser(['/usr/bin/python3', path.join(home, 'serve.py'), runtime, ...NAMES], userEnv({ home }));
const server: ChildProcess = spawn(serveArgv[0]!, serveArgv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
t.teardown(() => {
  server.kill('SIGKILL');
  removeDir(home);
});

t.before(async () => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stand-in servers did not start')), 10_000);
    server.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  for (const name of NAMES) if (!fs.existsSync(path.join(runtime, name))) throw new Error(`no socket ${name}`);
});

const CONNECT = `
import socket, sys
for p in sys.argv[1:]:
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(p); print(p, s.recv(100).decode().strip())
    except OSError as e:
        print(p, 'ERR', e.strerror)
`;

const tools = path.join(home, 'tools');
writeUserFile(path.join(tools, 'connect.py'), CONNECT);
const connect = `python3 ${tools}/connect.py`;

t.test('wayland and pulseaudio: only their sockets, reachable, with their variables', async (t) => {
  const profile = path.join(home, 'p.json5');
  writeUserFile(profile, '{ include: ["wayland", "pulseaudio"], filesystem: { tmpfs: ["${HOME}"] } }\n');
  const r = inSandbox(
    `echo "W=$WAYLAND_DISPLAY P=$PULSE_SERVER C=$PULSE_COOKIE D=[$DBUS_SESSION_BUS_ADDRESS]"; cd "$XDG_RUNTIME_DIR" && find . | sort; ` +
      `${connect} "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" "\${PULSE_SERVER#unix:}" ${runtime}/wayland-2 ${runtime}/bus; wc -c < "$PULSE_COOKIE"; tr -d '\\000' < "$PULSE_COOKIE" | wc -c`,
    ['-p', profile, '--ro', tools],
    { home, env: { XDG_RUNTIME_DIR: runtime, WAYLAND_DISPLAY: 'wayland-1' } },
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, `W=wayland-1 P=unix:${runtime}/pulse/native C=${runtime}/pulse/cookie D=[]`);
  const listing = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('.'))
    .sort();
  t.same(
    listing,
    ['.', './pulse', './pulse/client.conf', './pulse/cookie', './pulse/native', './wayland-1'],
    'only what was asked for',
  );
  t.match(r.stdout, `${runtime}/wayland-1 hello-wayland-1`, 'the Wayland socket answers');
  // The sound server is tsjail-pulse-filter's socket: it connects (and then
  // ends the connection, as the stand-in does not speak PulseAudio's protocol).
  t.match(r.stdout, new RegExp(`^${runtime}/pulse/native`, 'm'), 'the PulseAudio socket is there');
  t.notMatch(r.stdout, `${runtime}/pulse/native ERR`, 'and accepts a connection');
  t.notMatch(r.stdout, 'hello-pulse/native', 'which is not the raw server socket');
  t.match(r.stdout, new RegExp(`${runtime}/wayland-2 ERR No such file`), 'another display is not there');
  t.match(r.stdout, new RegExp(`${runtime}/bus ERR No such file`), 'the session bus is not there');
  t.match(r.stdout, /^256\n0$/m, 'the cookie is a placeholder of 256 zero bytes: only the filter has the real one');
});

// PipeWire's own socket gives a client the whole graph of the server
// (every application's sound, screen-cast video): the pipewire snippet gets
// PipeWire's PulseAudio server (pipewire-pulse) through tsjail-pulse-filter
// instead. The control: the same client outside reaches pipewire-0.
t.test('pipewire: never its own socket, sound through the pulse filter', async (t) => {
  const outside = asUser(['python3', `${tools}/connect.py`, `${runtime}/pipewire-0`], userEnv({ home }));
  const control = spawnSync(outside[0]!, outside.slice(1), { encoding: 'utf8' });
  t.match(control.stdout, 'hello-pipewire-0', 'outside, a client reaches the PipeWire socket');
  const profile = path.join(home, 'pw.json5');
  writeUserFile(profile, '{ include: ["pipewire"], filesystem: { tmpfs: ["${HOME}"] } }\n');
  const r = inSandbox(
    `echo "P=$PULSE_SERVER"; cd "$XDG_RUNTIME_DIR" && find . | sort; ${connect} "$XDG_RUNTIME_DIR/pipewire-0" ${runtime}/pipewire-0 "\${PULSE_SERVER#unix:}"`,
    ['-v', '-p', profile, '--ro', tools],
    { home, env: { XDG_RUNTIME_DIR: runtime } },
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, `P=unix:${runtime}/pulse/native`);
  const listing = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('.'))
    .sort();
  t.same(listing, ['.', './pulse', './pulse/client.conf', './pulse/cookie', './pulse/native'], 'no pipewire-0');
  t.match(r.stdout, new RegExp(`${runtime}/pipewire-0 ERR No such file`), 'the PipeWire socket is not there');
  t.notMatch(r.stdout, 'hello-pipewire-0', 'and never answers');
  t.notMatch(r.stdout, `${runtime}/pulse/native ERR`, 'the filtered PulseAudio socket accepts a connection');
  t.notMatch(r.stdout, 'hello-pulse/native', 'which is not the raw server socket');
  t.match(r.stderr, /pipewire .*PipeWire's own socket is not handed over/, '-v says why');
});

t.test('no sockets: no runtime directory at all', async (t) => {
  const r = inSandbox(`echo "R=[$XDG_RUNTIME_DIR]"; ls -A ${runtime} 2>&1`, ['-p', 'default'], {
    home,
    env: { XDG_RUNTIME_DIR: runtime },
  });
  t.match(r.stdout, 'R=[]');
  t.match(r.stdout, /No such file or directory/);
});
