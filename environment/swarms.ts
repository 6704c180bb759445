/**
 * berth.yml `swarms:`: Docker Swarms a stack can target. Each names its managers, tried in order (one manager
 * down is no outage), with TLS files for tcp:// managers and an SSH key for ssh:// ones, as for hosts; and, where
 * images are carried in bundles rather than pulled, every node's engine (`nodes:`), to load them onto each node.
 */
import path from 'node:path';
import { MapReader, isPlainMap, kindOf } from '../catalog/yaml-file.ts';
import { duplicates, endpointProblem, mapList, present } from './environment.ts';
import type { SwarmSpec } from './types.ts';

const SWARM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function endpoints(s: MapReader, key: 'managers' | 'nodes', required: boolean): string[] {
  const v = s.obj[key];
  if (v === undefined || v === null) {
    if (required) s.problem(key, 'is required: list the managers\' endpoints, e.g. [unix:///var/run/docker.sock, tcp://10.0.0.11:2376]');
    return [];
  }
  if (!Array.isArray(v) || v.length === 0) {
    s.problem(key, `must be a non-empty list of endpoints, got ${kindOf(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((m, i) => {
    const bad = typeof m === 'string' ? endpointProblem(m) : `must be an endpoint text, got ${kindOf(m)}`;
    if (bad) s.problem(key, `[${i}] ${bad}`);
    else out.push(m as string);
  });
  return out;
}

function sub(s: MapReader, key: string, allowed: string[], scheme: string, list: string[]): MapReader | undefined {
  if (!present(s, key)) return undefined;
  if (!isPlainMap(s.obj[key])) return void s.problem(key, `must be a map, got ${kindOf(s.obj[key])}`);
  if (!list.some((m) => m.startsWith(`${scheme}:`))) s.problem(key, `only applies to ${scheme}:// managers and nodes; this swarm has none`);
  const r = new MapReader(s.yaml, [...s.path, key], s.field(key), s.obj[key] as Record<string, unknown>, s.problems);
  r.unknownKeys(allowed);
  return r;
}

function parseSwarm(s: MapReader, root: string): SwarmSpec | undefined {
  s.unknownKeys(['name', 'managers', 'nodes', 'tls', 'ssh']);
  const name = s.string('name', true);
  if (name !== undefined && !SWARM_NAME.test(name)) s.problem('name', `"${name}" is not a usable swarm name; use letters, digits, ".", "_" and "-"`);
  const list = endpoints(s, 'managers', true);
  const nodes = endpoints(s, 'nodes', false);
  const swarm: SwarmSpec = { name: name ?? '', managers: list, ...(nodes.length ? { nodes } : {}) };
  const tls = sub(s, 'tls', ['ca', 'cert', 'key'], 'tcp', [...list, ...nodes]);
  if (tls) {
    const [ca, cert, key] = ['ca', 'cert', 'key'].map((k) => tls.string(k, true));
    if (ca && cert && key) swarm.tls = { ca: path.resolve(root, ca), cert: path.resolve(root, cert), key: path.resolve(root, key) };
  }
  const ssh = sub(s, 'ssh', ['key'], 'ssh', [...list, ...nodes]);
  const keyFile = ssh?.string('key');
  if (ssh) swarm.ssh = keyFile === undefined ? {} : { privateKeyFile: path.resolve(root, keyFile) };
  return name !== undefined && list.length > 0 ? swarm : undefined;
}

export function parseSwarms(r: MapReader, root: string): SwarmSpec[] {
  const readers = mapList(r, 'swarms') ?? [];
  duplicates(readers, 'name', 'swarm');
  return readers.map((s) => parseSwarm(s, root)).filter((s): s is SwarmSpec => s !== undefined);
}
