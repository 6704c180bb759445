/**
 * A compose service as a Swarm service spec (Engine API JSON), named and labelled as `docker stack deploy` does, so
 * `docker stack ps` and `docker service logs` work and stacks made by the CLI are adopted. Pure. Every field of
 * the service model is handled explicitly in FIELDS — mapped, ignored with the reason, or refused naming the
 * key — so a field added to the model is a compile error here until someone decides, never silently dropped.
 */
import { createHash } from 'node:crypto';
import type { MountModel, ServiceModel, StackModel } from '../../catalog/model.ts';
import type { SwarmSpecJson } from '../plan-types.ts';

export const NAMESPACE_LABEL = 'com.docker.stack.namespace';
export const IMAGE_LABEL = 'com.docker.stack.image';
export const SPEC_HASH_LABEL = 'berth.spec-hash';
/** The environment that deployed the service (as on standalone containers): another environment's stack is not touched. */
export const OWNER_LABEL = 'berth.owner';

const NS = 1_000_000;

type Handling = 'mapped' | { ignored: string } | ((svc: ServiceModel) => string | undefined);

/** Each model field, and what Swarm makes of it. */
const FIELDS: Record<keyof ServiceModel, Handling> = {
  name: 'mapped', image: 'mapped', command: 'mapped', entrypoint: 'mapped', environment: 'mapped', labels: 'mapped', ports: 'mapped',
  volumes: 'mapped', networks: 'mapped', healthcheck: 'mapped', restart: 'mapped', user: 'mapped', working_dir: 'mapped', hostname: 'mapped',
  extra_hosts: 'mapped', cap_add: 'mapped', cap_drop: 'mapped', tty: 'mapped', stdin_open: 'mapped', logging: 'mapped', stop_signal: 'mapped',
  stop_grace_period_ms: 'mapped', ulimits: 'mapped', sysctls: 'mapped', init: 'mapped', mem_limit_bytes: 'mapped', cpus: 'mapped',
  secrets: 'mapped', configs: 'mapped', deploy: 'mapped',
  env_file: { ignored: 'merged into environment before mapping' },
  expose: { ignored: 'documentation only: every port is reachable on the overlay network' },
  depends_on: { ignored: 'Swarm starts services without order; Berth creates them in dependency order' },
  pull_policy: { ignored: 'each node pulls the pinned image when it lacks it' },
  network_mode: (s) => (s.network_mode === undefined ? undefined : 'network_mode is not supported by Swarm services; attach the service to networks instead'),
  privileged: (s) => (s.privileged ? 'privileged is not supported by Swarm services; grant the capabilities it needs with cap_add' : undefined),
  devices: (s) => (s.devices.length ? 'devices are not supported by Swarm services' : undefined),
  dns: 'mapped', dns_search: 'mapped', dns_opt: 'mapped', read_only: 'mapped', pids_limit: 'mapped', mem_reservation_bytes: 'mapped',
  cpus_reservation: 'mapped', group_add: 'mapped', restart_delay_ms: 'mapped', restart_window_ms: 'mapped',
  profiles: { ignored: 'profiles are applied before mapping: only active services reach the Swarm' },
  environment_from_dotenv: refuse('environment_from_dotenv', 'variables without a value (filled from .env) are not supported on a Swarm yet; give each a value'),
  label_file: refuse('label_file', 'label files are not supported on a Swarm yet; write the labels in the template'),
  container_name: refuse('container_name', 'Swarm names the tasks of a service itself'),
  links: refuse('links', 'legacy links do not exist on Swarm; services on a shared network reach each other by name'),
  external_links: refuse('external_links', 'legacy links do not exist on Swarm; attach the service to the other stack\'s network'),
  volumes_from: refuse('volumes_from', 'Swarm services cannot share another container\'s volumes; share a named volume'),
  domainname: refuse('domainname', 'Swarm services have no domainname setting'),
  security_opt: refuse('security_opt', 'Swarm services take no security options (Docker 20.10)'),
  shm_size_bytes: refuse('shm_size_bytes', 'shm_size is not supported by Swarm services; mount a tmpfs at /dev/shm'),
  pid: refuse('pid', 'Swarm services cannot share a PID namespace'),
  ipc: refuse('ipc', 'Swarm services cannot share an IPC namespace'),
  uts: refuse('uts', 'Swarm services cannot share a UTS namespace'),
  mem_swappiness: refuse('mem_swappiness', 'Swarm services have no swappiness setting'),
  cgroup_parent: refuse('cgroup_parent', 'Swarm places task cgroups itself'),
  device_cgroup_rules: refuse('device_cgroup_rules', 'Swarm services have no device cgroup rules'),
  storage_opt: refuse('storage_opt', 'Swarm services have no storage options'),
  mac_address: refuse('mac_address', 'Swarm tasks get their addresses from the overlay network'),
  platform: refuse('platform', 'Swarm places tasks on nodes of the image\'s platforms itself; remove platform'),
};

