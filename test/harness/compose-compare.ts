// Side by side with docker-compose: one compose file deployed by `docker-compose` and by Berth on the same test
// host, one after the other under the same project name, each container read back by inspect and reduced to
// what compose users look at (image, command, env, mounts and modes, networks and aliases, labels, state and
// the host settings the file sets). The harness shells out to docker-compose on purpose: it is the reference.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { parse } from 'yaml';
import { normalizeCompose } from '../../catalog/normalize.ts';
import { activateProfiles } from '../../catalog/profiles.ts';
import { assembleDesired } from '../../engines/standalone/desired.ts';
import { placeStack } from '../../engines/standalone/placement.ts';
import type { Environment } from '../../environment/environment.ts';
import type { StackSpec } from '../../environment/types.ts';
import { apply, driversFor, failedEvents, hostSpec } from '../integration/execute-helpers.ts';
import { removeLabeled, type Gate } from './env.ts';

const run = promisify(execFile);

/** What a person compares between two deploys of one file; names made stack-neutral. */
export interface ContainerView {
  service: string;
  image: string;
  cmd: string[];
  entrypoint: string[];
  env: string[];
  mounts: string[];
  networks: Record<string, string[]>;
  labels: Record<string, string>;
  state: string;
  host: Record<string, unknown>;
  config: Record<string, unknown>;
  /** Containers of the service. */
  replicas?: number;
}

/** Host settings a compose file can set, compared when either side sets them. */
const HOST_FIELDS = [
  'NetworkMode', 'IpcMode', 'PidMode', 'UTSMode', 'Dns', 'DnsSearch', 'DnsOptions', 'SecurityOpt', 'ReadonlyRootfs', 'ShmSize',
  'PidsLimit', 'MemoryReservation', 'MemorySwappiness', 'GroupAdd', 'CgroupParent', 'DeviceCgroupRules', 'VolumesFrom',
  'RestartPolicy', 'CapAdd', 'CapDrop', 'Privileged', 'ExtraHosts', 'Memory', 'NanoCpus', 'Init', 'PortBindings', 'LogConfig',
  'Ulimits', 'Sysctls', 'Devices', 'StorageOpt',
] as const;

/** Container settings a compose file can set, compared when either side sets them (the hostname when not the id). */
const CONFIG_FIELDS = ['User', 'WorkingDir', 'Hostname', 'Domainname', 'Tty', 'OpenStdin', 'StopSignal', 'StopTimeout', 'Healthcheck', 'ExposedPorts', 'MacAddress'] as const;

/** Labels each tool writes about itself; everything else (the file's labels) must match. */
const OWN_LABEL = /^(berth\.|com\.docker\.compose\.(config-hash|version|oneoff|container-number|project\.|depends_on|image|replace))/;

function neutral(text: string, project: string, containers: Map<string, string>): string {
  let out = text;
  // Full ids, then short ones (a container sharing another's namespaces has its hostname).
  for (const [id, name] of containers) out = out.split(id).join(name);
  for (const [id, name] of containers) out = out.split(id.slice(0, 12)).join(name);
  return out.replace(new RegExp(`${project}[-_]([a-z0-9_.-]+?)[-_]1\\b`, 'g'), '<$1>').split(project).join('<project>');
}

function view(info: Docker.ContainerInspectInfo, project: string, ids: Map<string, string>): ContainerView {
  const n = (s: string) => neutral(s, project, ids);
  const hc = info.HostConfig as unknown as Record<string, unknown>;
  const host: Record<string, unknown> = {};
  for (const f of HOST_FIELDS) {
    // Engine defaults spelled two ways mean the same: no restart policy is `no`, an unset flag is false.
    const v = f === 'RestartPolicy' ? { ...(hc[f] as object), Name: (hc[f] as { Name?: string })?.Name || 'no' } : hc[f];
    const empty = v === null || v === undefined || v === '' || v === 0 || v === false || (Array.isArray(v) && !v.length);
    if (!empty) host[f] = JSON.parse(n(JSON.stringify(v)));
  }
  const cfg = info.Config as unknown as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) {
    const v = cfg[f];
    const empty = v === null || v === undefined || v === '' || v === false || (typeof v === 'object' && !Object.keys(v as object).length) || (f === 'Hostname' && v === info.Id.slice(0, 12));
    if (!empty) config[f] = JSON.parse(n(JSON.stringify(v)));
  }
  // compose 1.29 adds the container's short id as an alias; Berth adds the container name: neither is in the file.
  const networks = Object.fromEntries(Object.entries(info.NetworkSettings.Networks ?? {}).map(([name, ep]) => [
    n(name), [...new Set(((ep.Aliases ?? []) as string[]).map(n).filter((a: string) => !/^[0-9a-f]{12}$/.test(a) && !a.startsWith('<')))].sort(),
  ]));
  return {
    service: info.Config.Labels['com.docker.compose.service'] ?? '?',
    image: info.Config.Image,
    cmd: info.Config.Cmd ?? [],
    entrypoint: (info.Config.Entrypoint as string[] | null) ?? [],
    env: [...(info.Config.Env ?? [])].sort(),
    // compose 1.29 sends tmpfs as HostConfig.Tmpfs, which inspect leaves out of Mounts; Berth sends a tmpfs mount.
    mounts: [...new Set([
      ...(info.Mounts ?? []).map((m) => `${m.Type} ${m.Type === 'volume' && m.Name?.length === 64 ? '<anonymous>' : n(m.Name ?? m.Source)} ${m.Destination} ${m.RW ? 'rw' : 'ro'}`),
      ...Object.keys((hc.Tmpfs as Record<string, string> | null) ?? {}).map((t) => `tmpfs  ${t} rw`),
    ])].sort(),
    networks,
    labels: Object.fromEntries(Object.entries(info.Config.Labels ?? {}).filter(([k]) => !OWN_LABEL.test(k)).map(([k, v]) => [k, n(v)])),
    state: info.State.Status,
    host,
    config,
  };
}

