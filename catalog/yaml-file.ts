/**
 * YAML files of a catalog, parsed so that every problem can point at the line a vendor has to edit, and a small
 * reader that checks a map's fields and collects problems instead of stopping at the first.
 */
import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { Problem } from '../lib/errors.ts';
import { boundedToJS, parseBoundedChecked } from '../lib/yaml-bounded.ts';
import { closest } from './resolve.ts';

export type YamlPath = (string | number)[];

export interface YamlFile {
  /** Path relative to the catalog root, as shown in problems. */
  file: string;
  data: unknown;
  /** 1-based line of the node at `path` (its key when `part` is 'key'); the nearest existing parent otherwise. */
  line(path: YamlPath, part?: 'key' | 'value'): number | undefined;
  /** The text of the value at `path` as written, e.g. `1.0` where `data` holds the number 1. */
  source(path: YamlPath): string | undefined;
}

export function parseYamlFile(text: string, file: string): { yaml?: YamlFile; problems: Problem[] } {
  const { doc, lineCounter, problems } = parseBoundedChecked(text, file);
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (!doc) return { problems };
  const yaml: YamlFile = {
    file,
    data: boundedToJS(doc),
    line: (path, part = 'value') => {
      const { range } = findNode(doc, path, part);
      return range ? lineAt(range[0]) : undefined;
    },
    source: (path) => {
      const { range, exact } = findNode(doc, path, 'value');
      return range && exact ? text.slice(range[0], range[1]) : undefined;
    },
  };
  return { yaml, problems: [] };
}

type Range = [number, number, number];

/** The range of the node at `path`, or of the deepest parent that exists (then `exact` is false). */
function findNode(doc: Document, path: YamlPath, part: 'key' | 'value'): { range?: Range; exact: boolean } {
  let node: unknown = doc.contents;
  let key: unknown;
  let depth = 0;
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair) [key, next] = [pair.key, pair.value];
    } else if (isSeq(node) && typeof seg === 'number') {
      [key, next] = [undefined, node.items[seg]];
    }
    if (next === undefined) break;
    node = next;
    depth++;
  }
  const target = (part === 'key' && key) || node || key;
  return { range: (target as { range?: Range } | null)?.range ?? undefined, exact: depth === path.length };
}

export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object') return 'a map';
  return `the ${typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'text'} ${JSON.stringify(v)}`;
}

/** Reads the fields of one YAML map, recording a located problem for each one that is wrong. */
export class MapReader {
  constructor(
    readonly yaml: YamlFile,
    readonly path: YamlPath,
    /** Prefix of problem fields, e.g. `questions.http_port`; empty at the top of a file. */
    readonly fieldBase: string,
    readonly obj: Record<string, unknown>,
    readonly problems: Problem[],
  ) {}

  field(key: string): string {
    return this.fieldBase ? `${this.fieldBase}.${key}` : key;
  }

  problem(key: string | undefined, message: string, part: 'key' | 'value' = 'value'): void {
    const path = key === undefined ? this.path : [...this.path, key];
    const line = this.yaml.line(path, part);
    this.problems.push({ file: this.yaml.file, ...(line ? { line } : {}), field: key === undefined ? this.fieldBase || undefined : this.field(key), message });
  }

  /** True when YAML read a number whose written form differs from its value (`1.10` → 1.1), so text would lose it. */
  numberLosesText(path: YamlPath, v: unknown): boolean {
    const written = typeof v === 'number' ? this.yaml.source([...this.path, ...path]) : undefined;
    return written !== undefined && written !== String(v);
  }

  string(key: string, required = false): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.problem(key, `is required; add "${key}: ..."`);
      return undefined;
    }
    if (typeof v === 'string') return v;
    const written = this.yaml.source([...this.path, key]) ?? String(v);
    const quote = typeof v === 'number' || typeof v === 'boolean' ? `; put it in quotes: ${key}: "${written}"` : '';
    this.problem(key, `must be text, got ${typeof v === 'number' ? `the number ${written}` : kindOf(v)}${quote}`);
    return undefined;
  }

  boolean(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null || typeof v === 'boolean') return v ?? undefined;
    this.problem(key, `must be true or false (without quotes), got ${kindOf(v)}`);
    return undefined;
  }

  number(key: string, opts: { integer?: boolean; nonNegative?: boolean } = {}): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    const wanted = opts.nonNegative ? 'a whole number of 0 or more' : opts.integer ? 'a whole number' : 'a number';
    const ok = typeof v === 'number' && Number.isFinite(v) && (!opts.integer || Number.isInteger(v)) && (!opts.nonNegative || v >= 0);
    if (ok) return v as number;
    this.problem(key, `must be ${wanted}, got ${kindOf(v)}`);
    return undefined;
  }

  stringMap(key: string): Record<string, string> | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isPlainMap(v)) {
      this.problem(key, `must be a map of names to text, got ${kindOf(v)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    const sub = new MapReader(this.yaml, [...this.path, key], this.field(key), v, this.problems);
    for (const k of Object.keys(v)) {
      const s = sub.string(k);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }

  unknownKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (allowed.includes(k)) continue;
      const near = closest(k, allowed);
      const fix = near ? `did you mean "${near}"?` : `remove it; the keys allowed here are ${allowed.join(', ')}`;
      this.problem(k, `is not a known key; ${fix}`, 'key');
    }
  }
}
