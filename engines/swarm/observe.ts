/**
 * Reads a stack on a Swarm — services, their tasks, networks, configs, secrets, nodes — by the stack label
 * `docker stack deploy` puts on all of them. Reads only; dockerode's types end here.
 */
import type Docker from 'dockerode';
import { BerthError } from '../../lib/errors.ts';
import type { SwarmSpecJson } from '../plan-types.ts';
import type { SwarmClient } from './client.ts';
import { NAMESPACE_LABEL, OWNER_LABEL, SPEC_HASH_LABEL } from './spec.ts';
import type { ObservedNode, ObservedObject, ObservedSwarmService, ObservedTask, SwarmObserved } from './types.ts';

interface RawService {
  ID: string;
  Version?: { Index?: number };
  Spec?: SwarmSpecJson & { Name?: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } } };
  UpdateStatus?: { State?: string; Message?: string };
}

interface RawTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  Version?: { Index?: number };
  Status?: { State?: string; Err?: string; Message?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string } };
  DesiredState?: string;
  Spec?: { ContainerSpec?: { Image?: string } };
}

const labelFilter = (stack?: string) => JSON.stringify({ label: [stack ? `${NAMESPACE_LABEL}=${stack}` : NAMESPACE_LABEL] });

/** Swarm keeps the networks a service joins by ID; Berth plans by name. */
function networksByName(spec: SwarmSpecJson, names: Map<string, string>): SwarmSpecJson {
  const task = spec.TaskTemplate as { Networks?: { Target: string }[] } | undefined;
  if (!task?.Networks) return spec;
  return { ...spec, TaskTemplate: { ...task, Networks: task.Networks.map((n) => ({ ...n, Target: names.get(n.Target) ?? n.Target })) } };
}

/**
 * Swarm keeps each config and secret a service mounts by ID beside the name Berth gave it; Berth plans by name (a
 * content hash, so one name is one content), and the ID would make every such service look changed.
 */
function objectsByName(spec: SwarmSpecJson): SwarmSpecJson {
  const task = spec.TaskTemplate as { ContainerSpec?: { Configs?: Record<string, unknown>[]; Secrets?: Record<string, unknown>[] } } | undefined;
  const cs = task?.ContainerSpec;
  if (!cs?.Configs && !cs?.Secrets) return spec;
  const without = (list: Record<string, unknown>[] | undefined, key: string) => list?.map(({ [key]: _id, ...rest }) => rest);
  const named = { ...cs, ...(cs.Configs ? { Configs: without(cs.Configs, 'ConfigID') } : {}), ...(cs.Secrets ? { Secrets: without(cs.Secrets, 'SecretID') } : {}) };
  return { ...spec, TaskTemplate: { ...task, ContainerSpec: named } };
}

function service(raw: RawService, stack: string, networks: Map<string, string>): ObservedSwarmService {
  const spec = objectsByName(networksByName(raw.Spec ?? {}, networks)) as NonNullable<RawService['Spec']>;
  const name = spec.Name ?? raw.ID;
  const replicas = spec.Mode?.Replicated?.Replicas;
  return {
    id: raw.ID, name, service: name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name, version: raw.Version?.Index ?? 0,
    ...(spec.Labels?.[SPEC_HASH_LABEL] ? { hash: spec.Labels[SPEC_HASH_LABEL] } : {}),
    ...(spec.Labels?.[OWNER_LABEL] ? { owner: spec.Labels[OWNER_LABEL] } : {}), spec,
    ...(raw.UpdateStatus?.State ? { updateState: raw.UpdateStatus.State, updateMessage: raw.UpdateStatus.Message } : {}),
    ...(replicas === undefined ? {} : { replicas }),
  };
}

function task(raw: RawTask, services: Map<string, string>, nodes: Map<string, string>): ObservedTask {
  const s = raw.Status ?? {};
  return {
    id: raw.ID, serviceId: raw.ServiceID, service: services.get(raw.ServiceID) ?? raw.ServiceID, ...(raw.Slot ? { slot: raw.Slot } : {}),
    nodeId: raw.NodeID ?? '', node: nodes.get(raw.NodeID ?? '') ?? raw.NodeID ?? '(unassigned)', state: s.State ?? 'unknown', desiredState: raw.DesiredState ?? 'unknown',
    ...(s.Err ? { error: s.Err } : {}), ...(s.Message ? { message: s.Message } : {}), ...(s.ContainerStatus?.ContainerID ? { containerId: s.ContainerStatus.ContainerID } : {}),
    ...(raw.Version?.Index ? { version: raw.Version.Index } : {}), timestamp: s.Timestamp ?? '',
  };
}

function objects(list: { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> }; Name?: string; Labels?: Record<string, string> }[]): ObservedObject[] {
  return list.map((o) => ({ id: o.ID, name: o.Spec?.Name ?? o.Name ?? o.ID, labels: o.Spec?.Labels ?? o.Labels ?? {} })).sort((a, b) => a.name.localeCompare(b.name));
}

function nodesOf(list: unknown[]): ObservedNode[] {
  return (list as { ID: string; Description?: { Hostname?: string }; Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> }; Status?: { State?: string; Addr?: string } }[])
    .map((n) => ({ id: n.ID, hostname: n.Description?.Hostname ?? n.ID, role: n.Spec?.Role ?? '', state: n.Status?.State ?? 'unknown', availability: n.Spec?.Availability ?? '', addr: n.Status?.Addr ?? '', labels: n.Spec?.Labels ?? {} }))
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}