function refuse(key: keyof ServiceModel, why: string): (svc: ServiceModel) => string | undefined {
  return (svc) => (isEmpty(svc[key]) ? undefined : why);
}

/** Why Swarm cannot run the service as written, per key; empty when it can. */
export function swarmProblems(svc: ServiceModel): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const [key, how] of Object.entries(FIELDS) as [keyof ServiceModel, Handling][]) {
    const message = typeof how === 'function' ? how(svc) : undefined;
    if (message) out.push({ key, message });
  }
  svc.ports.forEach((p, i) => p.host_ip && out.push({ key: `ports[${i}].host_ip`, message: 'Swarm publishes on every node; host_ip is not supported' }));
  for (const [net, n] of Object.entries(svc.networks)) {
    if (n.ipv4_address || n.ipv6_address) out.push({ key: `networks.${net}`, message: 'fixed addresses are not supported by Swarm services' });
  }
  return out;
}

/** What a service's configs and secrets are called on the Swarm: content-hashed, since they are immutable. */
export function objectName(stack: string, key: string, content: string): string {
  return `${stack}_${key}-${createHash('sha256').update(content).digest('hex').slice(0, 10)}`;
}

export const serviceName = (stack: string, service: string) => `${stack}_${service}`;

const nanoCpus = (cpus?: number) => (cpus === undefined ? undefined : Math.round(cpus * 1e9));

function restartPolicy(svc: ServiceModel): SwarmSpecJson {
  const timing = dropEmpty({ Delay: svc.restart_delay_ms === undefined ? undefined : svc.restart_delay_ms * NS, Window: svc.restart_window_ms === undefined ? undefined : svc.restart_window_ms * NS });
  // As `docker stack deploy`: the policy's condition, else `any` (a task that ends or a node that is lost is
  // replaced); compose's `restart:` is for single hosts and does not apply.
  const condition = svc.deploy.restart_condition ?? 'any';
  const m = /^on-failure:(\d+)$/.exec(svc.restart);
  return { Condition: condition, ...(condition === 'on-failure' && m ? { MaxAttempts: Number(m[1]) } : {}), ...timing };
}

/**
 * A stack's own volume is made on each node by the first task that mounts it: as `docker stack deploy` does, the
 * mount carries the stack label and the volume's labels, driver and options (an external volume exists already).
 */
function volumeOptions(m: Extract<MountModel, { type: 'volume' }>, vol: StackModel['volumes'][string] | undefined, stack: string): SwarmSpecJson | undefined {
  const own = vol && !vol.external;
  const driver = own && (vol.driver !== 'local' || Object.keys(vol.driver_opts).length) ? { Name: vol.driver, ...(Object.keys(vol.driver_opts).length ? { Options: vol.driver_opts } : {}) } : undefined;
  return dropEmpty({ NoCopy: m.nocopy || undefined, Labels: own ? { ...vol.labels, [NAMESPACE_LABEL]: stack } : undefined, DriverConfig: driver });
}

function mounts(svc: ServiceModel, model: StackModel, stack: string): SwarmSpecJson[] {
  return svc.volumes.map((m) => {
    if (m.type === 'tmpfs') return { Type: 'tmpfs', Target: m.target, ...(m.size_bytes || m.mode ? { TmpfsOptions: { ...(m.size_bytes ? { SizeBytes: m.size_bytes } : {}), ...(m.mode ? { Mode: m.mode } : {}) } } : {}) };
    if (m.type === 'bind') return { Type: 'bind', Source: m.source, Target: m.target, ...(m.read_only ? { ReadOnly: true } : {}) };
    const vol = m.source ? model.volumes[m.source] : undefined;
    return dropEmpty({ Type: 'volume', Source: vol?.name, Target: m.target, ReadOnly: m.read_only || undefined, VolumeOptions: volumeOptions(m, vol, stack) });
  });
}

function healthcheck(svc: ServiceModel): SwarmSpecJson | undefined {
  const h = svc.healthcheck;
  if (!h) return undefined;
  const ns = (ms?: number) => (ms === undefined ? undefined : ms * NS);
  return dropEmpty({ Test: h.test, Interval: ns(h.interval_ms), Timeout: ns(h.timeout_ms), Retries: h.retries, StartPeriod: ns(h.start_period_ms) });
}

function fileRefs(svc: ServiceModel, kind: 'configs' | 'secrets', stack: string, files: Record<string, string>): SwarmSpecJson[] {
  const idKey = kind === 'configs' ? 'ConfigName' : 'SecretName';
  return svc[kind].map((m) => ({
    File: { Name: m.target, UID: m.uid ?? '0', GID: m.gid ?? '0', Mode: m.mode ?? 0o444 },
    [idKey]: objectName(stack, m.source, files[m.source] ?? ''),
  }));
}

