/**
 * Validates a parsed compose document against the Compose Specification's JSON schema (the copy shipped in
 * catalog/schema/, see NOTICE.md there) plus Berth's own rules: at least one service, an image for every
 * service, no `build`. Ajv's errors become one readable problem per place: oneOf/anyOf alternatives collapse
 * to the branch that fits the value's type, unknown keys suggest the nearest known one.
 *
 * Problems carry `field` (a path such as `services.web.ports[0]`) but no line: the renderer adds lines from
 * its YAML document with `parsePath`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { packageRoot } from '../lib/version.ts';
import { editDistance } from './resolve.ts';
import type { Problem } from '../lib/errors.ts';

export type PathSegment = string | number;

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;

/** `['services', 'web', 'labels', 'com.x', 0]` → `services.web.labels["com.x"][0]`. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : SIMPLE_KEY.test(seg) ? (i ? `.${seg}` : seg) : `[${JSON.stringify(seg)}]`))
    .join('');
}

export function parsePath(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  for (let m = re.exec(field); m; m = re.exec(field)) out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
  return out;
}

let validator: ValidateFunction | undefined;

/** Where `npm run build` puts the precompiled validator (see schema/build-validator.ts). */
export const VALIDATOR_FILE = (): string => path.join(packageRoot(), 'dist', 'compose-validator.cjs');

export function loadComposeSchema(): { schema: Record<string, unknown>; text: string } {
  const text = readFileSync(path.join(packageRoot(), 'catalog', 'schema', 'compose-spec.json'), 'utf8');
  const schema = JSON.parse(text) as Record<string, unknown>;
  // The file names the https draft-07 URI, which Ajv does not know by that spelling; its keywords are draft-07.
  delete schema.$schema;
  return { schema, text };
}

export const schemaDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

export function composeAjv(extra: Partial<Options> = {}): Ajv {
  return new Ajv({ allErrors: true, strict: false, verbose: true, ...extra });
}

/** The precompiled validator when it was built from this very schema, else one compiled now. */
function validate(): ValidateFunction {
  if (validator) return validator;
  const { schema, text } = loadComposeSchema();
  try {
    const built = createRequire(import.meta.url)(VALIDATOR_FILE()) as ValidateFunction & { default?: ValidateFunction; schemaDigest?: string };
    if (built.schemaDigest === schemaDigest(text)) validator = built.default ?? built;
  } catch {
    // not built (running from a fresh checkout through tsx): compile below
  }
  validator ??= composeAjv().compile(schema);
  return validator;
}

export function validateCompose(doc: unknown, file: string): Problem[] {
  const check = validate();
  const problems = check(doc) ? [] : collapse((check.errors ?? []).map((e) => toRaw(e, doc)));
  const found = problems.map((p) => ({ file, field: formatPath(p.path), message: p.message }));
  return [...found, ...berthRules(doc, file, new Set(found.map((p) => p.field)))];
}

interface Raw { path: PathSegment[]; error: ErrorObject }

function toRaw(error: ErrorObject, doc: unknown): Raw {
  const path: PathSegment[] = [];
  let at: unknown = doc;
  for (const part of error.instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path.push(Array.isArray(at) ? Number(key) : key);
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  }
  return { path, error };
}

const under = (inner: PathSegment[], outer: PathSegment[]): boolean => outer.every((seg, i) => inner[i] === seg);
const alternative = (r: Raw): boolean => r.error.keyword === 'oneOf' || r.error.keyword === 'anyOf';

/**
 * One problem per place. A value that fits one alternative by type and fails deeper inside it makes the other
 * alternatives' "must be X" noise: type errors are dropped when a more specific error sits at or under their
 * path, and what remains at one path merges into a single "must be X or Y".
 */
