/**
 * A host's share of a stack as the ledger keeps it: the rendered compose of the services placed there, every
 * image pinned to what actually runs, and no secret in clear — each secret answer is written as the compose
 * variable `${BERTH_SECRET_<variable>}` and given back through interpolation when the file is read.
 */
import { randomBytes } from 'node:crypto';
import type { StackModel } from '../catalog/model.ts';
import { modelToYaml, yamlToModel } from '../catalog/compose-yaml.ts';
import type { EngineDriver, ImageIdentity } from '../engines/standalone/driver.ts';
import { unpinnedRef } from '../engines/standalone/hash.ts';
import { UserError } from '../lib/errors.ts';
import { assembleDesired, type DesiredOptions } from '../engines/standalone/desired.ts';
import { selectHosts, type Environment } from '../environment/environment.ts';
import type { HashAs } from '../engines/standalone/hash.ts';
import { recordFromYaml, type ServiceRecord } from './record.ts';
import type { PlacedReplica } from '../engines/standalone/placement.ts';
import type { DesiredHost, DesiredStack, ObservedHost } from '../engines/standalone/types.ts';
import type { HostSpec, StackSpec } from '../environment/types.ts';

export const SECRET_PREFIX = 'BERTH_SECRET_';

/** `docker.io/library/nginx`, `library/nginx` and `nginx` are one repository. */
function normalRepo(repo: string): string {
  return repo.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/** `localhost:5000/app:1` → `localhost:5000/app` (a colon before the last slash is a port, not a tag). */
export function repoOf(ref: string): string {
  return unpinnedRef(ref).replace(/@sha256:.*$/, '').replace(/:[^/:]*$/, '');
}

/**
 * The reference that names exactly the running image: `repo:tag@<repo digest>` when the image came from (or went
 * to) the reference's repository, else the image ID — a locally loaded image has no repo digest.
 */
export function pinnedRef(ref: string, image: ImageIdentity | undefined): { ref: string; digest?: string } {
  if (!image) return { ref };
  const base = unpinnedRef(ref);
  const repo = normalRepo(repoOf(base));
  const digest = base.startsWith('sha256:') ? undefined : image.repoDigests.find((d) => normalRepo(d.split('@')[0]) === repo)?.split('@')[1];
  return digest ? { ref: `${base}@${digest}`, digest } : { ref: image.id };
}

/** The services of `model` named, with the networks, volumes, secrets and configs they use. */
export function modelFor(model: StackModel, services: string[]): StackModel {
  const picked = services.map((s) => model.services[s]);
  const keep = <T>(all: Record<string, T>, used: Iterable<string>) => Object.fromEntries([...new Set(used)].filter((k) => all[k]).sort().map((k) => [k, all[k]]));
  return {
    name: model.name,
    services: Object.fromEntries(picked.map((s) => [s.name, s])),
    networks: keep(model.networks, picked.flatMap((s) => Object.keys(s.networks))),
    volumes: keep(model.volumes, picked.flatMap((s) => s.volumes.flatMap((m) => (m.type === 'volume' && m.source ? [m.source] : [])))),
    secrets: keep(model.secrets, picked.flatMap((s) => s.secrets.map((m) => m.source))),
    configs: keep(model.configs, picked.flatMap((s) => s.configs.map((m) => m.source))),
  };
}

function mapStrings(v: unknown, fn: (s: string) => string): unknown {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, fn));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, fn)]));
  return v;
}

/**
 * The compose text of `model` with each secret answer's value replaced by `${BERTH_SECRET_<variable>}`. The
 * replacement is done on the model's strings with alphanumeric markers (which modelToYaml leaves alone, while
 * it escapes every real `$`), then the markers become the placeholders in the text.
 */
export function composeText(model: StackModel, secretAnswers: Record<string, string>): string {
  const nonce = randomBytes(8).toString('hex');
  const entries = Object.entries(secretAnswers).filter(([, v]) => v !== '').sort((a, b) => b[1].length - a[1].length);
  const markers = entries.map(([variable], i) => [`BERTHSECRET${nonce}X${i}X`, variable] as const);
  const hide = (s: string) => entries.reduce((text, [, value], i) => text.split(value).join(markers[i][0]), s);
  let text = modelToYaml(mapStrings(model, hide) as StackModel);
  for (const [marker, variable] of markers) text = text.split(marker).join(`\${${SECRET_PREFIX}${variable}}`);
  return text;
}

/** Variables a ledger compose file asks for. */
export function secretPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{BERTH_SECRET_([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))].sort();
}

/**
 * What each service placed on the host runs now, read back after the apply: its image ID (the running
 * containers' — the one the desired reference resolves to when replicas disagree mid-rollout) and repo digests.
 */
