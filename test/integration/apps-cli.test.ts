// Issue 12, the command-line half of the profile library: each tool started
// by name (`tsjail wget ...`: the profile found by its `command`), doing its
// job in the directory it was started from, and showing its profile's
// denial: a file of the home folder it was not given, or the network where
// the profile grants none (a loopback server of the test that must see no
// request). The harness is test/helpers/apps.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asUser, userEnv, writeUserFile } from '../helpers/sandbox.js';
import { decodePng } from '../helpers/png.js';
import { tone } from '../helpers/pulse.js';
import {
  file,
  read,
  refused,
  runAppCases,
  secretsIntact,
  serve,
  type AppCase,
  type AppContext,
} from '../helpers/apps.js';
import type { AsyncRunResult } from '../helpers/sandbox.js';
import type { Test } from 'tap';

const HELLO = 'hello from the loopback server\n';
const CLIP = Buffer.from('not really a video, but served as one\n'.repeat(50));
const server = await serve(t, { 'hello.txt': HELLO, 'clip.mp4': CLIP });

/** Runs `cmd` as the test user outside any sandbox, in `cwd`; throws when it fails. */
function outside(c: AppContext, cmd: string[], cwd = c.work): string {
  const argv = asUser(cmd, userEnv({ home: c.home }));
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed outside: ${r.stderr}`);
  return r.stdout;
}

/** The loopback server saw no request for `name`: the sandbox had no network. */
function noRequest(t: Test, name: string): void {
  t.notOk(server.hits.includes(name), `the loopback server saw no request for /${name}`);
}

/** What a probe script (below) printed: the secret was not there, the server out of reach. */
function probeSaid(t: Test, r: AsyncRunResult, c: AppContext, probe: string, secret: RegExp, network: RegExp): void {
  t.match(r.stdout, secret, 'the secret is not there');
  t.match(r.stdout, network, 'the server is out of reach');
  t.notMatch(r.stdout, /^connected$/m, 'no connection was made');
  noRequest(t, probe);
  secretsIntact(t, c);
}

/** A 16x8 binary PPM, all red. */
function redPpm(): Buffer {
  const head = Buffer.from('P6\n16 8\n255\n');
  const px = Buffer.alloc(16 * 8 * 3);
  for (let i = 0; i < 16 * 8; i++) px[3 * i] = 255;
  return Buffer.concat([head, px]);
}

/** A script (Python or JavaScript) that tries the secret and the loopback server, and says what happened. */
const PY_PROBE = (c: AppContext, url: string) => `
import socket, urllib.parse
try:
    print("read", open(${JSON.stringify(c.secret)}).read())
except OSError as e:
    print("secret:", e.__class__.__name__)
u = urllib.parse.urlsplit(${JSON.stringify(url)})
try:
    socket.create_connection((u.hostname, u.port), timeout=5).sendall(b"GET /python3-probe HTTP/1.0\\r\\n\\r\\n")
    print("connected")
except OSError as e:
    print("network:", e.__class__.__name__)
`;
const JS_PROBE = (c: AppContext, url: string) => `
const fs = require('fs'), net = require('net');
try { console.log('read', fs.readFileSync(${JSON.stringify(c.secret)}, 'utf8')); } catch (e) { console.log('secret:', e.code); }
const u = new URL(${JSON.stringify(url)});
const s = net.connect(Number(u.port), u.hostname, () => { s.end('GET /node-probe HTTP/1.0\\r\\n\\r\\n'); console.log('connected'); });
s.on('error', (e) => { console.log('network:', e.code); process.exitCode = 3; });
`;

const cases: AppCase[] = [
  {
    profile: 'wget',
    program: 'wget',
    pkg: 'wget',
    job: 'downloads a file from a loopback server into the current directory',
    run: {
      args: () => ['wget', '-q', '-O', 'got.txt', `${server.url}/hello.txt`],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'wget exited 0');
        t.equal(read(c, 'got.txt'), HELLO, 'the file arrived in the current directory');
      },
    },
    denies: 'cannot upload a file of ~/.ssh',
    denial: {
      args: (c) => ['wget', '-O', 'reply.txt', `--post-file=${c.secret}`, `${server.url}/wget-upload`],
      check: (t, r, c) => {
        refused(t, r, c, /No such file or directory/);
        noRequest(t, 'wget-upload');
      },
    },
  },
  {
    profile: 'curl',
    program: 'curl',
    pkg: 'curl',
    job: 'downloads a file from a loopback server into the current directory',
    run: {
      args: () => ['curl', '-sSf', '-o', 'got.txt', `${server.url}/hello.txt`],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'curl exited 0');
        t.equal(read(c, 'got.txt'), HELLO, 'the file arrived in the current directory');
      },
    },
    denies: 'cannot read ~/.ssh through file://',
    denial: {
      args: (c) => ['curl', '-sS', `file://${c.secret}`],
      check: (t, r, c) => refused(t, r, c, /Couldn't open file|Could not open file/),
    },
  },
  {
    profile: 'yt-dlp',
    program: 'yt-dlp',
    pkg: 'yt-dlp',
    job: 'downloads a video from a loopback server into the current directory',
    run: {
      args: () => ['yt-dlp', '--no-progress', '--ignore-config', '-o', 'got.%(ext)s', `${server.url}/clip.mp4`],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'yt-dlp exited 0');
        const got = fs.existsSync(file(c, 'got.mp4')) ? fs.readFileSync(file(c, 'got.mp4')) : undefined;
        t.ok(got?.equals(CLIP), 'the video arrived in the current directory');
      },
    },
    denies: 'cannot read a batch file from ~/.ssh',
    denial: {
      args: (c) => ['yt-dlp', '--ignore-config', '--batch-file', c.secret],
      check: (t, r, c) => refused(t, r, c, /could not be read|No such file or directory/),
    },
  },
  {
    profile: 'git',
    program: 'git',
    pkg: 'git',
    job: 'clones a local repository',
    setup: (c) => {
      const src = file(c, 'src');
      const g = ['git', '-c', 'user.name=T', '-c', 'user.email=t@example.org'];
      outside(c, ['git', 'init', '-q', 'src']);
      writeUserFile(path.join(src, 'README'), 'first line\n');
      outside(c, [...g, '-C', 'src', 'add', 'README']);
      outside(c, [...g, '-C', 'src', 'commit', '-q', '-m', 'first']);
    },
    run: {
      args: () => ['git', 'clone', '-q', 'src', 'dst'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'git clone exited 0');
        t.equal(read(c, 'dst/README'), 'first line\n', 'the clone has the file');
        t.equal(outside(c, ['git', '-C', 'dst', 'log', '--format=%s']).trim(), 'first', 'and the history');
      },
    },
    denies: 'cannot read a file of the home folder',
    denial: {
      args: (c) => ['git', 'hash-object', c.secrets[3]!],
      check: (t, r, c) => refused(t, r, c, /could not open|No such file/),
    },
  },
  {
    profile: 'ffmpeg',
    program: 'ffmpeg',
    pkg: 'ffmpeg',
    job: 'transcodes a generated sound and a test picture into Matroska',
    setup: (c) => writeUserFile(file(c, 'in.wav'), tone()),
    run: {
      args: () => [
        'ffmpeg',
        '-nostdin',
        '-v',
        'error',
        '-i',
        'in.wav',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=64x48:rate=5:duration=1',
        '-shortest',
        '-c:v',
        'mpeg4',
        '-c:a',
        'flac',
        'out.mkv',
      ],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'ffmpeg exited 0');
        const out = fs.existsSync(file(c, 'out.mkv')) ? fs.readFileSync(file(c, 'out.mkv')) : Buffer.alloc(0);
        t.ok(out.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])), 'out.mkv is a Matroska file');
        const probe = outside(c, [
          'ffprobe',
          '-v',
          'error',
          '-show_entries',
          'stream=codec_name',
          '-of',
          'csv=p=0',
          'out.mkv',
        ]);
        t.same(probe.trim().split('\n').sort(), ['flac', 'mpeg4'], 'with a FLAC and an MPEG-4 stream');
      },
    },
    denies: 'no network: a stream from the loopback server is not fetched',
    denial: {
      args: () => ['ffmpeg', '-nostdin', '-v', 'error', '-i', `${server.url}/ffmpeg-probe.mp4`, '-f', 'null', '-'],
      check: (t, r, c) => {
        refused(t, r, c);
        noRequest(t, 'ffmpeg-probe.mp4');
      },
    },
  },
  {
    profile: 'convert',
    program: 'convert',
    pkg: 'imagemagick',
    job: 'converts a PPM picture to a PNG twice its size',
    setup: (c) => writeUserFile(file(c, 'in.ppm'), redPpm()),
    run: {
      args: () => ['convert', 'in.ppm', '-scale', '200%', 'PNG24:out.png'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'convert exited 0');
        const img = decodePng(fs.readFileSync(file(c, 'out.png')));
        t.equal(`${img.width}x${img.height}`, '32x16', 'a 32x16 PNG');
        t.same(img.pixel(31, 15), [255, 0, 0], 'still red');
      },
    },
    denies: 'cannot open a file of the home folder',
    denial: {
      args: (c) => ['convert', c.secrets[3]!, 'stolen.png'],
      check: (t, r, c) => {
        refused(t, r, c, /No such file or directory/);
        t.notOk(fs.existsSync(file(c, 'stolen.png')), 'nothing written');
      },
    },
  },
  {
    profile: 'pandoc',
    program: 'pandoc',
    pkg: 'pandoc',
    job: 'converts Markdown to a standalone HTML page',
    setup: (c) => writeUserFile(file(c, 'in.md'), '# A title\n\nSome *text*.\n'),
    run: {
      args: () => ['pandoc', '-s', '--metadata', 'title=T', '-o', 'out.html', 'in.md'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'pandoc exited 0');
        t.match(read(c, 'out.html') ?? '', /<h1 id="a-title">A title<\/h1>[\s\S]*<em>text<\/em>/, 'the page');
      },
    },
    denies: 'cannot include a file of the home folder into the page',
    denial: {
      args: (c) => ['pandoc', `--include-in-header=${c.secrets[3]!}`, '-o', 'stolen.html', 'in.md'],
      check: (t, r, c) => refused(t, r, c, /does not exist|No such file/),
    },
  },
  {
    profile: 'python3',
    program: 'python3',
    pkg: 'python3',
    job: 'runs a script of the current directory that writes its result there',
    setup: (c) => {
      writeUserFile(file(c, 'job.py'), 'open("out.txt", "w").write(str(sum(range(101))) + "\\n")\n');
      writeUserFile(file(c, 'probe.py'), PY_PROBE(c, server.url));
    },
    run: {
      args: () => ['python3', 'job.py'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'python3 exited 0');
        t.equal(read(c, 'out.txt'), '5050\n', 'its output file');
      },
    },
    denies: 'a script reads no file of the home folder and reaches no network',
    denial: {
      args: () => ['python3', 'probe.py'],
      check: (t, r, c) =>
        probeSaid(
          t,
          r,
          c,
          'python3-probe',
          /^secret: FileNotFoundError$/m,
          /^network: (ConnectionRefusedError|PermissionError|OSError)/m,
        ),
    },
  },
  {
    profile: 'node',
    program: 'node',
    pkg: 'nodejs',
    job: 'runs a script of the current directory that writes its result there',
    setup: (c) => {
      writeUserFile(
        file(c, 'job.js'),
        'require("fs").writeFileSync("out.txt", [1, 2, 3].map((x) => x * x).join(",") + "\\n");\n',
      );
      writeUserFile(file(c, 'probe.js'), JS_PROBE(c, server.url));
    },
    run: {
      args: () => ['node', 'job.js'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'node exited 0');
        t.equal(read(c, 'out.txt'), '1,4,9\n', 'its output file');
      },
    },
    denies: 'a script reads no file of the home folder and reaches no network',
    denial: {
      args: () => ['node', 'probe.js'],
      check: (t, r, c) =>
        probeSaid(t, r, c, 'node-probe', /^secret: ENOENT$/m, /^network: (ECONNREFUSED|ENETUNREACH|EAFNOSUPPORT)$/m),
    },
  },
  {
    profile: 'vim',
    program: 'vim',
    pkg: 'vim',
    job: 'edits a file of the current directory in Ex mode',
    setup: (c) => writeUserFile(file(c, 'notes.txt'), 'hello foo\n'),
    run: {
      args: () => ['vim', '-Es', '-c', '%s/foo/bar/', '-c', 'wq', 'notes.txt'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'vim exited 0');
        t.equal(read(c, 'notes.txt'), 'hello bar\n', 'the file was changed');
      },
    },
    denies: 'cannot read a file of the home folder into a buffer',
    denial: {
      args: (c) => ['vim', '-Es', '-c', `r ${c.secrets[3]!}`, '-c', 'w! stolen.txt', '-c', 'qa!'],
      check: (t, _r, c) => {
        t.notMatch(read(c, 'stolen.txt') ?? '', /PROBE-SECRET/, 'nothing of the file reached the buffer');
        secretsIntact(t, c);
      },
    },
  },
];

await runAppCases(t, cases, { url: server.url });
