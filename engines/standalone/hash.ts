/**
 * The config hash decides when a container is recreated, and the masked config stored beside it lets a later
 * plan say which fields changed. Both are pure functions of the desired model, so the same input always gives
 * the same hash on any machine.
 */
import { mask as maskText } from '../../lib/mask.ts';
import { createHash } from 'node:crypto';
import type { ServiceModel, StackModel } from '../../catalog/model.ts';
import type { FieldChange } from './types.ts';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level and undefined dropped, so equal data always hashes equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `repo:tag@sha256:…` → `repo:tag`. Which image a pinned reference names is the plan's business (it compares
 * image IDs), so pinning a running image by its digest must not by itself change the hash and recreate it.
 */
export function unpinnedRef(ref: string): string {
  return ref.replace(/@sha256:[0-9a-f]{64}$/, '');
}

/** What the ledger pinned, hashed as rendered (see serviceConfig's `hashAs`). */
export type HashAs = Partial<Pick<ServiceModel, 'image'>>;

/** Scale, rollout and placement are properties of the stack, not of one container: changing them must not recreate the others. */
function containerFields(service: ServiceModel, as: HashAs = {}): Record<string, unknown> {
  // Swarm-only fields: a single host's container does not change with them (restart is hashed as `restart`).
  const { replicas: _r, update_config: _u, placement: _p, restart_condition: _c, ...deploy } = service.deploy;
  return { ...service, image: unpinnedRef(as.image ?? service.image), deploy };
}

function usedDefinitions(service: ServiceModel, stack: StackModel): { networks: Record<string, unknown>; volumes: Record<string, unknown> } {
  const networks: Record<string, unknown> = {};
  for (const key of Object.keys(service.networks)) if (stack.networks[key]) networks[key] = stack.networks[key];
  const volumes: Record<string, unknown> = {};
  for (const m of service.volumes) {
    if (m.type === 'volume' && m.source !== undefined && stack.volumes[m.source]) volumes[m.source] = stack.volumes[m.source];
  }
  return { networks, volumes };
}

function maskedText(value: string): string {
  return `sha256:${sha256(value).slice(0, 12)}`;
}

/** Any string holding a secret becomes the short hash of that whole string: still shows *that* it changed, never *what* it is. */
function mask(value: unknown, secrets: string[]): unknown {
  if (typeof value === 'string') return maskText(value, secrets) !== value ? maskedText(value) : value;
  if (Array.isArray(value)) return value.map((v) => mask(v, secrets));
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [maskText(k, secrets) !== k ? maskedText(k) : k, mask(v, secrets)]));
}

/**
 * `secretEnv` names environment variables masked whatever their value: those read from env files, which often
 * hold credentials Berth has no question for (a value like "1" can't be masked by search-and-replace).
 * `hashAs.image` is the reference as rendered when the ledger pinned it to an image ID (`sha256:…` keeps no
 * tag to strip), so a rollback to the image already running recreates nothing.
 */
export function serviceConfig(
  service: ServiceModel,
  stack: StackModel,
  files: Record<string, string>,
  secretValues: string[],
  opts: { secretEnv?: string[]; hashAs?: HashAs } = {},
): { hash: string; config: Record<string, unknown> } {
  const contents = Object.fromEntries(Object.entries(files).map(([k, text]) => [k, `sha256:${sha256(text)}`]));
  const full = { ...containerFields(service, opts.hashAs), definitions: usedDefinitions(service, stack), contents };
  const hash = sha256(canonicalJson(full));
  // An empty secret would be "contained" in every string and mask the whole config.
  const secrets = secretValues.filter((s) => s !== '');
  const masked = mask(full, secrets) as Record<string, unknown>;
  const environment = { ...(masked.environment as Record<string, string>) };
  for (const key of opts.secretEnv ?? []) {
    if (Object.hasOwn(service.environment, key)) environment[key] = maskedText(service.environment[key]);
  }
  return { hash, config: sortKeys({ ...masked, environment }) as Record<string, unknown> };
}

const MAX_VALUE = 60;

/** A value as one short line for a plan: strings bare, the rest as JSON, long ones cut. */
export function shortValue(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = typeof v === 'string' ? v : JSON.stringify(sortKeys(v));
  const line = text.replace(/\r?\n/g, '\\n');
  return line.length > MAX_VALUE ? `${line.slice(0, MAX_VALUE - 3)}...` : line;
}

function walk(path: string, a: unknown, b: unknown, out: FieldChange[]): void {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(path ? `${path}.${k}` : k, a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out);
    return;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push({ field: path, from: shortValue(a), to: shortValue(b) });
}

/**
 * The fields that differ between the config stored on a container and the desired one. Without a stored
 * config (a container made by hand or by an older Berth) there is nothing to compare, so one change says so.
 */
export function diffConfigs(old: Record<string, unknown> | undefined, next: Record<string, unknown>, nextHash?: string): FieldChange[] {
  const hash = nextHash ?? sha256(canonicalJson(next));
  if (old === undefined) return [{ field: 'config', from: 'unknown', to: `hash ${hash.slice(0, 12)}` }];
  const out: FieldChange[] = [];
  walk('', old, next, out);
  return out;
}
