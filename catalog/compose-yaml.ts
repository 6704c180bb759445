/**
 * StackModel → a Compose document in long forms, every decision Berth made written out (empty lists and
 * maps left out). The document validates against the Compose schema and normalizes back to an equal model.
 */
import { Scalar, stringify } from 'yaml';
import { ValidationError } from '../lib/errors.ts';
import { boundedToJS, parseBoundedChecked } from '../lib/yaml-bounded.ts';
import { interpolateDocument } from './interpolate.ts';
import { normalizeCompose } from './normalize.ts';
import type { FileMountModel, FileObjectModel, MountModel, NetworkModel, PortModel, ServiceModel, StackModel, VolumeModel } from './model.ts';

type Doc = Record<string, unknown>;

/** 90000 → `1m30s`, 1500 → `1s500ms`: compose duration syntax, read back to the same milliseconds. */
function ms(n: number): string {
  const units: [string, number][] = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = Math.round(n);
  const parts = units.flatMap(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return count ? [`${count}${unit}`] : [];
  });
  return parts.join('') || '0s';
}
const mapValues = <T>(o: Record<string, T>, fn: (v: T) => unknown): Doc => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)]));

/**
 * Drops undefined values, empty lists and empty maps, so defaults that say nothing stay out of the YAML;
 * `keep` names keys whose presence itself means something (`healthcheck: {}` keeps the image's check).
 */
function compact(o: Doc, keep: string[] = []): Doc {
  const empty = (v: unknown): boolean =>
    v === undefined || (Array.isArray(v) && !v.length) || (v !== null && typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && (keep.includes(k) || !empty(v))));
}

export function modelToCompose(model: StackModel): Doc {
  return compact({
    services: mapValues(model.services, service),
    networks: mapValues(model.networks, network),
    volumes: mapValues(model.volumes, volume),
    secrets: mapValues(model.secrets, fileObject),
    configs: mapValues(model.configs, fileObject),
  });
}

/**
 * The model as a compose file that `docker compose` reads the same way Berth does: every `$` in a value is
 * written `$$`, because compose interpolates values and a template's `$HOME` is meant literally.
 */
export function modelToYaml(model: StackModel): string {
  // compat 1.1 quotes strings such as "no" and "on" that YAML 1.1 readers would take for booleans.
  return stringify(escapeDollars(modelToCompose(model)), { lineWidth: 0, compat: 'yaml-1.1' });
}

/**
 * The inverse of modelToYaml (a ledger's compose file back to a model): `$$` read as `$`; only `vars` are
 * interpolated (the ledger's `${BERTH_SECRET_…}` placeholders), any other variable is an error.
 */
export function yamlToModel(text: string, stack: string, file: string, vars: Record<string, string> = {}): StackModel {
  const { doc, lineCounter: lines, problems: unreadable } = parseBoundedChecked(text, file);
  if (!doc) throw new ValidationError('YAML_INVALID', `${file} cannot be read:`, unreadable);
  const given = { value: (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined), known: (name: string) => Object.hasOwn(vars, name) };
  const problems = interpolateDocument(doc, given, file, (offset) => lines.linePos(offset).line);
  if (problems.length) throw new ValidationError('COMPOSE_INVALID', `${file} has unescaped variables:`, problems);
  return normalizeCompose(boundedToJS(doc), stack, file);
}

/** Block scalars cannot carry whitespace-only lines or a leading space exactly; such text is double-quoted. */
const BLOCK_UNSAFE = /(^|\n)[ \t]+(\n|$)|^[ \t]/;

function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') {
    const text = v.replace(/\$/g, () => '$$');
    if (!text.includes('\n') || !BLOCK_UNSAFE.test(text)) return text;
    const quoted = new Scalar(text);
    quoted.type = Scalar.QUOTE_DOUBLE;
    return quoted;
  }
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

function service(s: ServiceModel): Doc {
  return compact({
    image: s.image,
    command: s.command,
    entrypoint: s.entrypoint,
    environment: { ...s.environment, ...Object.fromEntries((s.environment_from_dotenv ?? []).map((k) => [k, null])) },
    env_file: s.env_file,
    labels: s.labels,
    ports: s.ports.map(port),
    expose: s.expose,
    volumes: s.volumes.map(mount),
    networks: mapValues(s.networks, (n) => compact({ ...n })),
    network_mode: s.network_mode,
    depends_on: mapValues(s.depends_on, (d) => ({ ...d })),
    healthcheck: s.healthcheck && compact({
      test: s.healthcheck.test,
      interval: duration(s.healthcheck.interval_ms),
      timeout: duration(s.healthcheck.timeout_ms),
      retries: s.healthcheck.retries,
      start_period: duration(s.healthcheck.start_period_ms),
      start_interval: duration(s.healthcheck.start_interval_ms),
    }),
    restart: s.restart,
    user: s.user,
    working_dir: s.working_dir,
    hostname: s.hostname,
    extra_hosts: s.extra_hosts,
    cap_add: s.cap_add,
    cap_drop: s.cap_drop,
    privileged: s.privileged,
    devices: s.devices.map((d) => `${d.source}:${d.target}:${d.permissions}`),
    tty: s.tty,
    stdin_open: s.stdin_open,
    logging: s.logging && compact({ driver: s.logging.driver, options: s.logging.options }),
    stop_signal: s.stop_signal,
    stop_grace_period: duration(s.stop_grace_period_ms),
    ulimits: mapValues(s.ulimits, (u) => ({ ...u })),
    sysctls: s.sysctls,
    init: s.init,
    mem_limit: s.mem_limit_bytes,
    cpus: s.cpus,
    pull_policy: s.pull_policy,
    secrets: s.secrets.map(fileMount),
    configs: s.configs.map(fileMount),
    deploy: deploy(s),
    ...hostKeys(s),
  }, ['healthcheck', 'logging']);
}

