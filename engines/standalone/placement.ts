/**
 * Which host runs which replica. Pure and stable: the same model and hosts always give the same placement, and
 * replica i lands on the same host whatever the replica count, so scaling down removes only the highest
 * numbers and scaling up only adds — nothing already running moves.
 */
import type { PlacementConstraint, ServiceModel, StackModel } from '../../catalog/model.ts';
import type { HostSpec } from '../../environment/types.ts';

export interface PlacedReplica {
  host: string;
  number: number;
}

export interface StackPlacement {
  placement: Record<string, PlacedReplica[]>;
  errors: string[];
}

/** `node.hostname` constraints work on hosts that don't repeat their name as a `hostname` label. */
function labelValue(host: HostSpec, label: string): string | undefined {
  if (Object.hasOwn(host.labels, label)) return host.labels[label];
  return label === 'hostname' ? host.name : undefined;
}

/** Like Swarm, a host without the label satisfies `!=` and fails `==`. */
export function satisfies(host: HostSpec, c: PlacementConstraint): boolean {
  const value = labelValue(host, c.label);
  return c.op === '==' ? value === c.value : value !== c.value;
}

export function matchingHosts(service: ServiceModel, hosts: HostSpec[]): HostSpec[] {
  const constraints = service.deploy.placement.constraints;
  return hosts.filter((h) => constraints.every((c) => satisfies(h, c)));
}

function describeHosts(hosts: HostSpec[]): string {
  if (hosts.length === 0) return 'none selected';
  return hosts.map((h) => {
    const labels = Object.keys(h.labels).sort().map((k) => `${k}=${h.labels[k]}`);
    return `${h.name} {${labels.join(', ')}}`;
  }).join(', ');
}

function unplaceable(service: ServiceModel, hosts: HostSpec[]): string {
  const constraints = service.deploy.placement.constraints;
  const what = constraints.length ? `no host satisfies ${constraints.map((c) => c.text).join(' and ')}` : 'the stack selects no host';
  return `service "${service.name}": ${what} (hosts: ${describeHosts(hosts)})`;
}

function placeService(service: ServiceModel, hosts: HostSpec[]): { replicas: PlacedReplica[]; error?: string } {
  const { mode, replicas } = service.deploy;
  if (mode === 'replicated' && replicas === 0) return { replicas: [] };
  const matching = matchingHosts(service, hosts);
  if (matching.length === 0) return { replicas: [], error: unplaceable(service, hosts) };
  if (mode === 'global') return { replicas: matching.map((h, i) => ({ host: h.name, number: i + 1 })) };
  // Round-robin is as even as a placement can be: it exceeds the limit on some host only when every placement would.
  const max = service.deploy.placement.max_replicas_per_node;
  if (max !== undefined && replicas > max * matching.length) {
    const which = `${matching.length} matching host${matching.length === 1 ? '' : 's'} (${matching.map((h) => h.name).join(', ')})`;
    return { replicas: [], error: `service "${service.name}": ${replicas} replicas do not fit max_replicas_per_node ${max} on the ${which}: at most ${max * matching.length} do; add hosts, raise the limit or lower replicas` };
  }
  const placed: PlacedReplica[] = [];
  for (let n = 1; n <= replicas; n++) placed.push({ host: matching[(n - 1) % matching.length].name, number: n });
  return { replicas: placed };
}

/** `hosts` are those the stack's selector chose, in berth.yml order (the order decides where replicas land). */
export function placeStack(model: StackModel, hosts: HostSpec[]): StackPlacement {
  const placement: Record<string, PlacedReplica[]> = {};
  const errors: string[] = [];
  for (const name of Object.keys(model.services).sort()) {
    const { replicas, error } = placeService(model.services[name], hosts);
    placement[name] = replicas;
    if (error) errors.push(error);
  }
  if (!errors.length) errors.push(...sameHostErrors(model, placement));
  return { placement, errors };
}

/** The services whose replicas must sit on the same host as one of `peer`'s, and why. */
function sameHostPeers(svc: ServiceModel): { peer: string; why: string }[] {
  const out: { peer: string; why: string }[] = [];
  for (const key of ['network_mode', 'ipc', 'pid'] as const) {
    const peer = /^service:(.+)$/.exec(svc[key] ?? '')?.[1];
    if (peer) out.push({ peer, why: `${key}: service:${peer}` });
  }
  for (const v of svc.volumes_from ?? []) if (v.kind === 'service') out.push({ peer: v.name, why: `volumes_from: ${v.name}` });
  for (const l of svc.links ?? []) out.push({ peer: l.service, why: `links: ${l.service}` });
  return out;
}

/** Shared namespaces, volumes_from and links work only within one engine; a fixed container name only once per stack. */
function sameHostErrors(model: StackModel, placement: Record<string, PlacedReplica[]>): string[] {
  const errors: string[] = [];
  for (const name of Object.keys(model.services).sort()) {
    const svc = model.services[name];
    const mine = placement[name] ?? [];
    if (svc.container_name !== undefined && mine.length > 1) {
      errors.push(`service "${name}": container_name "${svc.container_name}" names one container, but the service has ${mine.length} replicas (on ${[...new Set(mine.map((r) => r.host))].join(', ')}); remove container_name or run one replica`);
    }
    for (const { peer, why } of sameHostPeers(svc)) {
      const theirs = new Set((placement[peer] ?? []).map((r) => r.host));
      for (const host of new Set(mine.map((r) => r.host))) {
        if (theirs.has(host)) continue;
        const where = theirs.size ? `runs on ${[...theirs].join(', ')}` : 'runs on no host';
        errors.push(`service "${name}" (${why}) is placed on host ${host}, but service "${peer}" ${where}; both must share a host: give them the same placement constraints`);
      }
    }
  }
  return errors;
}
