/**
 * The plan: what to do on each host to turn what is observed into what is desired, every operation with its
 * cause. Pure — no I/O, no clock, no randomness — so the same inputs always print the same plan, and a plan
 * reviewed is exactly the work that runs.
 */
import type { ServiceModel, StackModel } from '../../catalog/model.ts';
import { diffConfigs } from './hash.ts';
import { fixedPorts } from './container-spec.ts';
import { dependencyCycle } from './gates.ts';
import { recoverReplica } from './recovery.ts';
import type { DesiredHost, DesiredStack, FieldChange, HostPlan, ObservedContainer, ObservedHost, ObservedStack, Operation, Plan } from './types.ts';

export type OperationKind = Operation['kind'];
export const OPERATION_KINDS: readonly OperationKind[] = ['create-network', 'create-volume', 'finish', 'restore', 'create', 'recreate', 'start', 'remove', 'remove-network', 'keep'];

/** What the whole stack needs to decide a removal's cause: where each replica lives now and how many there are. */
interface Context {
  desired: DesiredStack;
  observed: ObservedStack;
  /** `service#number` → host it is desired on. */
  placedOn: Map<string, string>;
  desiredCount: Map<string, number>;
  observedCount: Map<string, number>;
  rank: Map<string, number>;
}

const key = (service: string, number: number) => `${service}#${number}`;

/** Services after the services they depend on, ties by name; a cycle (which compose rejects) falls back to names. */
export function serviceOrder(model: StackModel): string[] {
  const names = Object.keys(model.services).sort();
  const deps = new Map(names.map((n) => [n, Object.keys(model.services[n].depends_on).filter((d) => d !== n && model.services[d])]));
  const done: string[] = [];
  while (done.length < names.length) {
    const ready = names.find((n) => !done.includes(n) && deps.get(n)!.every((d) => done.includes(d)));
    done.push(ready ?? names.find((n) => !done.includes(n))!);
  }
  return done;
}

function context(desired: DesiredStack, observed: ObservedStack): Context {
  const placedOn = new Map<string, string>();
  const desiredCount = new Map<string, number>();
  for (const h of Object.values(desired.hosts)) {
    for (const r of h.replicas) {
      placedOn.set(key(r.service, r.number), h.host.name);
      desiredCount.set(r.service, (desiredCount.get(r.service) ?? 0) + 1);
    }
  }
  const seen = new Set<string>();
  for (const h of Object.values(observed.hosts)) for (const c of h.containers) seen.add(key(c.service, c.number));
  const observedCount = new Map<string, number>();
  for (const k of seen) observedCount.set(k.split('#')[0], (observedCount.get(k.split('#')[0]) ?? 0) + 1);
  const rank = new Map(serviceOrder(desired.model).map((s, i) => [s, i]));
  return { desired, observed, placedOn, desiredCount, observedCount, rank };
}

