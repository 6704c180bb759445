/**
 * Same-file `extends`: a service starts from another service of the document and overrides it, with compose's
 * merge rules — mappings merge key by key (list-form environment, labels, sysctls and extra_hosts count as
 * mappings), volumes and devices merge by container path, secrets and configs by source, other sequences
 * append without duplicates, and command, entrypoint and scalars are replaced. `extends.file` stays refused:
 * a template version is one file.
 */
import { isObject, obj, show, text, type Issues, type Raw } from './normalize-values.ts';

const AS_MAPPING = new Set(['environment', 'labels', 'sysctls', 'extra_hosts', 'annotations']);
const REPLACED = new Set(['command', 'entrypoint']);
const BY_TARGET: Record<string, (item: unknown) => string> = {
  volumes: (v) => (isObject(v) ? text(v.target) : (text(v).split(':')[1] ?? text(v).split(':')[0])),
  devices: (v) => (isObject(v) ? text(v.target || v.source) : (text(v).split(':')[1] ?? text(v).split(':')[0])),
  secrets: (v) => (isObject(v) ? text(v.source) : text(v)),
  configs: (v) => (isObject(v) ? text(v.source) : text(v)),
};

/** `[K=V, K]` or a mapping → a mapping (a bare K maps to null, as compose reads it). */
function toMapping(v: unknown, sep = '='): Raw {
  if (!Array.isArray(v)) return obj(v);
  return Object.fromEntries(v.map((item) => {
    const s = text(item);
    const at = s.indexOf(sep);
    return at < 0 ? [s, null] : [s.slice(0, at), s.slice(at + 1)];
  }));
}

function mergeList(key: string, base: unknown[], over: unknown[]): unknown[] {
  const id = BY_TARGET[key];
  if (id) {
    const merged = new Map(base.map((item) => [id(item), item]));
    for (const item of over) merged.set(id(item), item);
    return [...merged.values()];
  }
  const seen = new Set(base.map((x) => JSON.stringify(x)));
  return [...base, ...over.filter((x) => !seen.has(JSON.stringify(x)))];
}

function mergeValue(key: string, base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (REPLACED.has(key) || base === undefined) return over;
  if (AS_MAPPING.has(key)) return { ...toMapping(base, key === 'extra_hosts' ? ':' : '='), ...toMapping(over, key === 'extra_hosts' ? ':' : '=') };
  if (key === 'depends_on') return { ...dependsMap(base), ...dependsMap(over) };
  if (Array.isArray(base) && Array.isArray(over)) return mergeList(key, base, over);
  if (isObject(base) && isObject(over)) return mergeMaps(base, over);
  return over;
}

function dependsMap(v: unknown): Raw {
  return Array.isArray(v) ? Object.fromEntries(v.map((s) => [text(s), { condition: 'service_started' }])) : obj(v);
}

function mergeMaps(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v);
  return out;
}

/** The document with every same-file `extends` resolved (chains too); cycles and unknown services are problems. */
export function resolveExtends(is: Issues, doc: Raw): Raw {
  const services = obj(doc.services);
  if (!Object.values(services).some((s) => isObject(s) && s.extends !== undefined)) return doc;
  const done = new Map<string, Raw>();
  const resolve = (name: string, chain: string[]): Raw => {
    const cached = done.get(name);
    if (cached) return cached;
    const raw = obj(services[name]);
    const ext = raw.extends;
    if (ext === undefined) return raw;
    const { extends: _e, ...own } = raw;
    const spec = isObject(ext) ? ext : { service: ext };
    const base = text(spec.service);
    let result = own;
    if (spec.file !== undefined) {
      // Kept as written: the unsupported-keys table reports extends.file.
      result = raw;
    } else if (chain.includes(base) || base === name) {
      is.add(['services', name, 'extends'], `forms a cycle: ${[...chain, name, base].join(' → ')}`);
    } else if (!isObject(services[base])) {
      is.add(['services', name, 'extends', 'service'], `${show(base)} is not a service of this document`);
    } else {
      result = mergeMaps(resolve(base, [...chain, name]), own);
    }
    done.set(name, result);
    return result;
  };
  const resolved = Object.fromEntries(Object.keys(services).map((n) => [n, resolve(n, [])]));
  return { ...doc, services: resolved };
}
