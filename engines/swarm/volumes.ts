/**
 * The data side of an upgrade on a Swarm. A stack's named volumes are local volumes its tasks made on whichever
 * nodes ran them (`<stack>_<volume>`, with the stack label), so each is snapshotted on its node, through that node's
 * own engine (berth.yml `swarms[].nodes`), exactly as on a standalone host. A restore scales the services mounting
 * the volumes to 0 first — Swarm would otherwise start their tasks again — and the rollback deploy that follows sets
 * the older version's replicas back; a failed restore scales them back at once.
 */
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SwarmSpec } from '../../environment/types.ts';
import { UserError } from '../../lib/errors.ts';
import { inspectSnapshot, pruneSnapshots, restoreSnapshot, takeSnapshot } from '../docker/snapshot.ts';
import type { SwarmClient } from './client.ts';
import { swarmNodeTargets, type NodeTarget } from './nodes.ts';
import { NAMESPACE_LABEL } from './spec.ts';

const NODE_TIMEOUT_MS = 30_000;
/** How long the tasks of scaled-down services may take to let go of their volumes. */
const RELEASE_TIMEOUT_MS = 120_000;

export interface SwarmSnapshotSettings {
  helperImage: string;
  keep: number;
}

/** Whether berth.yml names the Swarm's node engines: without them no node's volumes can be reached. */
export function reachesNodes(swarm: SwarmSpec): boolean {
  return (swarm.nodes?.length ?? 0) > 0;
}

async function nodes(swarm: SwarmSpec, unreached: string): Promise<NodeTarget[]> {
  return (await swarmNodeTargets(swarm, { timeoutMs: NODE_TIMEOUT_MS, code: 'SNAPSHOT_SWARM_NODE_UNREACHABLE', unreached })).targets;
}

/** The stack's local volumes on a node (not snapshots, not volumes of another driver). */
async function stackVolumes(docker: Docker, stack: string): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: JSON.stringify({ label: [`${NAMESPACE_LABEL}=${stack}`] }) });
  return (Volumes ?? []).filter((v) => (v.Driver || 'local') === 'local').map((v) => v.Name).sort();
}

/** Every volume of the stack on every node, snapshotted as `version`'s data: node → volume → snapshot. */
export async function snapshotSwarmVolumes(swarm: SwarmSpec, stack: string, version: string, settings: SwarmSnapshotSettings): Promise<Record<string, Record<string, string>>> {
  const taken: Record<string, Record<string, string>> = {};
  for (const n of await nodes(swarm, 'no snapshot was taken, so the upgrade did not start')) {
    const volumes = await stackVolumes(n.docker, stack);
    for (const volume of volumes) {
      const snap = await takeSnapshot(n.docker, { stack, volume, version, helperImage: settings.helperImage });
      (taken[n.host.name] ??= {})[volume] = snap.id;
    }
    if (volumes.length) await pruneSnapshots(n.docker, stack, settings.keep);
  }
  return taken;
}

interface RawService { ID: string; Version?: { Index?: number }; Spec?: Record<string, unknown> & { Mode?: { Replicated?: { Replicas?: number }; Global?: unknown }; TaskTemplate?: { ContainerSpec?: { Mounts?: { Source?: string }[] } }; Name?: string } }

async function scale(docker: Docker, s: RawService, replicas: number): Promise<void> {
  const fresh = (await docker.getService(s.ID).inspect()) as RawService;
  await docker.getService(s.ID).update({ version: fresh.Version?.Index, ...fresh.Spec, Mode: { Replicated: { Replicas: replicas } } } as never);
}

/**
 * Restores the snapshots on their nodes with every service of the stack that mounts one of their volumes scaled to
 * 0 and left there (the rollback deploy brings the older version up on the restored data). Nothing is touched
 * unless every node and snapshot is there; a failed restore puts the replicas back.
 */
export async function restoreSwarmVolumes(client: SwarmClient, swarm: SwarmSpec, stack: string, taken: Record<string, Record<string, string>>, settings: SwarmSnapshotSettings): Promise<Record<string, Record<string, string>>> {
  const reached = new Map((await nodes(swarm, 'nothing was restored')).map((n) => [n.host.name, n]));
  for (const [node, vols] of Object.entries(taken)) {
    const n = reached.get(node);
    if (!n) throw new UserError('SNAPSHOT_HOST_GONE', `the snapshots of ${stack} are on node ${node}, which is no longer in swarm ${swarm.name}`, { hint: 'Roll back without --with-data.' });
    for (const id of Object.values(vols)) {
      if (!(await inspectSnapshot(n.docker, id))) throw new UserError('SNAPSHOT_MISSING', `snapshot ${id} is not on node ${node}`, { data: { id }, hint: `berth snapshots ${stack} lists the snapshots each node has.` });
    }
  }
  const volumes = new Set(Object.values(taken).flatMap((v) => Object.keys(v)));
  const services = await client.call(async (docker) => ((await docker.listServices({ filters: JSON.stringify({ label: [`${NAMESPACE_LABEL}=${stack}`] }) })) as RawService[])
    .filter((s) => s.Spec?.TaskTemplate?.ContainerSpec?.Mounts?.some((m) => m.Source !== undefined && volumes.has(m.Source))));
  const global = services.find((s) => s.Spec?.Mode?.Global !== undefined);
  if (global) throw new UserError('SNAPSHOT_GLOBAL_SERVICE', `service ${global.Spec?.Name} of ${stack} runs in global mode: its tasks cannot be stopped to restore its volumes`, { hint: 'Roll back without --with-data.' });
  const before = new Map(services.map((s) => [s.ID, s.Spec?.Mode?.Replicated?.Replicas ?? 1]));
  await client.call(async (docker) => { for (const s of services) await scale(docker, s, 0); });
  let restored = false;
  try {
    await released([...reached.values()], volumes);
    for (const [node, vols] of Object.entries(taken)) for (const id of Object.values(vols)) await restoreSnapshot(reached.get(node)!.docker, id, { helperImage: settings.helperImage });
    restored = true;
  } finally {
    if (!restored) await client.call(async (docker) => { for (const s of services) await scale(docker, s, before.get(s.ID)!); }).catch(() => undefined);
  }
  return Object.fromEntries(Object.entries(taken).map(([node, v]) => [node, { ...v }]));
}

/** Waits until no container on any node mounts the volumes (the scaled-down tasks have gone). */
async function released(nodesReached: NodeTarget[], volumes: Set<string>): Promise<void> {
  const deadline = Date.now() + RELEASE_TIMEOUT_MS;
  for (;;) {
    // Running ones only: Swarm keeps its stopped task containers (the task history), and they hold nothing open.
    const holding = await Promise.all(nodesReached.map(async (n) => (await n.docker.listContainers({ filters: JSON.stringify({ volume: [...volumes] }) })).length));
    if (holding.every((x) => x === 0)) return;
    if (Date.now() > deadline) throw new UserError('SNAPSHOT_VOLUME_BUSY', `the tasks using ${[...volumes].join(', ')} did not stop within ${RELEASE_TIMEOUT_MS / 1000} s`, { hint: 'See docker service ps on the manager; then roll back again.' });
    await sleep(500);
  }
}
