#!/usr/bin/env node
// The version is set in one place, package.json, by `npm version X.Y.Z`,
// which runs this (the "version" script) before it commits: the release's
// section of CHANGELOG.md gets its heading (from "Unreleased") and
// debian/changelog an entry, so the Debian package carries the same version,
// and the man pages' title lines name it.
// `tsjail --version` reads package.json (written into the bundle at build).
// test/unit/cli/version.test.ts checks that all of them agree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const date = new Date();

const changelog = path.join(root, 'CHANGELOG.md');
const text = fs.readFileSync(changelog, 'utf8');
if (!text.includes(`## [${version}]`)) {
  if (!text.includes('## [Unreleased]')) throw new Error('CHANGELOG.md has no "## [Unreleased]" section to release');
  fs.writeFileSync(
    changelog,
    text.replace('## [Unreleased]', `## [Unreleased]\n\n## [${version}] - ${date.toISOString().slice(0, 10)}`),
  );
}

const debian = path.join(root, 'debian', 'changelog');
const deb = fs.readFileSync(debian, 'utf8');
if (!deb.startsWith(`tsjail (${version})`)) {
  const maintainer = /^ -- (.+?) {2}/m.exec(deb)?.[1] ?? 'tsjail maintainers <maintainers@tsjail.example>';
  const when = date.toUTCString().replace(/GMT$/, '+0000');
  fs.writeFileSync(
    debian,
    `tsjail (${version}) unstable; urgency=medium\n\n  * Release ${version}: see CHANGELOG.md.\n\n -- ${maintainer}  ${when}\n\n${deb}`,
  );
}

for (const page of ['man/tsjail.1', 'man/tsjail-profile.5']) {
  const file = path.join(root, page);
  const roff = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, roff.replace(/^(\.TH .*)"tsjail [^"]*"/m, `$1"tsjail ${version}"`));
}
