/**
 * The manifest (`berth-bundle.json`, the archive's last part but the signature): what the bundle holds and the
 * SHA-256 and size of every other part. It is checked against a JSON schema before any field is used, since
 * a bundle comes from outside; names, refs and digests are constrained so none can become a path or a command.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { BundleError } from './errors.ts';

export const FORMAT = 'berth-bundle/1';
export const MANIFEST_PART = 'berth-bundle.json';
export const SIGNATURE_PART = 'berth-bundle.sig';
/** A manifest is metadata: a few KiB per image. This bound keeps a hostile one from costing memory. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface BundlePart { name: string; sha256: string; size: number }
export interface BundleLayer { digest: string; part: string; size: number }
export interface BundleImage {
  /** `sha256:…`: the config's digest, which is what `docker images` calls the image ID. */
  id: string;
  tags: string[];
  repoDigests: string[];
  config: string;
  /** Layer digests in the order of the image's rootfs. */
  layers: string[];
  /** Uncompressed bytes of its layers. */
  size: number;
}
export interface BundleRepo {
  name: string;
  part: string;
  /** Full ref name → commit (or tag object) id. */
  refs: Record<string, string>;
  /** The branch checked out on install. */
  head: string;
}
export interface BundleCatalog extends BundleRepo { templates: { name: string; versions: string[] }[] }
export interface BundleStack { name: string; template: string; catalog: string; versions: string[] }
export interface BundleManifest {
  format: typeof FORMAT;
  createdAt: string;
  berth: { version: string };
  compression: 'gzip';
  parts: BundlePart[];
  images: BundleImage[];
  layers: BundleLayer[];
  catalogs: BundleCatalog[];
  environment?: BundleRepo;
  stacks: BundleStack[];
}

const digest = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' };
const part = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$', maxLength: 100 };
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' };
const size = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const text = (max = 256) => ({ type: 'string', maxLength: max });
const list = (items: object, max = 100_000) => ({ type: 'array', items, maxItems: max });
const obj = (properties: Record<string, object>, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });
const ref = '^refs/(heads|tags)/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$';
const repo = {
  name, part,
  refs: { type: 'object', propertyNames: { pattern: ref, maxLength: 200 }, additionalProperties: { type: 'string', pattern: '^[0-9a-f]{40}$' }, maxProperties: 10_000 },
  head: { type: 'string', pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$', maxLength: 200 },
};
const SCHEMA = obj({
  format: { const: FORMAT },
  createdAt: text(64),
  berth: obj({ version: text(64) }),
  compression: { const: 'gzip' },
  parts: list(obj({ name: part, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, size })),
  images: list(obj({ id: digest, tags: list(text(512), 1000), repoDigests: list(text(512), 1000), config: part, layers: list(digest, 1000), size })),
  layers: list(obj({ digest, part, size })),
  catalogs: list(obj({ ...repo, templates: list(obj({ name, versions: list(text(128), 10_000) })) }), 100),
  environment: obj(repo),
  stacks: list(obj({ name, template: name, catalog: name, versions: list(text(128), 10_000) }), 10_000),
}, ['format', 'createdAt', 'berth', 'compression', 'parts', 'images', 'layers', 'catalogs', 'stacks']);

let validate: ValidateFunction | undefined;

/** Parses and checks the manifest's bytes, including that every part it names is listed once with a hash. */
export function parseManifest(bytes: Buffer): BundleManifest {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new BundleError('BUNDLE_MANIFEST_INVALID', `the manifest (${MANIFEST_PART}) is not JSON: ${(e as Error).message}`, { part: MANIFEST_PART });
  }
  const format = (data as { format?: unknown })?.format;
  if (typeof format === 'string' && format !== FORMAT && format.startsWith('berth-bundle/')) {
    throw new BundleError('BUNDLE_FORMAT_UNSUPPORTED', `the bundle is in format ${format}; this Berth reads ${FORMAT}`, { part: MANIFEST_PART, hint: 'Upgrade Berth to the version the vendor names for this bundle.' });
  }
  validate ??= new Ajv({ allErrors: false, strict: true }).compile(SCHEMA);
  if (!validate(data)) {
    const e = validate.errors?.[0];
    throw new BundleError('BUNDLE_MANIFEST_INVALID', `the manifest (${MANIFEST_PART}) is not a Berth bundle manifest: ${e?.instancePath || '/'} ${e?.message ?? ''}`, { part: MANIFEST_PART });
  }
  const m = data as BundleManifest;
  checkReferences(m);
  return m;
}

function checkReferences(m: BundleManifest): void {
  const parts = new Set<string>();
  for (const p of m.parts) {
    if (parts.has(p.name) || p.name === MANIFEST_PART || p.name === SIGNATURE_PART) throw invalid(`part ${p.name} is listed twice or is reserved`);
    parts.add(p.name);
  }
  const layers = new Set(m.layers.map((l) => l.digest));
  for (const l of m.layers) if (!parts.has(l.part)) throw invalid(`layer ${l.digest} names part ${l.part}, which is not listed`);
  for (const i of m.images) {
    if (!parts.has(i.config)) throw invalid(`image ${i.id} names config part ${i.config}, which is not listed`);
    for (const l of i.layers) if (!layers.has(l)) throw invalid(`image ${i.id} needs layer ${l}, which the bundle does not hold`);
  }
  for (const r of [...m.catalogs, ...(m.environment ? [m.environment] : [])]) {
    if (!parts.has(r.part)) throw invalid(`repository ${r.name} names part ${r.part}, which is not listed`);
    if (!r.refs[`refs/heads/${r.head}`]) throw invalid(`repository ${r.name} checks out ${r.head}, which it does not carry`);
  }
}

function invalid(what: string): BundleError {
  return new BundleError('BUNDLE_MANIFEST_INVALID', `the manifest (${MANIFEST_PART}) is inconsistent: ${what}`, { part: MANIFEST_PART });
}
