/**
 * `tsjail integrate`: send every launch of an application through tsjail.
 *
 * For each application that has a profile (its `command` list) and an
 * installed program:
 *   - a PATH wrapper in ~/.local/bin (or /usr/local/bin with --system);
 *   - an override of each desktop entry that runs the program (matched by
 *     the Exec program's name or real path, absolute Exec= paths included),
 *     with the same desktop ID in $XDG_DATA_HOME/applications, so menus,
 *     file managers and MIME defaults (which name desktop IDs) find it first:
 *     every Exec= (actions too) runs `tsjail run -p PROFILE -- ...`, and
 *     DBusActivatable= becomes false so launchers use that Exec;
 *   - for a D-Bus activatable entry, and any D-Bus service file that runs
 *     the program, an override in $XDG_DATA_HOME/dbus-1/services, which the
 *     session bus reads before the system's.
 * Everything written is recorded (path, SHA-256) in the record file; a file
 * that exists and is not in the record is never overwritten nor removed,
 * and `undo` removes exactly the recorded files whose content is still what
 * was written, and the directories integrate made, leaving what was there
 * before as it was.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import { TsjailError } from '../errors.js';
import { execArgs, execProgram, execQuote, keyLines, keyValue, rewrite } from './keyfile.js';

export interface IntegrateContext {
  env: NodeJS.ProcessEnv;
  home: string;
  /** --system: /usr/local and /var/lib/tsjail instead of the caller's directories. */
  system: boolean;
  /** The tsjail launcher the wrappers and overrides run (absolute). */
  tsjail: string;
  /** The profile directories, in search order. */
  profileDirs: string[];
}

export interface App {
  /** The profile's name. */
  profile: string;
  commands: string[];
  /** Installed programs of the app: command -> absolute path on PATH (not a wrapper of ours). */
  installed: Map<string, string>;
  /** Real paths of the installed programs. */
  real: Set<string>;
}

type Kind = 'wrapper' | 'desktop' | 'service';

interface RecordedFile {
  path: string;
  sha256: string;
  app: string;
  kind: Kind;
}

interface IntegrateRecord {
  version: 1;
  files: RecordedFile[];
  /** Directories integrate created, in the order it created them. */
  dirs: string[];
}

export interface Layout {
  bin: string;
  applications: string;
  services: string;
  record: string;
  /** Where launchers look for desktop entries, first wins. */
  dataDirs: string[];
  configDirs: string[];
}

