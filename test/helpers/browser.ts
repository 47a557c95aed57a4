/**
 * Shared parts of the browser acceptance tests: a home folder with secrets
 * the browser must not see, a page that reports by its colour whether it
 * could read them, the pixel check of a screenshot, and the pages served
 * over the network (one on the test internet, one on the host's loopback).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Test } from 'tap';
import { decodePng, countColour } from './png.js';
import { buildInternet, httpServer, privateNetworkSkip } from './internet.js';
import { IS_ROOT, makeUserDir, removeDir, writeUserFile } from './sandbox.js';

export const GREEN: [number, number, number] = [0, 192, 0];
export const RED: [number, number, number] = [255, 0, 0];
export const BLUE: [number, number, number] = [0, 0, 255];

/** Is `program` installed (on PATH)? */
export function installed(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** Files of the user that no browser profile may show, each holding "PROBE". */
export function plantSecrets(home: string): string[] {
  const secrets = ['.ssh/id_probe', '.gnupg/probe', '.config/otherapp/probe', 'notes-probe.txt'].map((p) =>
    path.join(home, p),
  );
  for (const s of secrets) writeUserFile(s, `PROBE-SECRET ${s}\n`, 0o600);
  return secrets;
}

/**
 * A page that reads `control` (a file the browser may read) and every probe
 * with synchronous XHRs while it is parsed, then paints itself: green when
 * the control was read and no probe was, red when any probe was read, blue
 * when even the control could not be read (the test itself is broken).
 */
export function probePage(control: string, probes: string[]): string {
  const urls = JSON.stringify(probes.map((p) => `file://${p}`));
  return `<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;width:100%;height:100%;background:#888}</style></head><body><script>
function read(u) { try { var x = new XMLHttpRequest(); x.open('GET', u, false); x.send(); return x.responseText || ''; } catch (e) { return ''; } }
var control = read(${JSON.stringify(`file://${control}`)}).indexOf('CONTROL') >= 0;
var leaked = ${urls}.filter(function (u) { return read(u).indexOf('PROBE') >= 0; });
document.body.style.background = !control ? '#0000ff' : leaked.length ? '#ff0000' : '#00c000';
document.title = 'control=' + control + ' leaked=' + leaked.join(',');
</script></body></html>
`;
}

/** Write the page and its control file into `dir` (which the browser may read). */
export function writeProbePage(dir: string, probes: string[]): string {
  const control = path.join(dir, 'control.txt');
  writeUserFile(control, 'CONTROL\n');
  const page = path.join(dir, 'page.html');
  writeUserFile(page, probePage(control, probes));
  return page;
}

/** The share of the screenshot's pixels in each of the three colours. */
export function shotColours(file: string): { green: number; red: number; blue: number; width: number; height: number } {
  const img = decodePng(fs.readFileSync(file));
  const all = img.width * img.height;
  return {
    green: countColour(img, GREEN) / all,
    red: countColour(img, RED) / all,
    blue: countColour(img, BLUE) / all,
    width: img.width,
    height: img.height,
  };
}

/** What a browser test loads over its network: a page on the test internet, one on the host's loopback. */
export interface NetPages {
  /**
   * http://ADDR:8080/net.html in the test internet. Its script reads
   * token.txt from its server and loads an image from the host's loopback:
   * green when the token came and the image did not, red when the image
   * came, blue when the token did not come. Its title says both.
   */
  internet: string;
  /** The token in token.txt (the title says "token=TOKEN"). */
  token: string;
  /** http://127.0.0.1:PORT/loop.html, a service of the host's loopback: red, titled "host loopback". */
  loopback: string;
}

/**
 * Why the network pages cannot be served here: the test internet needs
 * root, and network "private" pasta and a tun device the test user may
 * open (without them the browser profiles fall back to the host's network,
 * where the loopback page is reachable by design).
 */
export function netPagesSkip(): string | false {
  return privateNetworkSkip() ?? (IS_ROOT ? false : 'building the test internet needs root');
}

const RED_PAGE = 'style="margin:0;width:100%;height:100%;background:#ff0000"';

/** Serves the pages for the rest of `t` (test/helpers/internet.ts); see netPagesSkip. */
export async function serveNetPages(t: Test): Promise<NetPages> {
  const internet = buildInternet(t);
  if (typeof internet === 'string') throw new Error(internet);
  const token = crypto.randomBytes(8).toString('hex');
  const port = 30000 + (process.pid % 20000);
  const loopback = `http://127.0.0.1:${port}`;
  const net = makeUserDir('browser-net');
  const loop = makeUserDir('browser-loop');
  t.teardown(() => {
    removeDir(net);
    removeDir(loop);
  });
  writeUserFile(path.join(net, 'token.txt'), `${token}\n`);
  writeUserFile(
    path.join(net, 'net.html'),
    `<!doctype html><html><head><meta charset="utf-8"><title>not run</title>
<style>html,body{margin:0;width:100%;height:100%;background:#888}</style></head><body><script>
var x = new XMLHttpRequest(); x.open('GET', 'token.txt', false); x.send();
var got = x.status === 200 ? x.responseText.trim() : 'status ' + x.status;
function paint(reached) {
  document.body.style.background = got !== ${JSON.stringify(token)} ? '#0000ff' : reached ? '#ff0000' : '#00c000';
  document.title = 'token=' + got + ' loopback=' + (reached ? 'reached' : 'unreachable');
}
</script><img src="${loopback}/loop.svg" width="1" height="1" onload="paint(true)" onerror="paint(false)"></body></html>
`,
  );
  writeUserFile(
    path.join(loop, 'loop.html'),
    `<!doctype html><html><head><title>host loopback</title></head><body ${RED_PAGE}></body></html>\n`,
  );
  writeUserFile(
    path.join(loop, 'loop.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1" fill="red"/></svg>\n',
  );
  await httpServer(t, { dir: net, addr: internet.addr, port: 8080, netns: internet.netns, probe: 'net.html' });
  await httpServer(t, { dir: loop, addr: '127.0.0.1', port, probe: 'loop.html' });
  return { internet: `http://${internet.addr}:8080/net.html`, token, loopback: `${loopback}/loop.html` };
}
