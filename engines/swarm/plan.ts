/**
 * The Swarm plan: per service create / update / remove / keep, and the networks, configs and secrets around them,
 * each with its cause and, for an update, the fields that changed — the desired spec compared with the service's
 * current spec, so a change made by hand (drift) is seen as well as a change in Git. Pure.
 */
import { serviceOrder } from '../standalone/plan.ts';
import type { DesiredStack } from '../standalone/types.ts';
import type { FieldChange, HostPlan, Operation, Plan, SwarmSpecJson } from '../plan-types.ts';
import { isEmpty, NAMESPACE_LABEL, objectName, serviceName, serviceSpec, SPEC_HASH_LABEL, swarmProblems } from './spec.ts';
import type { SwarmObserved } from './types.ts';

const MAX_TEXT = 60;
/**
 * Objects whose every key is Berth's, so a key Berth no longer sets (a placement limit taken out of the template)
 * is a change named by its field; elsewhere Swarm adds defaults of its own.
 */
const WHOLE = /(Labels|Options|Sysctls|Placement)$/;

function show(v: unknown): string {
  if (isEmpty(v)) return '(none)';
  const t = typeof v === 'string' ? v : JSON.stringify(v);
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
}

/**
 * Fields of `want` that `have` does not match. Only the keys Berth sets are compared — Swarm fills in defaults of
 * its own — and an empty value matches an absent one. Lists are compared whole.
 */