/** The container to keep among several for one replica: running first, then one already up to date, then the newest. */
function pickKeeper(cs: ObservedContainer[], hash: string | undefined): ObservedContainer {
  const score = (c: ObservedContainer) => [c.state === 'running' ? 0 : 1, c.hash === hash ? 0 : 1];
  return [...cs].sort((a, b) => {
    const [sa, sb] = [score(a), score(b)];
    return sa[0] - sb[0] || sa[1] - sb[1] || (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.id.localeCompare(b.id);
  })[0];
}

function fieldList(changes: FieldChange[]): string {
  if (changes.length === 1 && changes[0].field === 'config' && changes[0].from === 'unknown') return 'no record of the previous config';
  const names = changes.map((c) => c.field);
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ') || 'config hash';
}

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A digest or an image ID names exactly one image: when the host lacks it, no container there can be running it. */
const isPinned = (ref: string) => /(^|@)sha256:[0-9a-f]{64}$/.test(ref);

/**
 * Same config, other image: a tag re-pulled or re-imported since (docker compose recreates here too), or a
 * pinned reference (a rollback) naming another image than the one running. Compared by image ID, so a pinned
 * reference to the running image changes nothing.
 */
function imageOp(ids: { host: string; service: string; number: number; containerId: string }, c: ObservedContainer, ref: string, images: Record<string, string>): Operation | undefined {
  if (!c.imageId || c.state === 'dead') return undefined;
  const now = images[ref] ?? (isPinned(ref) ? undefined : images[c.image]);
  if (now === undefined && isPinned(ref)) {
    const change = { field: 'image', from: `${c.image} (${shortId(c.imageId)})`, to: ref };
    return { kind: 'recreate', ...ids, changes: [change], cause: `image changed: ${ref} is not on the host yet` };
  }
  if (!now || now === c.imageId) return undefined;
  const change = { field: 'image', from: `${c.image} (${shortId(c.imageId)})`, to: `${ref} (${shortId(now)})` };
  return { kind: 'recreate', ...ids, changes: [change], cause: `image changed: ${ref} is now ${shortId(now)}` };
}

/** One desired replica against the container found for it. */
function replicaOp(host: string, service: string, number: number, c: ObservedContainer | undefined, d: DesiredHost, images: Record<string, string>): Operation {
  const svc = d.services[service];
  if (!c) return { kind: 'create', host, service, number, cause: 'not found' };
  const ids = { host, service, number, containerId: c.id };
  if (c.hash !== svc.hash) {
    const changes = diffConfigs(c.config, svc.config, svc.hash);
    return { kind: 'recreate', ...ids, changes, cause: `config changed: ${fieldList(changes)}` };
  }
  const stale = imageOp(ids, c, svc.model.image, images);
  if (stale) return stale;
  switch (c.state) {
    case 'running':
      return { kind: 'keep', ...ids, cause: c.health === 'unhealthy' ? 'up to date (unhealthy)' : 'up to date' };
    case 'exited': {
      // A one-shot job that succeeded: Docker would not restart it either, so starting it again would rerun it.
      const oneShot = svc.model.restart === 'no' || svc.model.restart.startsWith('on-failure');
      if (oneShot && c.exitCode === 0) return { kind: 'keep', ...ids, cause: 'completed' };
      return { kind: 'start', ...ids, cause: c.exitCode === undefined ? 'exited' : `exited with code ${c.exitCode}` };
    }
    case 'created':
      return { kind: 'start', ...ids, cause: 'created but not started' };
    case 'paused':
      return { kind: 'start', ...ids, cause: 'paused' };
    case 'dead':
      // Docker refuses to start a dead container; only a new one helps.
      return { kind: 'recreate', ...ids, changes: [], cause: 'dead: Docker cannot start it again' };
    case 'restarting':
      return { kind: 'keep', ...ids, cause: 'restarting (Docker restart policy)' };
    default:
      return { kind: 'keep', ...ids, cause: 'being removed by Docker' };
  }
}

/** Services that join another's namespace or volumes: they hold on to the peer's container, not its name. */
function joinedPeers(svc: ServiceModel): string[] {
  const ns = [svc.network_mode, svc.ipc, svc.pid].flatMap((m) => /^service:(.+)$/.exec(m ?? '')?.[1] ?? []);
  return [...ns, ...(svc.volumes_from ?? []).flatMap((v) => (v.kind === 'service' ? [v.name] : []))];
}

/**
 * A container that shares the network (or IPC, PID) namespace or the volumes of a peer keeps the old peer's
 * namespace when the peer is replaced — cut off from the network — so it is recreated with it, after it, as
 * compose v2 does. Repeats until nothing changes, for chains (c joins b joins a).
 */
function followPeers(model: StackModel, ops: Operation[]): void {
  for (let changed = true; changed;) {
    changed = false;
    const replaced = new Set(ops.flatMap((op) => (op.kind === 'create' || op.kind === 'recreate' ? [op.service] : [])));
    ops.forEach((op, i) => {
      if (op.kind !== 'keep' && op.kind !== 'start') return;
      const svc = model.services[op.service];
      if (!svc) return;
      const peer = joinedPeers(svc).find((p) => replaced.has(p));
      if (!peer) return;
      const { kind: _k, cause: _c, ...ids } = op;
      ops[i] = { ...ids, kind: 'recreate', changes: [], cause: `joins ${peer}, which is replaced: it must join the new container` };
      changed = true;
    });
  }
}

/** Why a container that has no place on this host goes (or, when its new host is unreachable, stays for now). */
function strayOp(ctx: Context, host: string, c: ObservedContainer): Operation {
  const ids = { host, service: c.service, number: c.number, containerId: c.id };
  const elsewhere = ctx.placedOn.get(key(c.service, c.number));
  if (elsewhere !== undefined) {
    const target = ctx.observed.hosts[elsewhere];
    if (!target?.reachable) return { kind: 'keep', ...ids, cause: `to move to host ${elsewhere} once it is reachable` };
    return { kind: 'remove', ...ids, cause: `moved to host ${elsewhere}` };
  }
  if (ctx.desired.removed) return { kind: 'remove', ...ids, cause: ctx.desired.removed };
  if (!ctx.desired.model.services[c.service]) return { kind: 'remove', ...ids, cause: `orphan: service ${c.service} is no longer in the stack` };
  return { kind: 'remove', ...ids, cause: `scale ${ctx.observedCount.get(c.service) ?? 0} → ${ctx.desiredCount.get(c.service) ?? 0}` };
}

function containerOps(ctx: Context, host: string, d: DesiredHost | undefined, o: ObservedHost): Operation[] {
  const groups = new Map<string, ObservedContainer[]>();
  for (const c of o.containers) groups.set(key(c.service, c.number), [...(groups.get(key(c.service, c.number)) ?? []), c]);
  const ops: Operation[] = [];
  for (const r of d?.replicas ?? []) {
    const recovery = recoverReplica(ctx.desired.name, host, r.service, r.number, groups.get(key(r.service, r.number)) ?? [], d!.services[r.service]);
    groups.delete(key(r.service, r.number));
    ops.push(...recovery.ops);
    const found = recovery.rest;
    const keeper = found.length ? pickKeeper(found, d!.services[r.service].hash) : undefined;
    for (const dup of found.filter((c) => c !== keeper)) {
      ops.push({ kind: 'remove', host, service: r.service, number: r.number, containerId: dup.id, cause: `duplicate of ${keeper!.name}` });
    }
    ops.push(replicaOp(host, r.service, r.number, keeper, d!, o.images ?? {}), ...recovery.leftovers);
  }
  for (const cs of groups.values()) for (const c of cs) ops.push(strayOp(ctx, host, c));
  followPeers(ctx.desired.model, ops);
  const rank = (s: string) => ctx.rank.get(s) ?? ctx.rank.size;
  const sortKey = (op: Operation) => ('number' in op ? [rank(op.service), op.service, op.number] as const : [0, '', 0] as const);
  return ops.sort((a, b) => {
    const [ka, kb] = [sortKey(a), sortKey(b)];
    return ka[0] - kb[0] || ka[1].localeCompare(kb[1]) || ka[2] - kb[2];
  });
}

/** Another environment's containers of the stack on the host: the stack there is theirs, and left alone. */
export function foreignOwner(desired: DesiredStack, o: ObservedHost): string | undefined {
  if (!desired.owner) return undefined;
  return o.containers.map((c) => c.owner).find((owner) => owner !== undefined && owner !== desired.owner);
}

function hostPlan(ctx: Context, host: string, d: DesiredHost | undefined): HostPlan {
  const o = ctx.observed.hosts[host];
  if (!o) return { host, error: 'not observed', operations: [] };
  if (!o.reachable) return { host, error: `unreachable: ${o.error ?? 'no reason given'}`, operations: [] };
  const owner = foreignOwner(ctx.desired, o);
  if (owner) return { host, ownedBy: owner, error: `stack ${ctx.desired.name} here is owned by environment ${owner}: not touched`, operations: [] };
  // A removed stack file prunes only what this environment deployed: a container without its label may be anyone's.
  if (ctx.desired.removed && o.containers.some((c) => c.owner !== ctx.desired.owner)) {
    return { host, error: `stack ${ctx.desired.name} here has containers this environment did not label as its own: not removed`, operations: [] };
  }
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  const haveNet = new Set(o.networks.map((n) => n.name));
  const haveVol = new Set(o.volumes.map((v) => v.name));
  const nets = (d?.networks ?? []).filter((n) => !n.external).sort(byName);
  const vols = (d?.volumes ?? []).filter((v) => !v.external).sort(byName);
  const usedNets = new Set((d?.networks ?? []).map((n) => n.name));
  const unused = o.networks.filter((n) => !usedNets.has(n.name)).sort(byName);
  const unusedCause = ctx.desired.removed ?? 'no longer used';
  const operations: Operation[] = [
    ...nets.filter((n) => !haveNet.has(n.name)).map((network): Operation => ({ kind: 'create-network', host, network, cause: 'not found' })),
    ...vols.filter((v) => !haveVol.has(v.name)).map((volume): Operation => ({ kind: 'create-volume', host, volume, cause: 'not found' })),
    ...containerOps(ctx, host, d, o),
    // Volumes are never removed: they hold data, and deleting data is a person's decision.
    ...unused.filter((n) => !n.users?.length).map((n): Operation => ({ kind: 'remove-network', host, network: n.name, cause: unusedCause })),
  ];
  // Docker refuses to remove a network a container is attached to; apply keeps it, and the plan says so.
  const kept = unused.flatMap(({ name, users = [] }) => (users.length ? [`network ${name} kept: ${unusedCause}, but ${users.join(', ')} outside the stack ${users.length === 1 ? 'is' : 'are'} attached to it`] : []));
  const notes = [...(d ? hostNotes(d, o, operations) : []), ...kept];
  return { host, operations, ...(notes.length ? { notes } : {}) };
}

/**
 * What apply decides on its own that the operations do not show: which images it pulls (when the host was asked
 * about them) and where a start-first update must stop the old container first (fixed host ports, the host
 * network or a fixed container name cannot be held by two containers at once).
 */
function hostNotes(d: DesiredHost, o: ObservedHost, ops: Operation[]): string[] {
  const notes: string[] = [];
  const starting = [...new Set(ops.flatMap((op) => (op.kind === 'create' || op.kind === 'recreate' ? [op.service] : [])))].sort();
  for (const service of starting) {
    const svc = d.services[service]?.model;
    if (!svc) continue;
    if (svc.pull_policy === 'always') notes.push(`pull ${svc.image} for ${service} (pull_policy: always)`);
    else if (o.images && !o.images[svc.image] && svc.pull_policy !== 'never') notes.push(`pull ${svc.image} for ${service}: not on the host`);
    else if (o.images && !o.images[svc.image]) notes.push(`${service}: ${svc.image} is not on the host and pull_policy is never: load it there first`);
    const recreated = ops.some((op) => op.kind === 'recreate' && op.service === service);
    if (recreated && svc.deploy.update_config.order === 'start-first' && (fixedPorts(svc) || svc.container_name !== undefined)) {
      notes.push(`${service}: start-first is impossible (fixed host ports, host network or container_name): the old container stops first`);
    }
  }
  return notes;
}

export function planStack(desired: DesiredStack, observed: ObservedStack): Plan {
  const ctx = context(desired, observed);
  // Hosts the stack no longer selects still carry its containers until this plan removes them.
  const leftBehind = Object.values(observed.hosts)
    .filter((o) => !desired.hosts[o.host] && o.reachable && (o.containers.length > 0 || o.networks.length > 0))
    .map((o) => o.host)
    .sort();
  const hosts = [...Object.keys(desired.hosts), ...leftBehind].map((h) => hostPlan(ctx, h, desired.hosts[h]));
  // The executor refuses to run a stack whose services wait for each other; the plan says so first.
  const cycle = dependencyCycle(desired.model.services);
  return { stack: desired.name, source: desired.source, hosts, errors: [...(desired.placementErrors ?? []), ...(cycle ? [`depends_on cycle: ${cycle.join(' → ')}`] : [])] };
}

export function summarize(plan: Plan): Record<OperationKind, number> {
  const swarmKinds: OperationKind[] = ['create-service', 'update-service', 'remove-service', 'keep-service', 'create-object', 'remove-object'];
  const counts = Object.fromEntries([...OPERATION_KINDS, ...swarmKinds].map((k) => [k, 0])) as Record<OperationKind, number>;
  for (const h of plan.hosts) for (const op of h.operations) counts[op.kind] = (counts[op.kind] ?? 0) + 1;
  return counts;
}

export { isNoop } from '../engine.ts';
