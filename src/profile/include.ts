/**
 * The include graph: which files make up a profile, in merge order.
 *
 * Contract: resolveLayers() returns the validated documents bottom-up:
 *   base (implicit, first), then each include depth-first in the order
 *   written, each below the file that includes it, then the profile, then
 *   its NAME.local.json5 files (lowest-priority directory first), then the
 *   snippets of `run --include`, in the order given.
 * A file reached twice (a diamond, or `base` named explicitly) is merged once,
 * at its first place. A cycle is an error naming the chain (`a -> b -> a`),
 * a missing snippet an error at the FILE:LINE of its include entry; nesting
 * deeper than MAX_INCLUDE_DEPTH is an error. Every error is collected, so
 * `profile check` can report them all; a file with errors is left out of the
 * result but its includes are still followed where they can be read.
 * With the caller's uid, a file the caller cannot vouch for (trust.ts: not
 * theirs or root's, writable by others, or in a directory others can
 * change) is an error and is not read at all; tsjail's own shipped
 * profiles are trusted as its code is.
 */
import { realpathSync } from 'node:fs';

import { ProfileError, errorAt, type SourceRef } from './errors.js';
import { loadFile, type LoadedFile } from './load.js';
import { untrusted } from './trust.js';
import { findSnippetFile } from './locate.js';
import { formatKeyPath, lookupPos, type PathSegment } from './positions.js';
import { isSnippetName, validateDoc } from './schema.js';
import type { ProfileDoc } from './types.js';

export const MAX_INCLUDE_DEPTH = 16;
export const BASE_SNIPPET = 'base';

export type LayerRole = 'snippet' | 'profile' | 'local';

export interface Layer {
  /** Position in merge order, 0 = lowest. */
  layer: number;
  role: LayerRole;
  /** Snippet or profile name (for messages). */
  name: string;
  loaded: LoadedFile;
  doc: ProfileDoc;
}

export interface LayerResult {
  layers: Layer[];
  errors: ProfileError[];
}

export interface LayerRequest {
  name: string;
  file: string;
  locals: string[];
  searchPath: readonly string[];
  /** The caller: every file must be one they vouch for (trust.ts); absent, nothing is checked. */
  uid?: number;
  /** tsjail's own profiles/ (real path): trusted as tsjail's code is, not checked. */
  shipped?: string;
  /** Snippets named on the command line (`run --include`), merged on top of the profile and its locals. */
  includes?: readonly string[];
}

export function resolveLayers(req: LayerRequest): LayerResult {
  const state = new Resolver(req.searchPath, req.uid, req.shipped);
  const rootReal = real(req.file);
  const base = findSnippetFile(BASE_SNIPPET, req.searchPath);
  if (base === null) {
    state.errors.push(
      new ProfileError(
        { file: req.file },
        `the built-in snippet "${BASE_SNIPPET}" was not found in include/ of: ${req.searchPath.join(', ')}`,
      ),
    );
  } else if (real(base) !== rootReal) {
    state.visit(base, BASE_SNIPPET, 'snippet', undefined);
  }
  state.visit(req.file, req.name, 'profile', undefined);
  for (const local of req.locals) state.visit(local, `${req.name}.local`, 'local', undefined);
  for (const name of req.includes ?? []) {
    const snippet = isSnippetName(name) ? findSnippetFile(name, req.searchPath) : null;
    if (snippet === null) {
      const why = isSnippetName(name)
        ? `not found in include/ of: ${req.searchPath.join(', ')}`
        : 'is not a snippet name';
      state.errors.push(new ProfileError({ file: '--include' }, `snippet ${JSON.stringify(name)} ${why}`));
      continue;
    }
    state.visit(snippet, name, 'snippet', undefined);
  }
  return { layers: state.layers, errors: state.errors };
}

/** Where a value of a loaded file is written. */
export function sourceOf(loaded: LoadedFile, path: readonly PathSegment[]): SourceRef {
  const pos = lookupPos(loaded.positions, path, 'value');
  return { file: loaded.file, line: pos.line, col: pos.col };
}

class Resolver {
  readonly layers: Layer[] = [];
  readonly errors: ProfileError[] = [];
  private readonly done = new Set<string>();
  private readonly stack: { real: string; label: string }[] = [];

  constructor(
    private readonly searchPath: readonly string[],
    private readonly uid: number | undefined,
    private readonly shipped: string | undefined,
  ) {}

  visit(file: string, label: string, role: LayerRole, via: Via | undefined): void {
    const id = real(file);
    const onStack = this.stack.findIndex((s) => s.real === id);
    if (onStack >= 0) {
      const chain = [...this.stack.slice(onStack).map((s) => s.label), label].join(' -> ');
      this.errors.push(at(via, file, `include cycle: ${chain}`));
      return;
    }
    if (this.done.has(id)) return;
    if (this.stack.length > MAX_INCLUDE_DEPTH) {
      const chain = [...this.stack.map((s) => s.label), label].join(' -> ');
      this.errors.push(at(via, file, `includes nested deeper than ${MAX_INCLUDE_DEPTH}: ${chain}`));
      return;
    }
    this.done.add(id);

    const own = this.shipped !== undefined && (id === this.shipped || id.startsWith(`${this.shipped}/`));
    const distrust = this.uid === undefined || own ? undefined : untrusted(file, this.uid);
    if (distrust !== undefined) {
      const detail = `not trusted: ${distrust}; a profile must be yours or root's, writable by nobody else, in directories only you or root can change (chmod go-w)`;
      this.errors.push(
        via !== undefined ? at(via, file, `snippet "${label}": ${detail}`) : new ProfileError({ file }, detail),
      );
      return;
    }
    let loaded: LoadedFile;
    try {
      loaded = loadFile(file);
    } catch (err) {
      if (!(err instanceof ProfileError)) throw err;
      // An unreadable snippet is reported where it is included, too.
      this.errors.push(
        via !== undefined && err.line === undefined ? at(via, file, `snippet "${label}": ${err.detail}`) : err,
      );
      return;
    }
    const checked = validateDoc(loaded);
    this.errors.push(...checked.errors);

    this.stack.push({ real: id, label });
    const includes = (loaded.data as { include?: unknown } | null)?.include;
    if (Array.isArray(includes)) {
      includes.forEach((name: unknown, i) => {
        if (typeof name !== 'string' || !isSnippetName(name)) return; // schema.ts reported it
        const via = { source: sourceOf(loaded, ['include', i]), keyPath: formatKeyPath(['include', i]) };
        const snippet = findSnippetFile(name, this.searchPath);
        if (snippet === null) {
          this.errors.push(at(via, file, `snippet "${name}" not found in include/ of: ${this.searchPath.join(', ')}`));
          return;
        }
        this.visit(snippet, name, 'snippet', via);
      });
    }
    this.stack.pop();

    if (checked.doc !== undefined) {
      this.layers.push({ layer: this.layers.length, role, name: label, loaded, doc: checked.doc });
    }
  }
}

/** The include entry that led to a file: errors about the file are reported there. */
interface Via {
  source: SourceRef;
  keyPath: string;
}

function at(via: Via | undefined, file: string, detail: string): ProfileError {
  return via === undefined ? new ProfileError({ file }, detail) : errorAt(via.source, detail, via.keyPath);
}

function real(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
