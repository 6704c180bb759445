/**
 * ServiceModel + stack + replica number → the Docker ContainerCreate body, and the work create alone cannot
 * do (extra networks, config/secret files). Pure: the same input gives the same body, so it is unit-tested
 * without an engine and a later plan can trust that an unchanged hash means an unchanged container.
 */
import type Docker from 'dockerode';
import { BerthError } from '../../lib/errors.ts';
import type { MountModel, PortModel, ServiceModel, StackModel } from '../../catalog/model.ts';
import { containerLabels, containerName } from '../docker/labels.ts';
import type { DesiredReplica, DesiredService, DesiredStack } from './types.ts';

export interface ExtraNetwork {
  name: string;
  aliases: string[];
  /** Legacy links (`container:alias`): on a user-defined network Docker keeps them per endpoint. */
  links?: string[];
  ipv4?: string;
  ipv6?: string;
}

export interface ContainerFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface ContainerSpec {
  name: string;
  service: string;
  number: number;
  image: string;
  create: Docker.ContainerCreateOptions;
  /** Networks after the first: Docker's create before API 1.44 accepts only one endpoint. */
  extraNetworks: ExtraNetwork[];
  /** Config and secret contents to copy in before start (standalone Docker has no configs/secrets). */
  files: ContainerFile[];
  /** A healthcheck is configured by the service (the image may still bring its own: wait.ts asks the engine). */
  healthcheck: boolean;
  /** Publishes a fixed host port (or shares the host network): two replicas cannot run side by side. */
  fixedHostPorts: boolean;
}

export interface SpecInput {
  stack: string;
  model: StackModel;
  service: DesiredService;
  number: number;
  /** Replicas placed on the same host: a shared namespace or volumes_from joins the peer's replica there. */
  hostReplicas?: DesiredReplica[];
  /** compose's project labels (working dir, config files), not part of the config hash. */
  project?: DesiredStack['project'];
  /** The deploying environment (LABEL.owner). */
  owner?: string;
}

/** The name a replica's container gets: container_name when the service sets one, else compose's. */
export function replicaName(stack: string, svc: ServiceModel, number: number): string {
  return svc.container_name ?? containerName(stack, svc.name, number);
}

/** The container of `service` that a replica on this host joins: its lowest-numbered replica here (placement checks one exists). */
function peerName(input: SpecInput, service: string): string {
  const numbers = (input.hostReplicas ?? []).filter((r) => r.service === service).map((r) => r.number);
  const peer = input.model.services[service];
  return peer ? replicaName(input.stack, peer, numbers.length ? Math.min(...numbers) : 1) : containerName(input.stack, service, 1);
}

/** `service:X` → `container:<X's container here>`; anything else as written. */
function joinMode(input: SpecInput, mode: string | undefined): string | undefined {
  const m = /^service:(.+)$/.exec(mode ?? '');
  return m ? `container:${peerName(input, m[1])}` : mode;
}

const NS_PER_MS = 1_000_000;

/** Sorted so key order never looks like a change. env files are already merged into `environment` by desired.ts. */
function envList(svc: ServiceModel): string[] {
  return Object.keys(svc.environment)
    .sort()
    .map((k) => `${k}=${svc.environment[k]}`);
}

function portKey(target: number | string, protocol: string): string {
  return `${target}/${protocol}`;
}

/**
 * A published range (`8080-8081`) is passed to Docker as is: the engine binds one free port of the range,
 * so replicas of one service can share a host.
 */
