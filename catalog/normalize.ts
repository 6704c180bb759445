/**
 * A compose document → StackModel: validated against the Compose schema, short forms made long, defaults
 * explicit, references checked (named volumes, networks, secrets, configs, depends_on and its cycles).
 * Top-level networks, volumes, secrets and configs are named `<stack>_<key>` on the host unless `name:` is
 * given or the object is external (then its key, or `name:`). Every problem is reported at once, as a
 * ValidationError('COMPOSE_INVALID') whose problems carry `field` paths; the renderer adds lines.
 */
import { ValidationError } from '../lib/errors.ts';
import type { FileObjectModel, NetworkModel, ServiceModel, StackModel, VolumeModel } from './model.ts';
import { bool, dict, isObject, obj, show, text, Issues, type Path, type Raw } from './normalize-values.ts';
import { normalizeService } from './normalize-service.ts';
import { reportUnsupported } from './normalize-unsupported.ts';
import { validateCompose } from './schema.ts';
import { resolveExtends } from './extends.ts';

export { UNSUPPORTED_KEYS } from './normalize-unsupported.ts';

export function normalizeCompose(doc: unknown, stack: string, file: string): StackModel {
  const is = new Issues(file);
  // Before the schema: a service that extends another may leave out what the base gives (its image).
  const resolved = isObject(doc) ? resolveExtends(is, doc) : doc;
  const schemaProblems = validateCompose(resolved, file);
  if (schemaProblems.length || is.problems.length) throw invalid(file, [...schemaProblems, ...is.problems]);
  const raw = obj(resolved);
  reportUnsupported(is, raw);
  const services = Object.fromEntries(Object.entries(obj(raw.services)).map(([name, s]) => [name, normalizeService(is, name, obj(s))]));
  const model: StackModel = {
    name: stack,
    services,
    networks: networks(is, stack, raw.networks, services),
    volumes: mapEntries(raw.volumes, (key, v) => volume(is, ['volumes', key], stack, key, v)),
    secrets: mapEntries(raw.secrets, (key, v) => fileObject(is, ['secrets', key], stack, key, v)),
    configs: mapEntries(raw.configs, (key, v) => fileObject(is, ['configs', key], stack, key, v)),
    // compose's project name; the stack's own name (its file in the environment) is what Berth deploys under.
    ...(raw.name === undefined ? {} : { compose_name: text(raw.name) }),
  };
  checkReferences(is, model);
  checkCycles(is, model);
  if (is.problems.length) throw invalid(file, is.problems);
  return model;
}

function invalid(file: string, problems: ValidationError['problems']): ValidationError {
  return new ValidationError('COMPOSE_INVALID', `${file}: the compose document is not valid for Berth`, problems);
}

function mapEntries<T>(v: unknown, fn: (key: string, value: Raw) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(obj(v)).map(([key, value]) => [key, fn(key, obj(value))]));
}

/** `external: true`, `external: { name }` (deprecated spelling of `name`) or absent. */
function external(is: Issues, path: Path, raw: Raw): { external: boolean; name?: string } {
  if (isObject(raw.external)) return { external: true, ...(raw.external.name === undefined ? {} : { name: text(raw.external.name) }) };
  return { external: bool(is, [...path, 'external'], raw.external, false) };
}

function hostName(stack: string, key: string, raw: Raw, ext: { external: boolean; name?: string }): string {
  if (raw.name !== undefined) return text(raw.name);
  return ext.name ?? (ext.external ? key : `${stack}_${key}`);
}

function networks(is: Issues, stack: string, v: unknown, services: Record<string, ServiceModel>): Record<string, NetworkModel> {
  const out = mapEntries(v, (key, raw) => network(is, ['networks', key], stack, key, raw));
  if (!out.default && Object.values(services).some((s) => 'default' in s.networks)) out.default = network(is, ['networks', 'default'], stack, 'default', {});
  return out;
}

function network(is: Issues, path: Path, stack: string, key: string, raw: Raw): NetworkModel {
  const ext = external(is, path, raw);
  const ipam = obj(raw.ipam);
  return {
    name: hostName(stack, key, raw, ext),
    external: ext.external,
    driver: raw.driver === undefined ? 'bridge' : text(raw.driver),
    driver_opts: dict(raw.driver_opts, 'empty', is, [...path, 'driver_opts']),
    internal: bool(is, [...path, 'internal'], raw.internal, false),
    attachable: bool(is, [...path, 'attachable'], raw.attachable, false),
    labels: dict(raw.labels, 'empty', is, [...path, 'labels']),
    ...(raw.ipam === undefined ? {} : {
      ipam: {
        ...(ipam.driver === undefined ? {} : { driver: text(ipam.driver) }),
        config: (Array.isArray(ipam.config) ? ipam.config : []).map((c) => {
          const o = obj(c);
          return Object.fromEntries(['subnet', 'gateway', 'ip_range'].filter((k) => o[k] !== undefined).map((k) => [k, text(o[k])]));
        }),
      },
    }),
  };
}