export function specChanges(want: unknown, have: unknown, at = ''): FieldChange[] {
  const blank = (v: unknown) => isEmpty(v) || v === 0;
  if (blank(want) && blank(have)) return [];
  const plain = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (plain(want) && (plain(have) || have === undefined)) {
    const w = want as Record<string, unknown>;
    const h = (have ?? {}) as Record<string, unknown>;
    const keys = WHOLE.test(at) ? [...new Set([...Object.keys(w), ...Object.keys(h)])] : Object.keys(w);
    return keys.sort().flatMap((k) => specChanges(w[k], h[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(want) === JSON.stringify(have) ? [] : [{ field: at, from: show(have), to: show(want) }];
}

/** Labels Swarm sets on its own are not Berth's to compare. */
function comparable(spec: SwarmSpecJson): SwarmSpecJson {
  const labels = { ...((spec.Labels as Record<string, string>) ?? {}) };
  delete labels[SPEC_HASH_LABEL];
  return { ...spec, Labels: labels };
}

function serviceOps(host: string, desired: DesiredStack, observed: SwarmObserved): Operation[] {
  const share = desired.hosts[host];
  const byName = new Map(observed.services.map((s) => [s.service, s]));
  const ops: Operation[] = [];
  for (const name of serviceOrder(desired.model).filter((s) => share.services[s])) {
    const d = share.services[name];
    const spec = serviceSpec(d.model, desired.model, desired.name, d.files, desired.owner);
    const have = byName.get(name);
    if (!have) {
      ops.push({ kind: 'create-service', host, service: name, spec, cause: 'not found' });
      continue;
    }
    const changes = specChanges(comparable(spec), comparable(have.spec));
    const hash = (spec.Labels as Record<string, string>)[SPEC_HASH_LABEL];
    if (!changes.length && have.hash === hash) {
      ops.push({ kind: 'keep-service', host, service: name, id: have.id, cause: 'up to date' });
      continue;
    }
    const cause = have.hash === undefined ? 'adopted: made without Berth (docker stack deploy)'
      : have.hash === hash ? `changed outside Berth: ${changes.map((c) => c.field).join(', ')}` : `spec changed: ${changes.map((c) => c.field).join(', ') || 'labels'}`;
    ops.push({ kind: 'update-service', host, service: name, id: have.id, version: have.version, spec, changes, cause });
  }
  for (const s of observed.services.filter((x) => !share.services[x.service])) ops.push({ kind: 'remove-service', host, service: s.service, id: s.id, cause: desired.removed ?? 'no longer in the stack' });
  return ops;
}

/** Content-hashed names of the configs and secrets the services mount: a changed content is a new object. */
function wantedObjects(desired: DesiredStack, host: string): { object: 'config' | 'secret'; name: string; source: string }[] {
  const out = new Map<string, { object: 'config' | 'secret'; name: string; source: string }>();
  for (const d of Object.values(desired.hosts[host].services)) {
    for (const [object, mounts] of [['config', d.model.configs], ['secret', d.model.secrets]] as const) {
      for (const m of mounts) {
        const name = objectName(desired.name, m.source, d.files[m.source] ?? '');
        out.set(`${object}:${name}`, { object, name, source: m.source });
      }
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function wantedNetworks(desired: DesiredStack, host: string) {
  const keys = new Set(Object.values(desired.hosts[host].services).flatMap((d) => Object.keys(d.model.networks)));
  return [...keys].sort().map((k) => desired.model.networks[k]).filter((n) => n && !n.external);
}

function targetPlan(desired: DesiredStack, observed: SwarmObserved, host: string): HostPlan {
  if (!observed.reachable) return { host, error: `unreachable: ${observed.error ?? 'no reason given'}`, operations: [] };
  // Two environments naming one stack on one Swarm would undo each other's deploys on every tick.
  const owner = desired.owner ? observed.services.map((s) => s.owner).find((o) => o !== undefined && o !== desired.owner) : undefined;
  if (owner) return { host, ownedBy: owner, error: `stack ${desired.name} on swarm ${host} is owned by environment ${owner}: not touched`, operations: [] };
  // A removed stack file prunes only what this environment deployed: a service without its label may be anyone's.
  if (desired.removed && observed.services.some((s) => s.owner !== desired.owner)) {
    return { host, error: `stack ${desired.name} on swarm ${host} has services this environment did not label as its own: not removed`, operations: [] };
  }
  const gone = desired.removed ?? 'no longer used';
  const nets = wantedNetworks(desired, host);
  const objects = wantedObjects(desired, host);
  const haveObject = (o: { object: string; name: string }) => (o.object === 'config' ? observed.configs : observed.secrets).some((x) => x.name === o.name);
  const ops: Operation[] = [
    ...nets.filter((n) => !observed.networks.some((x) => x.name === n.name)).map((network): Operation => ({ kind: 'create-network', host, network, cause: 'not found' })),
    ...objects.filter((o) => !haveObject(o)).map((o): Operation => ({ kind: 'create-object', host, ...o, cause: 'new content' })),
    ...serviceOps(host, desired, observed),
  ];
  const stale = (kind: 'config' | 'secret', list: SwarmObserved['configs']) =>
    list.filter((x) => x.labels[NAMESPACE_LABEL] === desired.name && !objects.some((o) => o.object === kind && o.name === x.name))
      .map((x): Operation => ({ kind: 'remove-object', host, object: kind, name: x.name, id: x.id, cause: gone }));
  ops.push(...stale('config', observed.configs), ...stale('secret', observed.secrets));
  for (const n of observed.networks.filter((x) => !nets.some((w) => w.name === x.name))) ops.push({ kind: 'remove-network', host, network: n.name, cause: gone });
  return { host, operations: ops };
}

export function planSwarm(desired: DesiredStack, observed: SwarmObserved): Plan {
  const host = observed.swarm;
  const errors = Object.values(desired.hosts[host]?.services ?? {}).flatMap((d) => swarmProblems(d.model).map((p) => `service "${d.model.name}": ${p.key}: ${p.message}`));
  if (!desired.hosts[host]) errors.push(`the desired state has no share for swarm ${host}`);
  if (errors.length) return { stack: desired.name, source: desired.source, hosts: [{ host, operations: [] }], errors };
  return { stack: desired.name, source: desired.source, hosts: [targetPlan(desired, observed, host)], errors: [] };
}

export { serviceName };