/** The single-host keys (normalize-host.ts), written back in their compose spelling. */
function hostKeys(s: ServiceModel): Doc {
  return {
    container_name: s.container_name,
    links: s.links?.map((l) => (l.alias === l.service ? l.service : `${l.service}:${l.alias}`)),
    external_links: s.external_links?.map((l) => (l.alias === l.container ? l.container : `${l.container}:${l.alias}`)),
    volumes_from: s.volumes_from?.map((v) => `${v.kind}:${v.name}:${v.read_only ? 'ro' : 'rw'}`),
    profiles: s.profiles, dns: s.dns, dns_search: s.dns_search, dns_opt: s.dns_opt, domainname: s.domainname,
    security_opt: s.security_opt, read_only: s.read_only, shm_size: s.shm_size_bytes, pids_limit: s.pids_limit,
    pid: s.pid, ipc: s.ipc, uts: s.uts, mem_reservation: s.mem_reservation_bytes, mem_swappiness: s.mem_swappiness,
    group_add: s.group_add, cgroup_parent: s.cgroup_parent, device_cgroup_rules: s.device_cgroup_rules,
    storage_opt: s.storage_opt, mac_address: s.mac_address, label_file: s.label_file, platform: s.platform,
  };
}

const duration = (n: number | undefined): string | undefined => (n === undefined ? undefined : ms(n));

function port(p: PortModel): Doc {
  const published = p.published === undefined ? undefined : /^\d+$/.test(p.published) ? Number(p.published) : p.published;
  return compact({ target: p.target, published, host_ip: p.host_ip, protocol: p.protocol, mode: p.mode });
}

function mount(m: MountModel): Doc {
  if (m.type === 'volume') return compact({ type: m.type, source: m.source, target: m.target, read_only: m.read_only, volume: { nocopy: m.nocopy } });
  if (m.type === 'bind') return { type: m.type, source: m.source, target: m.target, read_only: m.read_only, bind: compact({ create_host_path: m.create_host_path, selinux: m.selinux }) };
  return compact({ type: m.type, target: m.target, tmpfs: compact({ size: m.size_bytes, mode: m.mode }) });
}

function fileMount(m: FileMountModel): Doc {
  return compact({ source: m.source, target: m.target, uid: m.uid, gid: m.gid, mode: m.mode });
}

function deploy(s: ServiceModel): Doc {
  const d = s.deploy;
  return compact({
    mode: d.mode,
    // Global mode runs one container per matching host; a replica count there is an error.
    replicas: d.mode === 'global' ? undefined : d.replicas,
    placement: compact({ constraints: d.placement.constraints.map((c) => c.text), preferences: d.placement.preferences, max_replicas_per_node: d.placement.max_replicas_per_node }),
    update_config: {
      parallelism: d.update_config.parallelism,
      delay: ms(d.update_config.delay_ms),
      order: d.update_config.order,
      failure_action: d.update_config.failure_action,
      monitor: ms(d.update_config.monitor_ms),
    },
    labels: d.labels,
    endpoint_mode: d.endpoint_mode,
    resources: s.cpus_reservation === undefined ? undefined : { reservations: { cpus: s.cpus_reservation } },
    restart_policy: compact({
      condition: d.restart_condition,
      max_attempts: d.restart_condition === 'on-failure' ? maxAttempts(s.restart) : undefined,
      delay: duration(s.restart_delay_ms),
      window: duration(s.restart_window_ms),
    }),
  });
}

function maxAttempts(restart: ServiceModel['restart']): number | undefined {
  const m = /^on-failure:(\d+)$/.exec(restart);
  return m ? Number(m[1]) : undefined;
}

/** External objects keep only what differs from the defaults: Docker owns the rest. */
function network(n: NetworkModel): Doc {
  return compact({
    name: n.name,
    external: n.external || undefined,
    driver: n.external && n.driver === 'bridge' ? undefined : n.driver,
    driver_opts: n.driver_opts,
    internal: n.external && !n.internal ? undefined : n.internal,
    attachable: n.external && !n.attachable ? undefined : n.attachable,
    labels: n.labels,
    ipam: n.ipam && { ...(n.ipam.driver === undefined ? {} : { driver: n.ipam.driver }), config: n.ipam.config.map((c) => ({ ...c })) },
  });
}

function volume(v: VolumeModel): Doc {
  return compact({
    name: v.name,
    external: v.external || undefined,
    driver: v.external && v.driver === 'local' ? undefined : v.driver,
    driver_opts: v.driver_opts,
    labels: v.labels,
  });
}

function fileObject(f: FileObjectModel): Doc {
  return compact({ name: f.name, file: f.file, content: f.content, environment: f.environment, external: f.external || undefined });
}