function volume(is: Issues, path: Path, stack: string, key: string, raw: Raw): VolumeModel {
  const ext = external(is, path, raw);
  return {
    name: hostName(stack, key, raw, ext),
    external: ext.external,
    driver: raw.driver === undefined ? 'local' : text(raw.driver),
    driver_opts: dict(raw.driver_opts, 'empty', is, [...path, 'driver_opts']),
    labels: dict(raw.labels, 'empty', is, [...path, 'labels']),
  };
}

/** A secret or config: exactly one of file (kept as written, relative to the environment root), content, environment, external. */
function fileObject(is: Issues, path: Path, stack: string, key: string, raw: Raw): FileObjectModel {
  const ext = external(is, path, raw);
  const sources = ['file', 'content', 'environment'].filter((k) => raw[k] !== undefined);
  if (sources.length + (ext.external ? 1 : 0) !== 1) {
    is.add(path, `needs exactly one of file, content, environment or external: true${sources.length ? `, got ${sources.join(' and ')}${ext.external ? ' and external' : ''}` : ''}`);
  }
  return {
    name: hostName(stack, key, raw, ext),
    ...Object.fromEntries(sources.map((k) => [k, text(raw[k])])),
    external: ext.external,
  };
}

function checkReferences(is: Issues, model: StackModel): void {
  for (const [name, svc] of Object.entries(model.services)) {
    const at = (key: string): Path => ['services', name, key];
    svc.volumes.forEach((m) => {
      if (m.type === 'volume' && m.source !== undefined && !model.volumes[m.source]) is.add(at('volumes'), `named volume ${show(m.source)} is not declared under the top-level volumes`);
    });
    for (const net of Object.keys(svc.networks)) if (!model.networks[net]) is.add(at('networks'), `network ${show(net)} is not declared under the top-level networks`);
    for (const kind of ['secrets', 'configs'] as const) {
      for (const m of svc[kind]) if (!model[kind][m.source]) is.add(at(kind), `${kind.slice(0, -1)} ${show(m.source)} is not declared under the top-level ${kind}`);
    }
    checkPeers(is, model, name, svc);
  }
}

/** Services a service names (depends_on, shared namespaces, volumes_from, links) exist; a healthy wait needs a healthcheck. */
function checkPeers(is: Issues, model: StackModel, name: string, svc: ServiceModel): void {
  const at = (key: string): Path => ['services', name, key];
  const named = new Set<string>();
  const need = (key: string, peer: string | undefined, what: string) => {
    if (peer === undefined || model.services[peer]) return;
    named.add(peer);
    is.add(at(key), `${what} names unknown service ${show(peer)}`);
  };
  for (const key of ['network_mode', 'ipc', 'pid'] as const) need(key, /^service:(.+)$/.exec(svc[key] ?? '')?.[1], key);
  for (const v of svc.volumes_from ?? []) if (v.kind === 'service') need('volumes_from', v.name, 'volumes_from');
  for (const l of svc.links ?? []) need('links', l.service, 'links');
  for (const [dep, d] of Object.entries(svc.depends_on)) {
    if (!model.services[dep]) {
      if (!named.has(dep)) is.add(at('depends_on'), `${show(dep)} is not a service of this document`);
    } else if (d.condition === 'service_healthy' && model.services[dep].healthcheck?.test[0] === 'NONE') {
      is.add(['services', name, 'depends_on', dep], `waits for ${show(dep)} to be healthy, but service ${show(dep)} disables its healthcheck; add one to ${show(dep)} or use condition: service_started`);
    }
  }
}

/** Reports each depends_on cycle once, as `a → b → a`. */
function checkCycles(is: Issues, model: StackModel): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of Object.keys(model.services[name]?.depends_on ?? {})) {
      if (!model.services[dep]) continue;
      if (state.get(dep) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        const id = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!seen.has(id)) is.add(['services', dep, 'depends_on'], `forms a cycle: ${cycle.join(' → ')}`);
        seen.add(id);
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(model.services)) if (!state.has(name)) visit(name);
}
