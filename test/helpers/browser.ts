/**
 * Shared parts of the browser acceptance tests: a home folder with secrets
 * the browser must not see, a page that reports by its colour whether it
 * could read them, and the pixel check of a screenshot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodePng, countColour } from './png.js';
import { writeUserFile } from './sandbox.js';

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