function containerSpec(svc: ServiceModel, model: StackModel, stack: string, files: Record<string, string>): SwarmSpecJson {
  return dropEmpty({
    Image: svc.image,
    Labels: { ...svc.labels, [NAMESPACE_LABEL]: stack },
    Command: svc.entrypoint,
    Args: svc.command,
    Env: Object.keys(svc.environment).sort().map((k) => `${k}=${svc.environment[k]}`),
    Dir: svc.working_dir,
    User: svc.user,
    Hostname: svc.hostname,
    Hosts: svc.extra_hosts.map((h) => h.replace(/^([^:=]+)[:=](.*)$/, '$2 $1')),
    TTY: svc.tty || undefined,
    OpenStdin: svc.stdin_open || undefined,
    Mounts: mounts(svc, model, stack),
    Healthcheck: healthcheck(svc),
    StopSignal: svc.stop_signal,
    StopGracePeriod: svc.stop_grace_period_ms === undefined ? undefined : svc.stop_grace_period_ms * NS,
    Init: svc.init || undefined,
    ReadOnly: svc.read_only || undefined,
    Groups: svc.group_add,
    DNSConfig: dropEmpty({ Nameservers: svc.dns, Search: svc.dns_search, Options: svc.dns_opt }),
    CapabilityAdd: svc.cap_add,
    CapabilityDrop: svc.cap_drop,
    Sysctls: svc.sysctls,
    Ulimits: Object.entries(svc.ulimits).sort(([a], [b]) => a.localeCompare(b)).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
    Configs: fileRefs(svc, 'configs', stack, files),
    Secrets: fileRefs(svc, 'secrets', stack, files),
  });
}

function placement(svc: ServiceModel): SwarmSpecJson {
  const p = svc.deploy.placement;
  return dropEmpty({
    Constraints: p.constraints.map((c) => c.text),
    Preferences: p.preferences?.map((x) => ({ Spread: { SpreadDescriptor: x.spread } })),
    MaxReplicas: p.max_replicas_per_node,
  });
}

function taskTemplate(svc: ServiceModel, model: StackModel, stack: string, files: Record<string, string>): SwarmSpecJson {
  return dropEmpty({
    ContainerSpec: containerSpec(svc, model, stack, files),
    Resources: dropEmpty({
      Limits: dropEmpty({ NanoCPUs: nanoCpus(svc.cpus), MemoryBytes: svc.mem_limit_bytes, Pids: svc.pids_limit }),
      Reservations: dropEmpty({ NanoCPUs: nanoCpus(svc.cpus_reservation), MemoryBytes: svc.mem_reservation_bytes }),
    }),
    RestartPolicy: restartPolicy(svc),
    Placement: placement(svc),
    Networks: Object.keys(svc.networks).sort().filter((k) => model.networks[k]).map((k) => ({ Target: model.networks[k].name, Aliases: [svc.name, ...svc.networks[k].aliases] })),
    LogDriver: svc.logging?.driver ? { Name: svc.logging.driver, ...(Object.keys(svc.logging.options).length ? { Options: svc.logging.options } : {}) } : undefined,
  });
}

/** The spec `docker stack deploy` would send for the service, plus Berth's hash label of it. */
export function serviceSpec(svc: ServiceModel, model: StackModel, stack: string, files: Record<string, string>, owner?: string): SwarmSpecJson {
  const d = svc.deploy;
  const u = d.update_config;
  const spec = dropEmpty({
    Name: serviceName(stack, svc.name),
    Labels: { ...d.labels, [NAMESPACE_LABEL]: stack, [IMAGE_LABEL]: svc.image },
    TaskTemplate: taskTemplate(svc, model, stack, files),
    Mode: d.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: d.replicas } },
    UpdateConfig: { Parallelism: u.parallelism, Delay: u.delay_ms * NS, FailureAction: u.failure_action, Monitor: u.monitor_ms * NS, Order: u.order },
    EndpointSpec: dropEmpty({
      Mode: d.endpoint_mode ?? 'vip',
      Ports: svc.ports.map((p) => dropEmpty({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published ? Number(p.published.split('-')[0]) : undefined, PublishMode: p.mode })),
    }),
  });
  // The owner says who deploys the service, not what it runs: `berth status`, which knows no owner, must find the
  // hash of what runs.
  const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  return { ...spec, Labels: { ...(spec.Labels as Record<string, string>), ...(owner ? { [OWNER_LABEL]: owner } : {}), [SPEC_HASH_LABEL]: hash } };
}

/** Swarm leaves out what is empty; so does Berth, or every comparison would see a change. */
function dropEmpty(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => !isEmpty(v)));
}

export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}
