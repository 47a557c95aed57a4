// Issue 12, the profile library's office, drawing and build tools run
// headless: LibreOffice converting a document, Inkscape exporting a
// drawing and saving one named on its command line (filesystem.args "rw"),
// a viewer's file named on its command line kept read-only (evince's
// profile, filesystem.args "ro"), calibre converting a text to an e-book, KeePassXC's command line
// creating a database, make under the dev profile building and running a program;
// each found by name (dev by -p) and showing one denial. Beside
// apps-cli.test.ts so that tap runs the two files side by side. The harness
// is test/helpers/apps.ts.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { mkUserDir, writeUserFile, type AsyncRunResult } from '../helpers/sandbox.js';
import { decodePng } from '../helpers/png.js';
import { greenPdf } from '../helpers/media.js';
import {
  file,
  inHome,
  read,
  refused,
  runAppCases,
  secretsIntact,
  type AppCase,
  type AppContext,
} from '../helpers/apps.js';

const RED_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#ff0000"/></svg>\n';

/** Reads the file named by its argument, tries to append to it, and looks beside it. */
const VIEWER_PROBE = `
import os, sys
p = sys.argv[1]
print("read", open(p, "rb").read(5).decode())
try:
    open(p, "ab").write(b"x")
    print("wrote")
except OSError as e:
    print("write:", e.__class__.__name__, e.errno)
print("beside:", os.path.exists(os.path.join(os.path.dirname(p), "beside.txt")))
`;

/** tsjail refused the launch (125) naming the secret argument, before the program ran. */
function secretArgRefused(t: Test, r: AsyncRunResult, c: AppContext): void {
  t.equal(r.status, 125, 'tsjail refused to start it (125)');
  t.match(r.stderr, /filesystem\.args .*inside the secret path/, 'naming the argument and the secret path');
  secretsIntact(t, c);
}

