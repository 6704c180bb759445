/**
 * The test Swarm (test/harness/swarm.sh): started here when it is not up (idempotent, a few seconds), its nodes
 * as dockerode clients, and the test images on every node — imported on the manager and copied by save/load, so
 * every node holds the same image ID (no registry here). Without CI a missing cluster skips; with CI=true it fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { ensureImages, webImage, type ImageSpec } from './images.ts';
import { isCI } from './env.ts';

export const CLUSTER_JSON = '/run/berth-swarm/cluster.json';
const SCRIPT = path.join(path.dirname(new URL(import.meta.url).pathname), 'swarm.sh');

export interface SwarmNode {
  name: string;
  dockerHost: string;
  ip: string;
  role: 'manager' | 'worker';
  docker: Docker;
}

export interface TestSwarm {
  manager: string;
  /** The machine's address on the cluster's bridge. */
  hostIp: string;
  nodes: SwarmNode[];
  node(name: string): SwarmNode;
  run(...args: string[]): string;
}

/** web:1 and web:2 as the standalone tests know them (httpd on port 80 serving the version). */
export const SWARM_IMAGES: ImageSpec[] = [webImage(1), webImage(2)];

function read(): TestSwarm {
  const raw = JSON.parse(readFileSync(CLUSTER_JSON, 'utf8')) as { manager: string; hostIp: string; nodes: Omit<SwarmNode, 'docker'>[] };
  const nodes = raw.nodes.map((n) => ({ ...n, docker: new Docker({ socketPath: n.dockerHost.slice('unix://'.length) }) }));
  return {
    manager: raw.manager, hostIp: raw.hostIp, nodes,
    node: (name) => nodes.find((n) => n.name === name) ?? assertNever(name),
    run: (...args) => execFileSync('bash', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}

function assertNever(name: string): never {
  throw new Error(`no swarm node ${name}`);
}

/** Up (started if needed) with the images on every node; or the reason it cannot be. */
export async function testSwarm(images: ImageSpec[] = SWARM_IMAGES): Promise<{ swarm?: TestSwarm; reason?: string }> {
  try {
    execFileSync('bash', [SCRIPT, 'start'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
    if (!existsSync(CLUSTER_JSON)) return { reason: `${CLUSTER_JSON} missing after swarm.sh start` };
    const swarm = read();
    await copyImages(swarm, images);
    return { swarm };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

/** Test options: skip without the cluster, except in CI where it must fail. */
export function swarmGate(found: { swarm?: TestSwarm; reason?: string }): { skip?: string } {
  return found.swarm || isCI() ? {} : { skip: `test Swarm unavailable: ${found.reason}` };
}

async function copyImages(swarm: TestSwarm, images: ImageSpec[]): Promise<void> {
  const [first, ...rest] = swarm.nodes;
  await ensureImages(first.docker, images);
  for (const spec of images) {
    const id = (await first.docker.getImage(spec.tag).inspect()).Id;
    for (const n of rest) {
      const have = await n.docker.getImage(spec.tag).inspect().then((i) => i.Id, () => undefined);
      if (have === id) continue;
      const tar = await first.docker.getImage(spec.tag).get();
      const loading = await n.docker.loadImage(tar);
      await new Promise((resolve, reject) => n.docker.modem.followProgress(loading, (e) => (e ? reject(e) : resolve(undefined))));
    }
  }
}
