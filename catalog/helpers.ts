/**
 * The helpers a catalog template may call. Handlebars passes an `options` object as the last argument of every
 * helper call, so each helper here is written against its real arguments and registered through `wrap`, which
 * drops `options` and turns a thrown error into a `HelperError` carrying the template line of the call.
 */
import { isSecret } from '../lib/mask.ts';
import type Handlebars from 'handlebars';

type HelperFn = (...args: unknown[]) => unknown;
interface HelperOptions { name?: string; loc?: { start?: { line?: number } } }

/** Raised by a helper; `line` is where the call sits in the template, when Handlebars told us. */
export class HelperError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
  }
}

/** `quote`'s result: the argument as text that must land in YAML as a string, never a number or boolean. */
export class Quoted {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Most ranges in a compose file are replicas or ports; a bound keeps a typo from rendering a million lines. */
export const RANGE_LIMIT = 1000;

const plain = (v: unknown): unknown => (v instanceof Quoted ? v.text : v);
const text = (v: unknown): string => (v === null || v === undefined ? '' : String(plain(v)));

function number(helper: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof plain(v) === 'string' && String(plain(v)).trim() !== '' ? Number(plain(v)) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${helper}: ${JSON.stringify(plain(v) ?? null)} is not a number`);
  return n;
}

/** Scalars compare by their text, so a string answer "80" equals the literal 80; null equals only null. */
function same(a: unknown, b: unknown): boolean {
  a = plain(a);
  b = plain(b);
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return typeof a !== 'object' && typeof b !== 'object' && String(a) === String(b);
}

function list(helper: string, v: unknown): unknown[] {
  v = plain(v);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v === '' ? [] : v.split(',').map((s) => s.trim());
  if (v === null || v === undefined) return [];
  throw new Error(`${helper}: expected a list or a comma-separated string`);
}

function range(from: unknown, to: unknown): number[] {
  const a = number('range', from);
  const b = number('range', to);
  if (!Number.isInteger(a) || !Number.isInteger(b)) throw new Error('range: bounds must be whole numbers');
  if (b < a) return [];
  if (b - a + 1 > RANGE_LIMIT) throw new Error(`range: ${a}..${b} has more than ${RANGE_LIMIT} items`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function toInt(v: unknown): number {
  const n = typeof plain(v) === 'string' ? Number.parseInt(String(plain(v)).trim(), 10) : Math.trunc(number('toInt', v));
  if (!Number.isFinite(n)) throw new Error(`toInt: ${JSON.stringify(plain(v) ?? null)} is not a number`);
  return n;
}

/** Go's fmt verbs as catalogs imported from Rancher use them: %s %v %d %q %%, with a precision (`%.1s`). */
function printf(format: unknown, ...args: unknown[]): string {
  let next = 0;
  return text(format).replace(/%([-+# 0]*)(\d*)(?:\.(\d+))?([svdqfx%])/g, (all, _flags: string, width: string, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const v = plain(args[next++]);
    let s: string;
    if (verb === 'd') s = String(Math.trunc(number('printf', v)));
    else if (verb === 'f') s = number('printf', v).toFixed(precision === undefined ? 6 : Number(precision));
    else if (verb === 'x') s = typeof v === 'number' ? v.toString(16) : Buffer.from(text(v)).toString('hex');
    else if (verb === 'q') s = JSON.stringify(text(v));
    else s = text(v);
    if (precision !== undefined && (verb === 's' || verb === 'v')) s = [...s].slice(0, Number(precision)).join('');
    return width ? s.padStart(Number(width)) : s;
  });
}

function until(n: unknown): number[] {
  const count = toInt(n);
  if (count > RANGE_LIMIT) throw new Error(`until: ${count} is more than ${RANGE_LIMIT} items`);
  return Array.from({ length: Math.max(0, count) }, (_, i) => i);
}

const HELPERS: Record<string, HelperFn> = {
  eq: (a, b) => same(a, b),
  ne: (a, b) => !same(a, b),
  not: (a) => !truthy(a),
  and: (...xs) => xs.every(truthy),
  or: (...xs) => xs.some(truthy),
  gt: (a, b) => number('gt', a) > number('gt', b),
  lt: (a, b) => number('lt', a) < number('lt', b),
  /** Falls back on null, undefined and the empty string: an unanswered optional question. */
  default: (v, fallback) => (v === null || v === undefined || plain(v) === '' ? fallback : v),
  contains: (xs, item) => list('contains', xs).some((x) => same(x, item)),
  join: (xs, sep) => list('join', xs).map(text).join(sep === undefined ? ',' : text(sep)),
  split: (s, sep) => (text(s) === '' ? [] : text(s).split(sep === undefined ? ',' : text(sep))),
  toInt,
  range,
  quote: (v) => new Quoted(text(v)),
  lower: (v) => text(v).toLowerCase(),
  upper: (v) => text(v).toUpperCase(),
  trim: (v) => text(v).trim(),
  /** Whether text holds a piece of text (`contains` is for lists). */
  includes: (s, part) => text(s).includes(text(part)),
  hasPrefix: (s, prefix) => text(s).startsWith(text(prefix)),
  hasSuffix: (s, suffix) => text(s).endsWith(text(suffix)),
  /** Every occurrence of `from` in the text replaced by `to`. */
  replace: (s, from, to) => text(s).split(text(from)).join(text(to)),
  printf,
  /** `until N`: 0, 1, …, N-1 (Go's sprig), for `{{#each (until n)}}`. */
  until,
  len: (v) => (Array.isArray(plain(v)) ? (plain(v) as unknown[]).length : [...text(v)].length),
};

/** Handlebars truthiness (empty lists are false), seeing through `quote`. */
function truthy(v: unknown): boolean {
  v = plain(v);
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

export const HELPER_NAMES: readonly string[] = Object.keys(HELPERS);

/**
 * Helpers whose result is a form of their argument the mask cannot recognise (docs/security.md#secrets): given a
 * secret answer they refuse, rather than let `{{upper password}}` reach a label or the ledger in clear.
 */
const TRANSFORMS: ReadonlySet<string> = new Set(['split', 'toInt', 'range', 'lower', 'upper', 'trim']);

function wrap(name: string, fn: HelperFn): HelperFn {
  return function (this: unknown, ...args: unknown[]) {
    const options = args.pop() as HelperOptions | undefined;
    try {
      if (TRANSFORMS.has(name) && args.some((a) => isSecret(plain(a)))) {
        throw new Error(`${name}: cannot take a secret answer: Berth could not mask the result in logs, labels and the ledger; use the secret as it is`);
      }
      return fn(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new HelperError(message.startsWith(`${name}:`) ? message : `${name}: ${message}`, options?.loc?.start?.line);
    }
  };
}

/** Registers Berth's helpers on an isolated environment and removes `log`, which would write to stdout. */
export function registerHelpers(hb: typeof Handlebars): void {
  hb.unregisterHelper('log');
  for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, wrap(name, fn));
}