const cases: AppCase[] = [
  {
    profile: 'libreoffice',
    program: 'libreoffice',
    pkg: 'libreoffice-writer-nogui',
    job: 'converts a text document to PDF headless',
    setup: (c) => writeUserFile(file(c, 'letter.txt'), 'Dear reader,\n\nthis became a PDF.\n'),
    run: {
      args: () => ['libreoffice', '--headless', '--convert-to', 'pdf', '--outdir', '.', 'letter.txt'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'libreoffice exited 0');
        t.match(read(c, 'letter.pdf')?.slice(0, 5) ?? '', '%PDF-', 'letter.pdf is a PDF');
      },
      timeout: 120_000,
    },
    // A file named on its command line is shown (filesystem.args), but
    // never one of the secret paths.
    denies: 'cannot convert an SSH key named on its command line',
    denial: {
      args: (c) => ['libreoffice', '--headless', '--convert-to', 'pdf', '--outdir', '.', c.secret],
      check: (t, r, c) => {
        secretArgRefused(t, r, c);
        t.notOk(fs.existsSync(file(c, 'id_probe.pdf')), 'no PDF of it was written');
      },
      timeout: 120_000,
    },
  },
  {
    profile: 'inkscape',
    program: 'inkscape',
    pkg: 'inkscape',
    job: 'exports a drawing to PNG headless',
    setup: (c) => writeUserFile(file(c, 'drawing.svg'), RED_SVG),
    run: {
      args: () => ['inkscape', '--export-type=png', '--export-filename=out.png', 'drawing.svg'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'inkscape exited 0');
        const img = decodePng(fs.readFileSync(file(c, 'out.png')));
        t.equal(`${img.width}x${img.height}`, '40x30', 'a 40x30 PNG');
        t.same(img.pixel(20, 15), [255, 0, 0], 'red, as drawn');
      },
      timeout: 120_000,
    },
    denies: 'cannot open an SSH key named on its command line',
    denial: {
      args: (c) => ['inkscape', '--export-type=png', '--export-filename=stolen.png', c.secret],
      check: (t, r, c) => {
        secretArgRefused(t, r, c);
        t.notOk(fs.existsSync(file(c, 'stolen.png')), 'nothing exported');
      },
      timeout: 120_000,
    },
  },
  {
    // filesystem.args "rw" (an editor): the file named is shown writable,
    // alone, in a folder the profile does not grant.
    profile: 'inkscape',
    program: 'inkscape',
    pkg: 'inkscape',
    job: 'saves a drawing named on its command line, outside the folders it is granted',
    setup: (c) => {
      writeUserFile(inHome(c, 'elsewhere', 'drawing.svg'), RED_SVG);
      writeUserFile(inHome(c, 'elsewhere', 'beside.txt'), 'PROBE-SECRET beside the drawing\n');
    },
    run: {
      args: (c) => ['inkscape', '--export-overwrite', '--export-type=svg', inHome(c, 'elsewhere', 'drawing.svg')],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'inkscape exited 0');
        const saved = fs.readFileSync(inHome(c, 'elsewhere', 'drawing.svg'), 'utf8');
        t.match(saved, /xmlns:inkscape=/, 'the drawing was saved over itself, as an Inkscape SVG');
        t.match(saved, /fill="#ff0000"/, 'with its red rectangle');
      },
      timeout: 120_000,
    },
    denies: 'a file beside it, not named, stays out of sight',
    denial: {
      // The drawing is named (and shown); the other file only inside a script.
      args: (c) => [
        '-p',
        'inkscape',
        '/bin/sh',
        '-c',
        `cat "$(dirname "$1")/beside.txt"`,
        'sh',
        inHome(c, 'elsewhere', 'drawing.svg'),
      ],
      check: (t, r, c) => refused(t, r, c, /No such file or directory/),
    },
  },
  {
    // filesystem.args "ro" (a viewer): the file named is shown read-only,
    // alone. Evince itself shows it (apps-gui-docs.test.ts); here a probe
    // under its profile, given the same argument, tries to change it.
    profile: 'evince',
    program: 'evince',
    pkg: 'evince',
    job: 'a PDF named on its command line is readable, never writable',
    setup: (c) => {
      writeUserFile(inHome(c, 'elsewhere', 'paper.pdf'), greenPdf());
      writeUserFile(inHome(c, 'elsewhere', 'beside.txt'), 'PROBE-SECRET beside the paper\n');
    },
    run: {
      args: (c) => ['-p', 'evince', '/usr/bin/python3', '-c', VIEWER_PROBE, inHome(c, 'elsewhere', 'paper.pdf')],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'the probe ran');
        t.match(r.stdout, /^read %PDF-$/m, 'the PDF is readable at its own path');
        t.match(r.stdout, /^write: OSError 30$/m, 'writing it fails: a read-only file system (EROFS)');
        t.match(r.stdout, /^beside: False$/m, 'nothing beside it is shown');
        t.match(fs.readFileSync(inHome(c, 'elsewhere', 'paper.pdf'), 'latin1'), /%%EOF\n$/, 'the PDF is unchanged');
      },
    },
    denies: 'cannot be given an SSH key',
    denial: {
      args: (c) => ['evince', c.secret],
      check: (t, r, c) => secretArgRefused(t, r, c),
    },
  },
  {
    profile: 'calibre',
    program: 'ebook-convert',
    pkg: 'calibre',
    job: 'converts a text of the Documents folder to an EPUB in its library',
    setup: (c) => {
      writeUserFile(inHome(c, 'Documents', 'story.txt'), 'Once upon a time, in a sandbox.\n');
      mkUserDir(inHome(c, 'Calibre Library'));
    },
    run: {
      args: (c) => ['ebook-convert', inHome(c, 'Documents', 'story.txt'), inHome(c, 'Calibre Library', 'story.epub')],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'ebook-convert exited 0');
        const epub = inHome(c, 'Calibre Library', 'story.epub');
        // A zip whose first entry, stored, is "mimetype" holding the EPUB type.
        const head = fs.existsSync(epub) ? fs.readFileSync(epub).subarray(0, 58) : Buffer.alloc(0);
        t.equal(head.subarray(0, 4).toString('hex'), '504b0304', 'story.epub is a zip');
        t.match(head.toString('latin1'), /mimetypeapplication\/epub\+zip/, 'its first entry says EPUB');
      },
      timeout: 180_000,
    },
    denies: 'cannot convert a file of the home folder',
    denial: {
      args: (c) => ['ebook-convert', c.secrets[3]!, inHome(c, 'Calibre Library', 'stolen.epub')],
      check: (t, r, c) => {
        refused(t, r, c);
        t.notOk(fs.existsSync(inHome(c, 'Calibre Library', 'stolen.epub')), 'no EPUB of it was written');
      },
      timeout: 180_000,
    },
  },
  {
    profile: 'keepassxc',
    program: 'keepassxc-cli',
    pkg: 'keepassxc',
    job: 'creates a database with a new key file in the Documents folder',
    setup: (c) => mkUserDir(inHome(c, 'Documents')),
    run: {
      args: (c) => [
        'keepassxc-cli',
        'db-create',
        '--set-key-file',
        inHome(c, 'Documents', 'vault.key'),
        inHome(c, 'Documents', 'vault.kdbx'),
      ],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'keepassxc-cli exited 0');
        const db = inHome(c, 'Documents', 'vault.kdbx');
        const head = fs.existsSync(db) ? fs.readFileSync(db).subarray(0, 8).toString('hex') : '';
        t.equal(head, '03d9a29a67fb4bb5', 'vault.kdbx starts with the KeePass 2 signature');
        t.ok(fs.existsSync(inHome(c, 'Documents', 'vault.key')), 'its key file was written beside it');
      },
    },
    denies: 'cannot use a file of ~/.ssh as a key file',
    denial: {
      args: (c) => ['keepassxc-cli', 'db-create', '--set-key-file', c.secret, inHome(c, 'Documents', 'stolen.kdbx')],
      check: (t, r, c) => {
        refused(t, r, c);
        t.notOk(fs.existsSync(inHome(c, 'Documents', 'stolen.kdbx')), 'no database was made with it');
      },
    },
  },
  {
    profile: 'dev',
    program: 'make',
    pkg: 'make',
    job: 'builds a program in the current directory and runs it',
    setup: (c) =>
      writeUserFile(
        file(c, 'Makefile'),
        "out.txt:\n\tprintf '#!/bin/sh\\necho built and ran\\n' > tool\n\tchmod +x tool\n\t./tool > out.txt\n",
      ),
    run: {
      args: () => ['-p', 'dev', 'make', '-s'],
      check: (t, r, c) => {
        t.equal(r.status, 0, 'make exited 0');
        t.equal(read(c, 'out.txt'), 'built and ran\n', 'the program it built ran from the project directory');
      },
    },
    denies: 'a build reads no file of the home folder',
    denial: {
      args: (c) => ['-p', 'dev', 'make', '-s', '-f', c.secret],
      check: (t, r, c) => refused(t, r, c, /No such file or directory/),
    },
  },
];

await runAppCases(t, cases);