/** Image reference → ID on the manager (the ledger pins it; every node must hold the same image). */
export async function imageIds(docker: Docker, refs: string[]): Promise<Record<string, string>> {
  const found = await Promise.all(refs.map((r) => docker.getImage(r).inspect().then((i) => i.Id, () => undefined)));
  return Object.fromEntries(refs.flatMap((r, i) => (found[i] ? [[r, found[i]]] : [])));
}

/**
 * What the Swarm holds of one stack or (stack undefined) of every stack, as listed at `readAt` (ms, before the
 * first call): the services and their objects by the stack label, all networks (services name them by ID), the nodes.
 */
export interface SwarmListing {
  readAt: number;
  services: RawService[];
  tasks: RawTask[];
  networks: Docker.NetworkInspectInfo[];
  configs: unknown[];
  secrets: unknown[];
  nodes: unknown[];
}

export async function listSwarm(docker: Docker, stack?: string): Promise<SwarmListing> {
  const readAt = Date.now();
  const filters = labelFilter(stack);
  const [services, networks, configs, secrets, nodes] = await Promise.all([
    docker.listServices({ filters }) as Promise<RawService[]>, docker.listNetworks(), docker.listConfigs({ filters }), docker.listSecrets({ filters }), docker.listNodes(),
  ]);
  const tasks = services.length ? ((await docker.listTasks({ filters: JSON.stringify({ service: services.map((x) => x.ID) }) })) as RawTask[]) : [];
  return { readAt, services, tasks, networks, configs, secrets, nodes };
}

const stackOf = (labels: Record<string, string> | undefined) => labels?.[NAMESPACE_LABEL];

/** One stack's share of a listing, with the IDs its image references resolve to. */
export function cutStack(l: SwarmListing, swarm: string, stack: string, images: Record<string, string>): SwarmObserved {
  const netNames = new Map(l.networks.map((n) => [n.Id, n.Name]));
  const services = l.services.filter((x) => stackOf(x.Spec?.Labels) === stack).map((x) => service(x, stack, netNames)).sort((a, b) => a.name.localeCompare(b.name));
  const nodes = nodesOf(l.nodes);
  const byId = new Map(services.map((x) => [x.id, x.service]));
  const nodeNames = new Map(nodes.map((n) => [n.id, n.hostname]));
  const tasks = l.tasks.filter((t) => byId.has(t.ServiceID)).map((t) => task(t, byId, nodeNames))
    .sort((a, b) => a.service.localeCompare(b.service) || (a.slot ?? 0) - (b.slot ?? 0) || b.timestamp.localeCompare(a.timestamp));
  type Labelled = { Spec?: { Labels?: Record<string, string> } };
  return {
    engine: 'swarm', stack, swarm, reachable: true, services, tasks, nodes, images,
    networks: l.networks.filter((n) => stackOf(n.Labels) === stack).map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} })).sort((a, b) => a.name.localeCompare(b.name)),
    configs: objects(l.configs.filter((c) => stackOf((c as Labelled).Spec?.Labels) === stack) as never), secrets: objects(l.secrets.filter((c) => stackOf((c as Labelled).Spec?.Labels) === stack) as never),
  };
}

/** The stacks with a service `owner` deployed, from a listing of every stack. */
export function ownedStacks(l: SwarmListing, owner: string): string[] {
  return [...new Set(l.services.filter((x) => x.Spec?.Labels?.[OWNER_LABEL] === owner).map((x) => stackOf(x.Spec?.Labels)).filter((x): x is string => !!x))].sort();
}

export function unreachableSwarm(swarm: string, stack: string, error?: string): SwarmObserved {
  return { engine: 'swarm', stack, swarm, reachable: false, services: [], tasks: [], networks: [], configs: [], secrets: [], nodes: [], images: {}, ...(error ? { error } : {}) };
}

export async function observeSwarm(client: SwarmClient, stack: string, images: string[] = []): Promise<SwarmObserved> {
  try {
    return await client.call(async (docker) => cutStack(await listSwarm(docker, stack), client.swarm.name, stack, await imageIds(docker, [...new Set(images)])));
  } catch (e) {
    if (!(e instanceof BerthError) || e.kind !== 'unreachable') throw e;
    return unreachableSwarm(client.swarm.name, stack, e.message);
  }
}

/** Every stack on the Swarm (services, networks, configs and secrets carry the stack label). */
export async function swarmStacks(client: SwarmClient, owner?: string): Promise<string[]> {
  return client.call(async (docker) => {
    const filters = labelFilter();
    // Only services carry the owner: what an owner deployed is known by them.
    if (owner !== undefined) {
      const mine = (await docker.listServices({ filters: JSON.stringify({ label: [NAMESPACE_LABEL, `${OWNER_LABEL}=${owner}`] }) })) as RawService[];
      return [...new Set(mine.map((s) => s.Spec?.Labels?.[NAMESPACE_LABEL]).filter((s): s is string => !!s))].sort();
    }
    const [services, networks] = await Promise.all([docker.listServices({ filters }) as Promise<RawService[]>, docker.listNetworks({ filters })]);
    const labels = [...services.map((s) => s.Spec?.Labels), ...networks.map((n) => n.Labels)];
    return [...new Set(labels.map((l) => l?.[NAMESPACE_LABEL]).filter((s): s is string => !!s))].sort();
  });
}