export function layout(c: IntegrateContext): Layout {
  const dataHome = c.env.XDG_DATA_HOME?.startsWith('/') ? c.env.XDG_DATA_HOME : path.join(c.home, '.local/share');
  const configHome = c.env.XDG_CONFIG_HOME?.startsWith('/') ? c.env.XDG_CONFIG_HOME : path.join(c.home, '.config');
  const sysData = (c.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter((d) => d.startsWith('/'));
  const sysConfig = (c.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter((d) => d.startsWith('/'));
  const base = c.system ? '/usr/local/share' : dataHome;
  return {
    bin: c.system ? '/usr/local/bin' : path.join(c.home, '.local/bin'),
    applications: path.join(base, 'applications'),
    services: path.join(base, 'dbus-1/services'),
    record: c.system ? '/var/lib/tsjail/integrated.json' : path.join(dataHome, 'tsjail/integrated.json'),
    dataDirs: [...new Set([dataHome, ...sysData])],
    configDirs: [...new Set([configHome, ...sysConfig])],
  };
}

const sha = (b: string | Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

function readRecord(l: Layout): IntegrateRecord {
  try {
    const r = JSON.parse(fs.readFileSync(l.record, 'utf8')) as IntegrateRecord;
    if (r.version === 1 && Array.isArray(r.files) && Array.isArray(r.dirs)) return r;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: [], dirs: [] };
  }
  throw new TsjailError(`${l.record}: not a record of tsjail integrate; move it away to start afresh`);
}

/** Whether FILE is one integrate wrote and still holds what it wrote. */
function isOurs(rec: IntegrateRecord, file: string): boolean {
  const r = rec.files.find((f) => f.path === file);
  if (!r) return false;
  try {
    return sha(fs.readFileSync(file)) === r.sha256;
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Applications: profiles with a command list, and which of their commands are installed. */
export function findApps(c: IntegrateContext, rec: IntegrateRecord, l: Layout): App[] {
  const seen = new Set<string>();
  const out: App[] = [];
  const pathDirs = (c.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((d) => d.startsWith('/'));
  for (const dir of c.profileDirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.json5') && !n.endsWith('.local.json5'));
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      const profile = n.slice(0, -'.json5'.length);
      if (seen.has(profile)) continue;
      seen.add(profile);
      let command: unknown;
      try {
        command = (JSON5.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as { command?: unknown }).command;
      } catch {
        continue;
      }
      if (!Array.isArray(command) || command.length === 0) continue;
      const commands = command.filter((x): x is string => typeof x === 'string' && !x.includes('/'));
      const installed = new Map<string, string>();
      for (const cmd of commands) {
        for (const d of pathDirs) {
          const p = path.join(d, cmd);
          if (d === l.bin && isOurs(rec, p)) continue;
          try {
            fs.accessSync(p, fs.constants.X_OK);
          } catch {
            continue;
          }
          if (isFile(p) && !isOurs(rec, p)) {
            installed.set(cmd, p);
            break;
          }
        }
      }
      out.push({ profile, commands, installed, real: new Set([...installed.values()].map(realOr)) });
    }
  }
  return out;
}

/** Desktop entry or service file found in the data directories. */
interface Found {
  /** Desktop ID (applications/a/b.desktop -> a-b.desktop) or service file name. */
  id: string;
  file: string;
}

function scan(dirs: string[], sub: string, ext: string): Found[] {
  const out: Found[] = [];
  for (const d of dirs) {
    const root = path.join(d, sub);
    let entries: string[];
    try {
      entries = fs.readdirSync(root, { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const e of entries.sort())
      if (e.endsWith(ext) && isFile(path.join(root, e)))
        out.push({ id: e.split('/').join('-'), file: path.join(root, e) });
  }
  return out;
}

/** The file launchers use for each ID: the first in search order. */
function effective(found: Found[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of found) if (!m.has(f.id)) m.set(f.id, f.file);
  return m;
}

function runsApp(app: App, exec: string | undefined): boolean {
  if (!exec) return false;
  const prog = execProgram(exec);
  if (!prog) return false;
  if (!prog.includes('/')) return app.commands.includes(prog);
  return app.real.has(realOr(prog)) || app.commands.includes(path.basename(prog));
}

function viaTsjail(c: IntegrateContext, exec: string): boolean {
  const first = execArgs(exec)[0];
  return first === c.tsjail;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

interface Planned {
  path: string;
  content: string;
  mode: number;
  app: string;
  kind: Kind;
  from?: string;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function throughTsjail(c: IntegrateContext, app: App, exec: string): string {
  return `${execQuote(c.tsjail)} run -p ${execQuote(app.profile)} -- ${exec}`;
}

/** What integrating APP writes, from the files that are not integrate's own. */
function planApp(c: IntegrateContext, l: Layout, rec: IntegrateRecord, app: App): Planned[] {
  const out: Planned[] = [];
  const marker = `# tsjail integrate (${app.profile}): \`tsjail integrate --undo ${app.profile}\` removes this file`;
  for (const [cmd, prog] of app.installed) {
    out.push({
      path: path.join(l.bin, cmd),
      content: `#!/bin/sh\n${marker}\nexec ${shQuote(c.tsjail)} run -p ${shQuote(app.profile)} -- ${shQuote(prog)} "$@"\n`,
      mode: 0o755,
      app: app.profile,
      kind: 'wrapper',
    });
  }
  const notOurs = (f: Found) => !rec.files.some((r) => r.path === f.file);
  const desktops = effective(scan(l.dataDirs, 'applications', '.desktop').filter(notOurs));
  const services = effective(scan(l.dataDirs, 'dbus-1/services', '.service').filter(notOurs));
  const serviceIds = new Set<string>();
  for (const [id, file] of desktops) {
    const text = read(file);
    if (text === undefined) continue;
    const main = keyLines(text).filter((k) => k.group === 'Desktop Entry');
    const exec = main.find((k) => k.key === 'Exec')?.value;
    const tryExec = main.find((k) => k.key === 'TryExec')?.value;
    if (!runsApp(app, exec) && !runsApp(app, tryExec)) continue;
    const content = rewrite(text, (k) => {
      if (k.key === 'Exec' && (k.group === 'Desktop Entry' || k.group.startsWith('Desktop Action ')))
        return viaTsjail(c, k.value) ? undefined : throughTsjail(c, app, k.value);
      if (k.key === 'DBusActivatable' && k.group === 'Desktop Entry') return 'false';
      return undefined;
    });
    out.push({
      path: path.join(l.applications, id),
      content: `${marker}\n# from ${file}\n${content}`,
      mode: 0o644,
      app: app.profile,
      kind: 'desktop',
      from: file,
    });
    if (main.find((k) => k.key === 'DBusActivatable')?.value === 'true') serviceIds.add(`${id.slice(0, -8)}.service`);
  }
  for (const [id, file] of services) {
    const text = read(file);
    if (text === undefined) continue;
    const exec = keyValue(text, 'D-BUS Service', 'Exec')?.value;
    if (!serviceIds.has(id) && !runsApp(app, exec)) continue;
    if (!exec || viaTsjail(c, exec)) continue;
    const content = rewrite(text, (k) =>
      k.key === 'Exec' && k.group === 'D-BUS Service' ? throughTsjail(c, app, k.value) : undefined,
    );
    out.push({
      path: path.join(l.services, id),
      content: `${marker}\n# from ${file}\n${content}`,
      mode: 0o644,
      app: app.profile,
      kind: 'service',
      from: file,
    });
  }
  return out;
}

function mkdirs(dir: string, created: string[]): void {
  if (fs.existsSync(dir)) return;
  mkdirs(path.dirname(dir), created);
  fs.mkdirSync(dir, { mode: 0o755 });
  created.push(dir);
}

function writeRecord(l: Layout, rec: IntegrateRecord): void {
  const tmp = `${l.record}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, l.record);
}

export interface Report {
  written: string[];
  unchanged: string[];
  /** Files in the way that integrate did not make: left alone. */
  skipped: string[];
}

/** Integrate these apps (profile names), or every installed one. */
export function integrate(c: IntegrateContext, names: string[] | 'all'): Report {
  const l = layout(c);
  const rec = readRecord(l);
  const apps = findApps(c, rec, l);
  const chosen =
    names === 'all'
      ? apps.filter((a) => a.installed.size > 0)
      : names.map((n) => {
          const a = apps.find((x) => x.profile === n);
          if (!a) throw new TsjailError(`${n}: no profile with a command list of that name`);
          if (a.installed.size === 0)
            throw new TsjailError(`${n}: not installed (none of ${a.commands.join(', ')} on PATH)`);
          return a;
        });
  const report: Report = { written: [], unchanged: [], skipped: [] };
  const created = rec.dirs;
  const recordDirExisted = fs.existsSync(path.dirname(l.record));
  mkdirs(path.dirname(l.record), created);
  try {
    for (const app of chosen) {
      for (const p of planApp(c, l, rec, app)) {
        const mine = rec.files.find((f) => f.path === p.path);
        const exists = fs.lstatSync(p.path, { throwIfNoEntry: false });
        if (exists && (!mine || !isOurs(rec, p.path))) {
          report.skipped.push(p.path);
          continue;
        }
        if (mine && sha(p.content) === mine.sha256) {
          report.unchanged.push(p.path);
          continue;
        }
        mkdirs(path.dirname(p.path), created);
        const tmp = `${p.path}.tsjail-${process.pid}`;
        fs.writeFileSync(tmp, p.content, { mode: p.mode });
        fs.chmodSync(tmp, p.mode);
        fs.renameSync(tmp, p.path);
        rec.files = [
          ...rec.files.filter((f) => f.path !== p.path),
          { path: p.path, sha256: sha(p.content), app: p.app, kind: p.kind },
        ];
        report.written.push(p.path);
      }
    }
  } finally {
    if (rec.files.length > 0) writeRecord(l, rec);
    else if (!recordDirExisted) removeDirs(rec, l);
  }
  return report;
}

function removeDirs(rec: IntegrateRecord, l: Layout): void {
  const keep = new Set(rec.files.map((f) => f.path));
  for (const d of [...rec.dirs].reverse()) {
    if ([...keep].some((f) => f.startsWith(d + '/'))) continue;
    if (d === path.dirname(l.record) && rec.files.length > 0) continue;
    try {
      fs.rmdirSync(d);
      rec.dirs = rec.dirs.filter((x) => x !== d);
    } catch {
      /* not empty: something not ours is in it */
    }
  }
}

/** Remove what integrate made for these apps (all when empty); files changed since are left, and said. */
export function undo(c: IntegrateContext, names: string[]): { removed: string[]; changed: string[] } {
  const l = layout(c);
  const rec = readRecord(l);
  const out = { removed: [] as string[], changed: [] as string[] };
  for (const f of rec.files.filter((x) => names.length === 0 || names.includes(x.app))) {
    if (isOurs(rec, f.path)) {
      fs.unlinkSync(f.path);
      out.removed.push(f.path);
    } else if (fs.existsSync(f.path)) out.changed.push(f.path);
    rec.files = rec.files.filter((x) => x !== f);
  }
  if (rec.files.length > 0) {
    removeDirs(rec, l);
    writeRecord(l, rec);
  } else {
    fs.rmSync(l.record, { force: true });
    removeDirs(rec, l);
  }
  return out;
}

export interface AppStatus {
  profile: string;
  state: 'sandboxed' | 'bypassing' | 'not installed';
  /** FILE:LINE: what bypasses tsjail. */
  reasons: string[];
  integrated: boolean;
}

/** Each app: sandboxed, bypassing (and where), or not installed. */
export function listApps(c: IntegrateContext): AppStatus[] {
  const l = layout(c);
  const rec = readRecord(l);
  const desktops = effective(scan(l.dataDirs, 'applications', '.desktop'));
  const services = effective(scan(l.dataDirs, 'dbus-1/services', '.service'));
  const pathDirs = (c.env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
  return findApps(c, rec, l).map((app) => {
    const integrated = rec.files.some((f) => f.app === app.profile);
    if (app.installed.size === 0) return { profile: app.profile, state: 'not installed', reasons: [], integrated };
    const reasons: string[] = [];
    for (const cmd of app.installed.keys()) {
      const first = pathDirs.map((d) => path.join(d, cmd)).find((p) => isFile(p));
      if (first && !isOurs(rec, first)) reasons.push(`PATH: ${cmd} is ${first}, not tsjail's wrapper in ${l.bin}`);
    }
    const bypassingIds = new Set<string>();
    for (const [id, file] of desktops) {
      const text = read(file);
      if (text === undefined) continue;
      const lines = keyLines(text);
      const main = lines.filter((k) => k.group === 'Desktop Entry');
      if (!runsApp(app, main.find((k) => k.key === 'Exec')?.value)) continue;
      for (const k of lines)
        if (k.key === 'Exec' && !viaTsjail(c, k.value)) {
          reasons.push(`${file}:${k.line}: Exec=${k.value}`);
          bypassingIds.add(id);
        }
      const dbus = main.find((k) => k.key === 'DBusActivatable');
      if (dbus?.value === 'true') {
        const svc = services.get(`${id.slice(0, -8)}.service`);
        const exec = svc ? keyValue(read(svc) ?? '', 'D-BUS Service', 'Exec') : undefined;
        if (!svc || !exec) reasons.push(`${file}:${dbus.line}: DBusActivatable=true without a D-Bus service file`);
        else if (!viaTsjail(c, exec.value)) reasons.push(`${svc}:${exec.line}: Exec=${exec.value}`);
      }
    }
    for (const [, file] of services) {
      const exec = keyValue(read(file) ?? '', 'D-BUS Service', 'Exec');
      if (exec && runsApp(app, exec.value) && !viaTsjail(c, exec.value))
        reasons.push(`${file}:${exec.line}: Exec=${exec.value}`);
    }
    for (const d of [...l.configDirs, ...l.dataDirs.map((x) => path.join(x, 'applications'))]) {
      const file = path.join(d, 'mimeapps.list');
      for (const k of keyLines(read(file) ?? ''))
        if (k.group === 'Default Applications' && k.value.split(';').some((id) => bypassingIds.has(id)))
          reasons.push(`${file}:${k.line}: ${k.key}=${k.value} (a MIME default)`);
    }
    const unique = [...new Set(reasons)];
    return { profile: app.profile, state: unique.length ? 'bypassing' : 'sandboxed', reasons: unique, integrated };
  });
}
