/**
 * Scalar conversions shared by normalization. The Compose schema accepts strings for most numbers and
 * booleans (so interpolated values validate), which makes every reader here accept both, as compose does.
 * Each converter records a problem and returns undefined rather than throwing, so all problems surface at once.
 */
import type { Problem } from '../lib/errors.ts';
import { formatPath, subject, type PathSegment } from './schema.ts';

export type Path = PathSegment[];
export type Raw = Record<string, unknown>;

/** Collects problems for one document; messages always start with the service (or path) they are about. */
export class Issues {
  readonly problems: Problem[] = [];
  constructor(readonly file: string) {}
  add(path: Path, message: string): void {
    this.problems.push({ file: this.file, field: formatPath(path), message: `${subject(path)}: ${message}` });
  }
  /** `service "web": "deploy.rollback_config" is not supported: …` */
  unsupported(path: Path, reason: string): void {
    const inService = path[0] === 'services' && path.length > 2;
    const key = formatPath(inService ? path.slice(2) : path);
    const owner = inService ? `service ${JSON.stringify(path[1])}: ` : '';
    this.problems.push({ file: this.file, field: formatPath(path), message: `${owner}"${key}" is not supported: ${reason}` });
  }
}

export const isObject = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);
export const obj = (v: unknown): Raw => (isObject(v) ? v : {});
export const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** A scalar's text; null and undefined are empty. */
export const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function int(is: Issues, path: Path, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  is.add(path, `must be a whole number, got ${show(v)}`);
  return undefined;
}

export function num(is: Issues, path: Path, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  is.add(path, `must be a number, got ${show(v)}`);
  return undefined;
}

const TRUE = new Set(['true', 'yes', 'y', 'on']);
const FALSE = new Set(['false', 'no', 'n', 'off']);

export function bool(is: Issues, path: Path, v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  is.add(path, `must be true or false, got ${show(v)}`);
  return fallback;
}

export function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(text) : [text(v)];
}

/**
 * A list of `KEY=VALUE` or a mapping, as a mapping of strings. A bare `KEY` (or a null value) means "take it
 * from the host's environment" in compose; Berth renders on one machine and deploys on another, so for
 * environment it is dropped (`bare: 'drop'`), for labels and sysctls it is the empty string.
 */
export function dict(v: unknown, bare: 'drop' | 'empty', is: Issues, path: Path): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, val: unknown): void => {
    // A map key of that name is refused as the YAML is read; `- __proto__=x` would vanish here.
    if (k === '__proto__') is.add(path, '"__proto__" cannot be a name (JavaScript reads it as an object\'s prototype); rename it');
    else if (val === null || val === undefined) {
      if (bare === 'empty') out[k] = '';
    } else out[k] = text(val);
  };
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = text(item);
      const at = s.indexOf('=');
      if (at < 0) put(s, null);
      else put(s.slice(0, at), s.slice(at + 1));
    }
  } else if (isObject(v)) for (const [k, val] of Object.entries(v)) put(k, val);
  return out;
}

const DURATION_UNIT: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go/compose durations (`1m30s`, `500ms`, `1.5h`) in milliseconds; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (t === '0') return 0;
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNIT[m[2]];
  return Math.round(ms);
}

export function duration(is: Issues, path: Path, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined) is.add(path, `${show(v)} is not a duration (write e.g. 500ms, 10s, 1m30s, 1h)`);
  return ms;
}

const SIZE_UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Docker sizes (`512m`, `1g`, `1.5GB`, a number of bytes) in bytes, units binary as Docker reads them. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?\s*$/i.exec(text(v));
  return m ? Math.round(Number(m[1]) * SIZE_UNIT[m[2].toLowerCase()]) : undefined;
}

export function bytes(is: Issues, path: Path, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = parseBytes(v);
  if (n === undefined) is.add(path, `${show(v)} is not a size (write e.g. 1024, 512m, 1g, 1.5GB)`);
  return n;
}

/** A file mode: a number as written (YAML `0400` is read as octal), or an octal string such as "0400". */
export function fileMode(is: Issues, path: Path, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^0?[0-7]{1,4}$/.test(v.trim())) return Number.parseInt(v.trim(), 8);
  is.add(path, `${show(v)} is not a file mode (write e.g. 0440)`);
  return undefined;
}

/** Splits a command string the way a POSIX shell splits words: quotes group, backslashes escape. */
export function shellSplit(s: string): string[] | string {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1])) word += s[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      word += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return `unterminated ${quote} quote`;
  if (inWord) words.push(word);
  return words;
}
