/**
 * The engines of every node of a Swarm, for what only a node's own engine can do: load images where there is no
 * registry (`berth bundle load --swarm`: a manager cannot hand them on), and snapshot or restore the local volumes
 * a stack's tasks made on each node. Each endpoint berth.yml gives (`managers:`, then `nodes:`) is asked which node
 * it is; every node the Swarm lists as ready must be reached, or nothing is done — a half-loaded Swarm would run a
 * new version's tasks only where its images happen to be, a half-snapshotted one lose the rest of the data.
 */
import type Docker from 'dockerode';
import { connectHost, pingHost } from '../docker/connect.ts';
import { SwarmClient } from './client.ts';
import { UserError } from '../../lib/errors.ts';
import type { HostSpec, SwarmSpec } from '../../environment/types.ts';

export interface NodeTarget { host: HostSpec; docker: Docker }

interface SwarmNode { ID: string; Description?: { Hostname?: string }; Status?: { State?: string } }

/** `unreached`: what becomes of the job when a node cannot be reached ("nothing was loaded"), for the error. */
export async function swarmNodeTargets(swarm: SwarmSpec, opts: { timeoutMs: number; code: string; unreached: string }): Promise<{ targets: NodeTarget[]; notes: string[] }> {
  const nodes = (await new SwarmClient(swarm).call((docker) => docker.listNodes())) as SwarmNode[];
  const endpoints = [...new Set([...swarm.managers, ...(swarm.nodes ?? [])])];
  const reached = new Map<string, NodeTarget>();
  const failed: string[] = [];
  await Promise.all(endpoints.map(async (endpoint) => {
    const host: HostSpec = { name: endpoint, endpoint, labels: {}, ...(swarm.tls ? { tls: swarm.tls } : {}), ...(swarm.ssh ? { ssh: swarm.ssh } : {}) };
    const docker = connectHost(host, opts);
    try {
      await pingHost(docker, host);
      const info = (await docker.info()) as { Swarm?: { NodeID?: string } };
      const id = info.Swarm?.NodeID;
      if (!id) return void failed.push(`${endpoint}: not in a swarm`);
      if (!reached.has(id)) reached.set(id, { host, docker });
    } catch (e) {
      failed.push(`${endpoint}: ${(e as Error).message}`);
    }
  }));
  const targets: NodeTarget[] = [];
  const missing: string[] = [];
  const notes: string[] = [];
  for (const n of [...nodes].sort((a, b) => (a.Description?.Hostname ?? a.ID).localeCompare(b.Description?.Hostname ?? b.ID))) {
    const name = n.Description?.Hostname ?? n.ID;
    const t = reached.get(n.ID);
    if (t) targets.push({ host: { ...t.host, name }, docker: t.docker });
    else if (n.Status?.State !== 'ready') notes.push(`swarm ${swarm.name}: node ${name} is ${n.Status?.State ?? 'not ready'}`);
    else missing.push(name);
  }
  if (missing.length) {
    throw new UserError(opts.code, `swarm ${swarm.name}: no endpoint in berth.yml reaches node${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; ${opts.unreached}`, {
      hint: `List every node's engine under nodes: of swarm ${swarm.name} in berth.yml (e.g. ssh://admin@NODE or tcp://NODE:2376).${failed.length ? ` Endpoints that did not answer: ${failed.join('; ')}` : ''}`,
    });
  }
  return { targets, notes };
}