async function snapshot(docker: Docker, project: string): Promise<Record<string, ContainerView>> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) });
  const infos = await Promise.all(list.map((c) => docker.getContainer(c.Id).inspect()));
  const ids = new Map(infos.map((i) => [i.Id, `<${i.Config.Labels['com.docker.compose.service']}>`]));
  const views = infos.map((i) => view(i, project, ids));
  // One view a service (its containers are alike); how many it has is compared too (scale, deploy.replicas).
  const count = (svc: string) => views.filter((v) => v.service === svc).length;
  return Object.fromEntries(views.map((v) => [v.service, { ...v, replicas: count(v.service) }]));
}

export async function removeProject(docker: Docker, project: string): Promise<void> {
  await removeLabeled(docker, `com.docker.compose.project=${project}`);
}

export interface CompareSetup {
  gate: Gate;
  /** Test host to deploy on (h1..h3). */
  host: string;
  /** Project (stack) name: unique to the test. */
  project: string;
  /** Folder holding docker-compose.yml and its files: compose's project directory and Berth's environment root. */
  dir: string;
  compose: string;
  files?: Record<string, string>;
  profiles?: string[];
}

/** Writes the project folder: the compose file and the files it names (relative paths, modes as given). */
export function writeProject(s: CompareSetup): void {
  mkdirSync(s.dir, { recursive: true });
  writeFileSync(path.join(s.dir, 'docker-compose.yml'), s.compose);
  for (const [rel, content] of Object.entries(s.files ?? {})) {
    mkdirSync(path.dirname(path.join(s.dir, rel)), { recursive: true });
    writeFileSync(path.join(s.dir, rel), content);
  }
}

/** `docker-compose up -d` against the test host; resolves to its output, rejects with it. */
export async function composeUp(s: CompareSetup): Promise<string> {
  const h = s.gate.host(s.host);
  const args = ['-p', s.project, '-f', path.join(s.dir, 'docker-compose.yml'), ...(s.profiles ?? []).flatMap((p) => ['--profile', p]), 'up', '-d', '--no-build'];
  const env = { ...process.env, DOCKER_HOST: h.dockerHost, COMPOSE_INTERACTIVE_NO_CLI: '1' };
  const { stdout, stderr } = await run('docker-compose', args, { cwd: s.dir, env, timeout: 180_000 });
  return stdout + stderr;
}

/** Berth's own path for the same file: normalize, profiles, placement on the one host, read files, apply. */
export async function berthUp(s: CompareSetup) {
  const h = hostSpec(s.gate.host(s.host));
  const spec: StackSpec = { name: s.project, file: 'docker-compose.yml', template: 'compare', version: '1', answers: {}, hosts: {}, ...(s.profiles ? { profiles: s.profiles } : {}) };
  const env: Environment = { root: s.dir, catalogs: [], hosts: [h], registries: [], stacks: [spec] };
  const model = activateProfiles(normalizeCompose(parse(s.compose, { merge: true }), s.project, 'docker-compose.yml'), s.profiles ?? [], spec.file);
  const { placement, errors } = placeStack(model, [h]);
  if (errors.length) throw new Error(errors.join('\n'));
  const desired = await assembleDesired(env, spec, { model, source: 'compare@1', secretAnswers: {}, hosts: [h], placement }, { processEnv: {} });
  const out = await apply(desired, driversFor([h]));
  const failed = Object.values(out.result.hosts).find((r) => r.outcome === 'failed');
  if (failed) throw new Error(`${failed.error}\n${failedEvents(out.events)}`);
  return out;
}

/** Deploys with docker-compose, snapshots, removes; then the same with Berth. Both views, by service. */
export async function compareDeploys(s: CompareSetup): Promise<{ compose: Record<string, ContainerView>; berth: Record<string, ContainerView> }> {
  const docker = s.gate.docker(s.host);
  writeProject(s);
  await removeProject(docker, s.project);
  await composeUp(s);
  const compose = await snapshot(docker, s.project);
  await removeProject(docker, s.project);
  await berthUp(s);
  const berth = await snapshot(docker, s.project);
  return { compose, berth };
}

export { snapshot };
