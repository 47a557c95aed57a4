/**
 * Source positions for every key and value of a JSON5 document.
 *
 * json5 reports positions only for syntax errors, so after JSON5.parse has
 * accepted a text this module lexes it a second time and records where each
 * key and each value starts, indexed by its key path (`filesystem.ro[2]`,
 * `syscalls.allow[0].args[1].op`). Schema errors use the map to name
 * FILE:LINE.
 *
 * Contract: mapPositions(text) must only be called on text JSON5.parse
 * accepted; it then throws only NestingError (for absurdly deep documents). Lines and columns follow json5's own
 * convention (1-based; only "\n" ends a line; columns count UTF-16 units), so
 * a syntax error and a schema error in the same file agree. A key written
 * twice in one object is reported in `duplicates` (json5 silently keeps the
 * last one, which would drop the first block of a profile without a word).
 */

export interface Pos {
  line: number;
  col: number;
}

export interface NodePos {
  /** Where the key is written; absent for array items and the root. */
  key?: Pos;
  /** Where the value starts. */
  value: Pos;
}

export interface Duplicate {
  path: string;
  first: Pos;
  second: Pos;
}

/**
 * Deeper documents are refused: a profile is at most seven levels deep, and
 * the mapper recurses once per level.
 */
export const MAX_NESTING = 64;

/** Thrown by mapPositions for a document nested deeper than MAX_NESTING. */
export class NestingError extends Error {
  constructor(readonly at: Pos) {
    super(`nested deeper than ${MAX_NESTING} levels`);
  }
}

export interface PositionMap {
  nodes: Map<string, NodePos>;
  duplicates: Duplicate[];
}

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `a.b[2].c`; keys that are not identifiers are written `["k.e y"]`. */
export function formatKeyPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Finds the position recorded for a path, else that of its nearest ancestor. */
export function lookupPos(map: PositionMap, segments: readonly PathSegment[], which: 'key' | 'value'): Pos {
  for (let n = segments.length; n >= 0; n--) {
    const node = map.nodes.get(formatKeyPath(segments.slice(0, n)));
    if (node === undefined) continue;
    if (which === 'key' && n === segments.length && node.key !== undefined) return node.key;
    return node.value;
  }
  return { line: 1, col: 1 };
}

export function mapPositions(text: string): PositionMap {
  return new Mapper(text).run();
}

class Mapper {
  private pos = 0;
  private line = 1;
  private col = 1;
  private readonly nodes = new Map<string, NodePos>();
  private readonly duplicates: Duplicate[] = [];

  constructor(private readonly src: string) {}

  run(): PositionMap {
    this.skipSpace();
    this.value([], undefined);
    return { nodes: this.nodes, duplicates: this.duplicates };
  }

  private here(): Pos {
    return { line: this.line, col: this.col };
  }

  private advance(n = 1): void {
    for (let i = 0; i < n && this.pos < this.src.length; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      this.pos++;
    }
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === '/' && this.src[this.pos + 1] === '/') {
        while (this.pos < this.src.length && !isLineEnd(this.src[this.pos]!)) this.advance();
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        this.advance((end < 0 ? this.src.length : end + 2) - this.pos);
      } else if (/\s/.test(c) || c === '\ufeff') {
        this.advance();
      } else {
        return;
      }
    }
  }

  private value(path: PathSegment[], key: Pos | undefined): void {
    const at = this.here();
    if (path.length > MAX_NESTING) throw new NestingError(at);
    const id = formatKeyPath(path);
    const prev = this.nodes.get(id);
    if (prev !== undefined && key !== undefined && prev.key !== undefined) {
      this.duplicates.push({ path: id, first: prev.key, second: key });
    }
    this.nodes.set(id, key === undefined ? { value: at } : { key, value: at });
    const c = this.src[this.pos];
    if (c === '{') this.object(path);
    else if (c === '[') this.array(path);
    else if (c === '"' || c === "'") this.string();
    else this.bare();
  }

  private object(path: PathSegment[]): void {
    this.advance(); // {
    this.skipSpace();
    while (this.pos < this.src.length && this.src[this.pos] !== '}') {
      const keyPos = this.here();
      const name = this.src[this.pos] === '"' || this.src[this.pos] === "'" ? this.string() : this.identifier();
      this.skipSpace();
      this.advance(); // :
      this.skipSpace();
      this.value([...path, name], keyPos);
      this.skipSpace();
      if (this.src[this.pos] === ',') {
        this.advance();
        this.skipSpace();
      }
    }
    this.advance(); // }
  }

  private array(path: PathSegment[]): void {
    this.advance(); // [
    this.skipSpace();
    let index = 0;
    while (this.pos < this.src.length && this.src[this.pos] !== ']') {
      this.value([...path, index++], undefined);
      this.skipSpace();
      if (this.src[this.pos] === ',') {
        this.advance();
        this.skipSpace();
      }
    }
    this.advance(); // ]
  }

  /** Reads a quoted string and returns its decoded value (keys need it). */
  private string(): string {
    const quote = this.src[this.pos];
    this.advance();
    let out = '';
    while (this.pos < this.src.length && this.src[this.pos] !== quote) {
      const c = this.src[this.pos]!;
      if (c !== '\\') {
        out += c;
        this.advance();
        continue;
      }
      const e = this.src[this.pos + 1] ?? '';
      if (e === 'u') {
        out += String.fromCharCode(parseInt(this.src.slice(this.pos + 2, this.pos + 6), 16));
        this.advance(6);
      } else if (e === 'x') {
        out += String.fromCharCode(parseInt(this.src.slice(this.pos + 2, this.pos + 4), 16));
        this.advance(4);
      } else if (e === '\r' && this.src[this.pos + 2] === '\n') {
        this.advance(3); // line continuation
      } else if (isLineEnd(e)) {
        this.advance(2);
      } else {
        out += SIMPLE_ESCAPES[e] ?? (e === '0' ? '\0' : e);
        this.advance(2);
      }
    }
    this.advance(); // closing quote
    return out;
  }

  /** An unquoted key: an ECMAScript IdentifierName, possibly with \uXXXX escapes. */
  private identifier(): string {
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === ':' || /\s/.test(c) || c === '/') return out;
      if (c === '\\') {
        out += String.fromCharCode(parseInt(this.src.slice(this.pos + 2, this.pos + 6), 16));
        this.advance(6);
      } else {
        out += c;
        this.advance();
      }
    }
  }

  /** Numbers, true/false/null, Infinity/NaN: everything up to a delimiter. */
  private bare(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === ',' || c === '}' || c === ']' || /\s/.test(c)) return;
      if (c === '/' && (this.src[this.pos + 1] === '/' || this.src[this.pos + 1] === '*')) return;
      this.advance();
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function isLineEnd(c: string): boolean {
  return c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029';
}