function portBindings(ports: PortModel[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const key = portKey(p.target, p.protocol);
    (out[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  return out;
}

function exposedPorts(svc: ServiceModel): Record<string, object> {
  const out: Record<string, object> = {};
  for (const p of svc.ports) out[portKey(p.target, p.protocol)] = {};
  for (const e of svc.expose) {
    const [range, proto = 'tcp'] = e.split('/');
    const [lo, hi = lo] = range.split('-').map(Number);
    for (let n = lo; n <= hi && n - lo < 1024; n++) out[portKey(n, proto)] = {};
  }
  return out;
}

export function fixedPorts(svc: ServiceModel): boolean {
  return svc.network_mode === 'host' || svc.ports.some((p) => p.published !== undefined && !p.published.includes('-'));
}

/** Volumes are named by key in the service; on the host they carry the stack's volume name. */
function mounts(svc: ServiceModel, model: StackModel): { Mounts: object[]; Binds: string[] } {
  const Mounts: object[] = [];
  const Binds: string[] = [];
  for (const m of svc.volumes) {
    if (m.type === 'bind' && (m.create_host_path || m.selinux)) {
      // Only the legacy Binds form creates a missing host directory (as compose's short syntax does) or relabels.
      const opts = [...(m.read_only ? ['ro'] : []), ...(m.selinux ? [m.selinux] : [])];
      Binds.push(`${m.source}:${m.target}${opts.length ? `:${opts.join(',')}` : ''}`);
    } else Mounts.push(mount(m, model));
  }
  return { Mounts, Binds };
}

function mount(m: MountModel, model: StackModel): object {
  switch (m.type) {
    case 'volume': {
      const source = m.source === undefined ? '' : (model.volumes[m.source]?.name ?? m.source);
      return { Type: 'volume', Source: source, Target: m.target, ReadOnly: m.read_only, ...(m.nocopy ? { VolumeOptions: { NoCopy: true } } : {}) };
    }
    case 'bind':
      return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.read_only };
    case 'tmpfs':
      return { Type: 'tmpfs', Source: '', Target: m.target, TmpfsOptions: { SizeBytes: m.size_bytes, Mode: m.mode } };
  }
}

function restartPolicy(restart: ServiceModel['restart']): { Name: string; MaximumRetryCount?: number } {
  const m = /^on-failure:(\d+)$/.exec(restart);
  if (m) return { Name: 'on-failure', MaximumRetryCount: Number(m[1]) };
  return { Name: restart };
}

function healthcheck(svc: ServiceModel): Docker.HealthConfig | undefined {
  const h = svc.healthcheck;
  if (!h) return undefined;
  const ns = (ms?: number) => (ms === undefined ? undefined : ms * NS_PER_MS);
  const out: Docker.HealthConfig = { Test: h.test, Interval: ns(h.interval_ms), Timeout: ns(h.timeout_ms), Retries: h.retries, StartPeriod: ns(h.start_period_ms) };
  // Sent only when set: engines before API 1.44 reject the field.
  if (h.start_interval_ms !== undefined) out.StartInterval = ns(h.start_interval_ms);
  return out;
}

/** First network at create time; the rest are connected after create (see ContainerSpec.extraNetworks). */
function networks(input: SpecInput, name: string): { mode?: string; endpoints?: Docker.EndpointsConfig; extra: ExtraNetwork[] } {
  const svc = input.service.model;
  if (svc.network_mode) return { mode: joinMode(input, svc.network_mode), extra: [] };
  const links = [
    ...(svc.links ?? []).map((l) => `${peerName(input, l.service)}:${l.alias}`),
    ...(svc.external_links ?? []).map((l) => `${l.container}:${l.alias}`),
  ];
  const list: ExtraNetwork[] = Object.entries(svc.networks).map(([key, n]) => ({
    name: input.model.networks[key]?.name ?? key,
    aliases: [...new Set([svc.name, ...n.aliases, name])],
    ipv4: n.ipv4_address,
    ipv6: n.ipv6_address,
    ...(links.length ? { links } : {}),
  }));
  if (list.length === 0) return { extra: [] };
  const [first, ...extra] = list;
  return { mode: first.name, endpoints: { [first.name]: endpointConfig(first) }, extra };
}

export function endpointConfig(n: ExtraNetwork): Docker.EndpointSettings {
  const ipam = n.ipv4 || n.ipv6 ? { IPAMConfig: { IPv4Address: n.ipv4, IPv6Address: n.ipv6 } } : {};
  return { Aliases: n.aliases, ...ipam, ...(n.links ? { Links: n.links } : {}) } as Docker.EndpointSettings;
}

function files(input: SpecInput): ContainerFile[] {
  const svc = input.service.model;
  const make = (kind: 'config' | 'secret', m: ServiceModel['configs'][number], dir: string, mode: number): ContainerFile => {
    const content = input.service.files[m.source];
    if (content === undefined) {
      throw new BerthError('apply.file.missing', 'internal', `service ${svc.name}: ${kind} ${m.source} has no content in the desired state`, { data: { service: svc.name, source: m.source } });
    }
    const target = m.target || m.source;
    return { path: target.startsWith('/') ? target : `${dir}/${target}`, content, mode: m.mode ?? mode, uid: Number(m.uid ?? 0), gid: Number(m.gid ?? 0) };
  };
  return [...svc.configs.map((c) => make('config', c, '', 0o444)), ...svc.secrets.map((s) => make('secret', s, '/run/secrets', 0o444))];
}

/** The single-host keys; each only when the service sets it, so the create body of other services is unchanged. */
function hostKeys(input: SpecInput): Docker.HostConfig {
  const svc = input.service.model;
  const set = <T>(v: T | undefined, field: string, fn: (x: T) => unknown = (x) => x) => (v === undefined ? {} : { [field]: fn(v) });
  return {
    ...set(svc.dns, 'Dns'), ...set(svc.dns_search, 'DnsSearch'), ...set(svc.dns_opt, 'DnsOptions'),
    ...set(svc.security_opt, 'SecurityOpt'), ...set(svc.read_only, 'ReadonlyRootfs'), ...set(svc.shm_size_bytes, 'ShmSize'),
    ...set(svc.pids_limit, 'PidsLimit'), ...set(svc.pid, 'PidMode', (m) => joinMode(input, m)),
    ...set(svc.ipc, 'IpcMode', (m) => joinMode(input, m)), ...set(svc.uts, 'UTSMode'),
    ...set(svc.mem_reservation_bytes, 'MemoryReservation'), ...set(svc.mem_swappiness, 'MemorySwappiness'),
    ...set(svc.group_add, 'GroupAdd'), ...set(svc.cgroup_parent, 'CgroupParent'),
    ...set(svc.device_cgroup_rules, 'DeviceCgroupRules'), ...set(svc.storage_opt, 'StorageOpt'),
    ...set(svc.volumes_from, 'VolumesFrom', (list) => list.map((v) => `${v.kind === 'service' ? peerName(input, v.name) : v.name}:${v.read_only ? 'ro' : 'rw'}`)),
  };
}

function hostConfig(input: SpecInput, networkMode: string | undefined): Docker.HostConfig {
  const { model } = input;
  const svc = input.service.model;
  const { Mounts, Binds } = mounts(svc, model);
  return {
    ...hostKeys(input),
    NetworkMode: networkMode,
    PortBindings: portBindings(svc.ports),
    Mounts: Mounts as Docker.MountConfig,
    ...(Binds.length ? { Binds } : {}),
    RestartPolicy: restartPolicy(svc.restart) as Docker.HostRestartPolicy,
    CapAdd: svc.cap_add,
    CapDrop: svc.cap_drop,
    Privileged: svc.privileged,
    Devices: svc.devices.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions })),
    ...(svc.logging ? { LogConfig: { Type: svc.logging.driver ?? 'json-file', Config: svc.logging.options } } : {}),
    Ulimits: Object.entries(svc.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
    Sysctls: svc.sysctls,
    Init: svc.init,
    Memory: svc.mem_limit_bytes,
    NanoCpus: svc.cpus === undefined ? undefined : Math.round(svc.cpus * 1e9),
    // compose accepts `host=ip`; the engine wants `host:ip` (an IPv6 after the first colon is fine).
    ExtraHosts: svc.extra_hosts.map((h) => h.replace(/^([^:=]+)=/, '$1:')),
  };
}

