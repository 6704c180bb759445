/**
 * `berth snapshots STACK`: the data snapshots a stack's volumes have on each standalone host of the environment and
 * on each node of its Swarms whose engines berth.yml names (`swarms[].nodes`).
 */
import type Docker from 'dockerode';
import { loadEnvironment, type Environment } from '../environment/environment.ts';
import { swarmNodeTargets } from '../engines/swarm/nodes.ts';
import { reachesNodes } from '../engines/swarm/volumes.ts';
import { connectHost } from '../engines/docker/connect.ts';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { exportSnapshot, inspectSnapshot, listSnapshots, type Snapshot } from '../engines/docker/snapshot.ts';
import { snapshotSettings } from '../ledger/snapshots.ts';
import { UserError } from '../lib/errors.ts';
import { table } from './table.ts';

export type HostSnapshot = Snapshot & { host: string };

const size = (n?: number) => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(1)} GiB`);

interface Place { name: string; docker: Docker }

/** Where snapshots can be: every standalone host, and every node of a Swarm whose node engines berth.yml names. */
async function places(env: Environment): Promise<Place[]> {
  const out: Place[] = env.hosts.map((h) => ({ name: h.name, docker: connectHost(h) }));
  for (const swarm of (env.swarms ?? []).filter(reachesNodes)) {
    try {
      const { targets } = await swarmNodeTargets(swarm, { timeoutMs: 30_000, code: 'SNAPSHOT_SWARM_NODE_UNREACHABLE', unreached: 'its snapshots are not listed' });
      out.push(...targets.map((t) => ({ name: t.host.name, docker: t.docker })));
    } catch (e) {
      process.stderr.write(`warning: swarm ${swarm.name}: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  return out;
}

export async function snapshotsAction(stack: string, opts: { env: string; json?: boolean }): Promise<void> {
  const env = await loadEnvironment(opts.env);
  const rows: HostSnapshot[] = [];
  const all = await places(env);
  // Snapshots stay where the volume is: every host is asked, since a stack's placement may have changed since.
  for (const place of all) {
    try {
      for (const s of await listSnapshots(place.docker, stack, { sizes: true })) rows.push({ host: place.name, ...s });
    } catch (e) {
      process.stderr.write(`warning: ${place.name}: cannot list snapshots (${(e as Error).message})\n`);
      process.exitCode = 1;
    }
  }
  if (opts.json) return print(JSON.stringify(rows, null, 2));
  if (!rows.length) return print(`no data snapshots of stack ${stack} on ${all.map((h) => h.name).join(', ') || 'any host'}`);
  const t = table(['HOST', 'VOLUME', 'VERSION', 'TIME', 'SIZE', 'SNAPSHOT']);
  for (const r of rows) t.push([r.host, r.volume, r.version, r.time.replace('T', ' ').slice(0, 19), size(r.size), r.id]);
  print(t.toString());
}

/**
 * `berth snapshot export SNAPSHOT`: the snapshot's archive (a tar of the volume's files) copied off whichever host
 * has it, into `--out` (default `SNAPSHOT.tar`; `-` for stdout). Written beside the target and renamed, so a failed
 * export leaves no partial file under the name.
 */
export async function snapshotExportAction(id: string, opts: { env: string; out?: string; host?: string }): Promise<void> {
  const env = await loadEnvironment(opts.env);
  const all = await places(env);
  const hosts = opts.host ? all.filter((h) => h.name === opts.host) : all;
  if (opts.host && !hosts.length) throw new UserError('HOST_NOT_FOUND', `no host or Swarm node ${opts.host} in the environment`, { hint: `Hosts and nodes: ${all.map((h) => h.name).join(', ') || 'none'}.` });
  let found: Place | undefined;
  for (const host of hosts) {
    const s = await inspectSnapshot(host.docker, id).catch((e: Error) => void process.stderr.write(`warning: ${host.name}: cannot look for ${id} (${e.message})\n`));
    if (s) {
      found = host;
      break;
    }
  }
  if (!found) throw new UserError('SNAPSHOT_MISSING', `no host of the environment has snapshot ${id}`, { hint: 'berth snapshots STACK lists the snapshots and the host each is on.' });
  const docker = found.docker;
  const settings = snapshotSettings(process.env, env.snapshots);
  if (opts.out === '-') {
    await exportSnapshot(docker, id, process.stdout, { helperImage: settings.helperImage });
    return;
  }
  const file = path.resolve(opts.out ?? `${id}.tar`);
  const part = `${file}.part-${process.pid}`;
  const stream = createWriteStream(part, { flags: 'wx' });
  try {
    const { snapshot, bytes } = await exportSnapshot(docker, id, stream, { helperImage: settings.helperImage });
    stream.end();
    await finished(stream);
    await rename(part, file);
    process.stderr.write(`exported ${id} (${snapshot.volume} of ${snapshot.stack} ${snapshot.version}, ${size(bytes)}) from ${found.name} to ${file}\n`);
    process.stderr.write(`It is a tar of the volume's files: tar -tf ${path.basename(file)} lists them.\n`);
  } catch (e) {
    stream.destroy();
    await rm(part, { force: true });
    throw e;
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