function collapse(raws: Raw[]): Problemish[] {
  const explains = (o: Raw, r: Raw): boolean =>
    !alternative(o) && under(o.path, r.path) && (o.path.length > r.path.length || o.error.keyword !== 'type');
  const kept = raws.filter((r) => {
    if (alternative(r)) return !raws.some((o) => o !== r && !alternative(o) && under(o.path, r.path));
    if (r.error.keyword === 'type') return !raws.some((o) => explains(o, r));
    return true;
  });
  const out = new Map<string, Problemish>();
  const types = new Map<string, { path: PathSegment[]; types: Set<string>; data: unknown }>();
  for (const r of kept) {
    const key = formatPath(r.path);
    if (r.error.keyword === 'type') {
      const t = types.get(key) ?? { path: r.path, types: new Set<string>(), data: r.error.data };
      for (const name of String(r.error.params.type).split(',')) t.types.add(name);
      types.set(key, t);
      continue;
    }
    const found = describe(r);
    out.set(`${key}\u0000${found.message}`, found);
  }
  for (const t of types.values()) out.set(formatPath(t.path), { path: t.path, message: `${subject(t.path)} must be ${typeList(t.types)}, got ${show(t.data)}` });
  return [...out.values()];
}

interface Problemish { path: PathSegment[]; message: string }

function describe({ path, error: e }: Raw): Problemish {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p.additionalProperty);
    return { path: [...path, key], message: unknownKey(path, key, e.parentSchema as Record<string, unknown>) };
  }
  return { path, message: describeAt(path, e) };
}

function describeAt(path: PathSegment[], e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum': return `${subject(path)} must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}, got ${show(e.data)}`;
    case 'required': return `${subject(path)} is missing the key "${String(p.missingProperty)}"`;
    case 'pattern': return `${subject(path)}: ${show(e.data)} is not an accepted value`;
    case 'uniqueItems': return `${subject(path)} lists the same item twice (items ${String(p.j)} and ${String(p.i)})`;
    case 'oneOf': case 'anyOf': return `${subject(path)} matches none of the accepted forms, or more than one`;
    default: return `${subject(path)} ${e.message ?? 'is invalid'}`;
  }
}

function unknownKey(path: PathSegment[], key: string, parent: Record<string, unknown>): string {
  const known = Object.keys((parent?.properties as object) ?? {});
  if (!known.length) return `invalid name ${show(key)} ${where(path)}: use letters, digits, ".", "_" and "-"`;
  const near = nearest(key, known);
  return `unknown key ${show(key)} ${where(path)}${near ? ` (did you mean ${show(near)}?)` : ''}`;
}

/** `service "web": ports[0]` — the service always named, the rest of the path after it. */
export function subject(path: PathSegment[]): string {
  if (path[0] === 'services' && path.length >= 2) {
    return path.length === 2 ? `service ${show(path[1])}` : `service ${show(path[1])}: ${formatPath(path.slice(2))}`;
  }
  return path.length ? formatPath(path) : 'the document';
}

function where(path: PathSegment[]): string {
  if (!path.length) return 'at the top level';
  if (path[0] === 'services' && path.length === 2) return `in service ${show(path[1])}`;
  if (path[0] === 'services' && path.length > 2) return `in "${formatPath(path.slice(2))}" of service ${show(path[1])}`;
  return `in "${formatPath(path)}"`;
}

const ARTICLE: Record<string, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', array: 'a list', object: 'a mapping', null: 'null' };
function typeList(types: Set<string>): string {
  const names = [...types].map((t) => ARTICLE[t] ?? t);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
}
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 80) ?? String(v));

/** Closest key by edit distance (adjacent swaps count once), if close enough to be a typo. */
export function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Rules the schema cannot express: Berth runs images and never builds them. */
function berthRules(doc: unknown, file: string, reported: Set<string>): Problem[] {
  const services = (doc as { services?: unknown } | null)?.services;
  if (services === null || typeof services !== 'object' || Array.isArray(services) || !Object.keys(services).length) {
    return reported.has('services') ? [] : [{ file, field: 'services', message: 'the document defines no services; a stack needs at least one' }];
  }
  const problems: Problem[] = [];
  for (const [name, svc] of Object.entries(services as Record<string, unknown>)) {
    if (svc === null || typeof svc !== 'object') continue;
    const field = formatPath(['services', name]);
    if ('build' in svc) {
      problems.push({ file, field: `${field}.build`, message: `service ${show(name)}: "build" is not supported: Berth deploys images and never builds them; push the image to a registry and set "image"` });
    } else if (typeof (svc as { image?: unknown }).image !== 'string' || !(svc as { image: string }).image.trim()) {
      if (!reported.has(`${field}.image`)) problems.push({ file, field: `${field}.image`, message: `service ${show(name)} has no image` });
    }
  }
  return problems;
}