export function buildContainerSpec(input: SpecInput): ContainerSpec {
  const { stack, model, service, number } = input;
  const svc = service.model;
  const name = replicaName(stack, svc, number);
  const net = networks(input, name);
  const create: Docker.ContainerCreateOptions = {
    name,
    Image: svc.image,
    Cmd: svc.command,
    Entrypoint: svc.entrypoint,
    Env: envList(svc),
    Labels: { ...svc.labels, ...containerLabels(stack, svc.name, number, service.hash, service.config, input.project, input.owner) },
    ExposedPorts: exposedPorts(svc),
    User: svc.user,
    WorkingDir: svc.working_dir,
    Hostname: svc.hostname,
    ...(svc.domainname === undefined ? {} : { Domainname: svc.domainname }),
    ...(svc.mac_address === undefined ? {} : { MacAddress: svc.mac_address }),
    Tty: svc.tty,
    OpenStdin: svc.stdin_open,
    StopSignal: svc.stop_signal,
    StopTimeout: svc.stop_grace_period_ms === undefined ? undefined : Math.ceil(svc.stop_grace_period_ms / 1000),
    Healthcheck: healthcheck(svc),
    HostConfig: hostConfig(input, net.mode),
    // dockerode sends create options as the query too: `platform` is the API's query parameter.
    ...(svc.platform === undefined ? {} : { platform: svc.platform }),
    ...(net.endpoints ? { NetworkingConfig: { EndpointsConfig: net.endpoints } } : {}),
  };
  return {
    name,
    service: svc.name,
    number,
    image: svc.image,
    create,
    extraNetworks: net.extra,
    files: files(input),
    healthcheck: svc.healthcheck !== undefined && svc.healthcheck.test[0] !== 'NONE',
    fixedHostPorts: fixedPorts(svc),
  };
}
