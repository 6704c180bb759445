/**
 * A host's share of a stack as the ledger keeps it: the rendered compose of the services placed there, every
 * image pinned to what actually runs, and no secret in clear — each secret answer is written as the compose
 * variable `${BERTH_SECRET_<variable>}` and given back through interpolation when the file is read.
 */
import { randomBytes } from 'node:crypto';
import type { StackModel } from '../catalog/model.ts';
import { modelToYaml, yamlToModel } from '../catalog/compose-yaml.ts';
import { UserError } from '../lib/errors.ts';
import { assembleDesired, type DesiredOptions } from '../engines/standalone/desired.ts';
import type { Environment } from '../environment/environment.ts';
import { stackTargets } from '../engines/targets.ts';
import type { HashAs } from '../engines/standalone/hash.ts';
import { recordFromYaml } from './record.ts';
import type { PlacedReplica } from '../engines/standalone/placement.ts';
import type { DesiredHost, DesiredStack } from '../engines/standalone/types.ts';
import type { HostSpec, StackSpec } from '../environment/types.ts';

export const SECRET_PREFIX = 'BERTH_SECRET_';

export { pinnedRef, repoOf } from '../engines/docker/pinned.ts';

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
  // The stack's targets now: its Swarm, or every host (a host the selector dropped still gets its recorded share).
  const targets = spec.swarm === undefined ? env.hosts : stackTargets(env, spec);
  for (const [file, text] of composes) {
    const host = targets.find((h) => h.name === file.slice(0, -COMPOSE.length));
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
  return merge(spec, source, parts, stackTargets(env, spec));
}