/** `seen`: the host as just observed, when nothing has changed on it since (spares the engine a second look). */
export async function runningImages(driver: EngineDriver, stack: string, d: DesiredHost, seen?: ObservedHost): Promise<Record<string, ServiceRecord & { pinned: string }>> {
  const refs = Object.values(d.services).map((s) => s.model.image);
  const observed = seen?.reachable && refs.every((r) => seen.images?.[r] !== undefined) ? seen : await driver.observe(stack, { images: refs });
  const chosen: Record<string, string | undefined> = {};
  for (const [name, svc] of Object.entries(d.services)) {
    const ids = [...new Set(observed.containers.filter((c) => c.service === name && c.state === 'running').map((c) => c.imageId))];
    const wanted = observed.images?.[svc.model.image];
    chosen[name] = ids.includes(wanted ?? '') ? wanted : (ids[0] ?? wanted);
  }
  const ids = Object.values(chosen).filter((x): x is string => !!x);
  const identities = driver.imageDigests ? await driver.imageDigests(ids) : Object.fromEntries(ids.map((id) => [id, { id, repoDigests: [] }]));
  const out: Record<string, ServiceRecord & { pinned: string }> = {};
  for (const [name, svc] of Object.entries(d.services)) {
    const image = chosen[name] ? identities[chosen[name]!] ?? { id: chosen[name]!, repoDigests: [] } : undefined;
    const original = typeof svc.config.image === 'string' ? svc.config.image : unpinnedRef(svc.model.image);
    const pin = pinnedRef(original, image);
    const replicas = d.replicas.filter((r) => r.service === name).map((r) => r.number);
    out[name] = { image: original, ...(pin.digest ? { digest: pin.digest } : {}), ...(image ? { image_id: image.id } : {}), replicas, pinned: pin.ref };
  }
  return out;
}

/** A pinned image never changes: pulling it again is pointless, and impossible for a bare image ID. */
function neverRepull(d: DesiredStack): DesiredStack {
  for (const h of Object.values(d.hosts)) {
    for (const svc of Object.values(h.services)) if (svc.model.pull_policy === 'always') svc.model = { ...svc.model, pull_policy: 'missing' };
  }
  return d;
}

type Part = 'services' | 'networks' | 'volumes' | 'secrets' | 'configs';

/** The shares of one stack, read host by host, as one desired stack. */
function merge(spec: StackSpec, source: string, parts: DesiredStack[], extraHosts: HostSpec[]): DesiredStack {
  const union = (key: Part, which: 'model' | 'rendered') => Object.assign({}, ...parts.map((p) => (p[which] ?? p.model)[key]));
  const model = (which: 'model' | 'rendered'): StackModel => ({
    name: spec.name, services: union('services', which), networks: union('networks', which), volumes: union('volumes', which), secrets: union('secrets', which), configs: union('configs', which),
  });
  const hosts: Record<string, DesiredHost> = Object.assign({}, ...parts.map((p) => p.hosts));
  // Hosts the stack selects now but the recorded state did not use: nothing of it may run there.
  for (const h of extraHosts) hosts[h.name] ??= { host: h, services: {}, replicas: [], networks: [], volumes: [] };
  const secretAnswers: Record<string, string> = Object.assign({}, ...parts.map((p) => p.secretAnswers ?? {}));
  return { name: spec.name, model: model('model'), rendered: model('rendered'), source, hosts, secrets: Object.values(secretAnswers), secretAnswers };
}

const COMPOSE = '.compose.yml';

/**
 * The desired state a ledger folder (`deploy.yml` + `<host>.compose.yml`) describes: each host's services
 * exactly as recorded — images pinned, replica numbers as placed then — with `secrets` (variable → value)
 * filling the placeholders. Hosts no longer in the environment are skipped: Berth cannot reach them.
 */
export async function ledgerDesired(env: Environment, spec: StackSpec, files: Record<string, string>, secrets: Record<string, string>, opts: DesiredOptions = {}): Promise<DesiredStack> {
  const record = recordFromYaml(files['deploy.yml'] ?? '', `stacks/${spec.name}/deploy.yml`);
  const composes = Object.entries(files).filter(([f]) => f.endsWith(COMPOSE)).sort(([a], [b]) => a.localeCompare(b));
  const needed = [...new Set(composes.flatMap(([, text]) => secretPlaceholders(text)))];
  const missing = needed.filter((v) => secrets[v] === undefined);
  if (missing.length) {
    throw new UserError('LEDGER_SECRET_MISSING', `the recorded state of stack ${spec.name} needs the secret answer${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which the environment does not have`, {
      data: { stack: spec.name, variables: missing }, hint: `Add ${missing.length > 1 ? 'them' : 'it'} to answers in ${spec.file} (berth secret encrypt), or roll back to another commit.`,
    });
  }
  const used = Object.fromEntries(needed.map((v) => [v, secrets[v]]));
  const vars = Object.fromEntries(needed.map((v) => [`${SECRET_PREFIX}${v}`, secrets[v]]));
  const source = `${record.template}@${record.version}`;
  const parts: DesiredStack[] = [];
  for (const [file, text] of composes) {
    const host = env.hosts.find((h) => h.name === file.slice(0, -COMPOSE.length));
    if (!host) continue;
    const recorded = record.hosts[host.name]?.services ?? {};
    const model = yamlToModel(text, spec.name, `ledger:stacks/${spec.name}/${file}`, vars);
    const placement: Record<string, PlacedReplica[]> = {};
    const hashAs: Record<string, HashAs> = {};
    for (const [name, svc] of Object.entries(model.services)) {
      placement[name] = (recorded[name]?.replicas ?? []).map((number) => ({ host: host.name, number }));
      hashAs[name] = { image: recorded[name]?.image ?? svc.image };
    }
    parts.push(neverRepull(await assembleDesired(env, spec, { model, source, secretAnswers: used, hosts: [host], placement, hashAs }, opts)));
  }
  return merge(spec, source, parts, selectHosts(env.hosts, spec.hosts));
}
