/**
 * The single-host keys of a service (links, shared namespaces, DNS, security and kernel settings, reservations):
 * each becomes one optional ServiceModel field, present only when written, so stacks that do not use them hash
 * exactly as before. Values are checked here; placement rules (a shared namespace needs both services on one host)
 * are checked by the engine's placement, which knows the hosts.
 */
import type { ServiceModel } from './model.ts';
import { bool, bytes, dict, duration, int, num, obj, show, strings, text, type Issues, type Path, type Raw } from './normalize-values.ts';

/** Service keys read here (SERVICE_KEYS lists them with the rest). */
export const HOST_KEYS = [
  'container_name', 'links', 'external_links', 'volumes_from', 'profiles', 'dns', 'dns_search', 'dns_opt', 'domainname',
  'security_opt', 'read_only', 'shm_size', 'pids_limit', 'pid', 'ipc', 'uts', 'mem_reservation', 'mem_swappiness',
  'group_add', 'cgroup_parent', 'device_cgroup_rules', 'storage_opt', 'mac_address', 'label_file', 'platform',
] as const;

type HostFields = Partial<Pick<ServiceModel, Exclude<keyof ServiceModel, 'name'>>>;

/** Docker's container name rule. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const PROFILE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const DEVICE_RULE = /^[abc] (\*|\d+):(\*|\d+) [rwm]{1,3}$/;

const list = (v: unknown): string[] | undefined => (v === undefined || v === null ? undefined : strings(v));

export function normalizeHostKeys(is: Issues, path: Path, raw: Raw): HostFields {
  const at = (key: string): Path => [...path, key];
  const out: HostFields = {
    container_name: checked(is, at('container_name'), raw.container_name, CONTAINER_NAME, 'a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)'),
    links: links(is, at('links'), raw.links),
    external_links: externalLinks(is, at('external_links'), raw.external_links),
    volumes_from: volumesFrom(is, at('volumes_from'), raw.volumes_from),
    profiles: profiles(is, at('profiles'), raw.profiles),
    dns: list(raw.dns),
    dns_search: list(raw.dns_search),
    dns_opt: list(raw.dns_opt),
    domainname: raw.domainname === undefined ? undefined : text(raw.domainname),
    security_opt: list(raw.security_opt),
    read_only: raw.read_only === undefined ? undefined : bool(is, at('read_only'), raw.read_only, false),
    shm_size_bytes: bytes(is, at('shm_size'), raw.shm_size),
    pids_limit: pidsLimit(is, path, raw),
    pid: namespace(is, at('pid'), raw.pid, ['host']),
    ipc: namespace(is, at('ipc'), raw.ipc, ['host', 'shareable', 'private', 'none']),
    uts: checked(is, at('uts'), raw.uts, /^host$/, 'a UTS mode (only "host")'),
    mem_swappiness: swappiness(is, at('mem_swappiness'), raw.mem_swappiness),
    group_add: list(raw.group_add),
    cgroup_parent: raw.cgroup_parent === undefined ? undefined : text(raw.cgroup_parent),
    device_cgroup_rules: deviceRules(is, at('device_cgroup_rules'), raw.device_cgroup_rules),
    storage_opt: raw.storage_opt === undefined ? undefined : dict(raw.storage_opt, 'empty', is, at('storage_opt')),
    mac_address: checked(is, at('mac_address'), raw.mac_address, MAC, 'a MAC address (02:42:ac:11:00:02)'),
    label_file: list(raw.label_file),
    platform: checked(is, at('platform'), raw.platform, PLATFORM, 'a platform (os/arch[/variant], e.g. linux/amd64)'),
    ...reservations(is, path, raw),
    ...restartTimes(is, path, raw),
  };
  return out;
}

function checked(is: Issues, path: Path, v: unknown, re: RegExp, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = text(v);
  if (!re.test(s)) is.add(path, `${show(v)} is not ${what}`);
  return s;
}

function links(is: Issues, path: Path, v: unknown): ServiceModel['links'] {
  if (!Array.isArray(v)) return undefined;
  return v.map((item) => {
    const [service, alias = service] = text(item).split(':');
    return { service, alias };
  });
}

function externalLinks(is: Issues, path: Path, v: unknown): ServiceModel['external_links'] {
  if (!Array.isArray(v)) return undefined;
  return v.map((item) => {
    const [container, alias = container] = text(item).split(':');
    return { container, alias };
  });
}

function volumesFrom(is: Issues, path: Path, v: unknown): ServiceModel['volumes_from'] {
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((item, i) => {
    const parts = text(item).split(':');
    const kind = parts[0] === 'container' || parts[0] === 'service' ? (parts.shift() as 'container' | 'service') : 'service';
    const [name, mode = 'rw'] = parts;
    if (!name || (mode !== 'ro' && mode !== 'rw') || parts.length > 2) {
      is.add([...path, i], `${show(item)} is not SERVICE[:ro|rw] or container:NAME[:ro|rw]`);
      return [];
    }
    return [{ kind, name, read_only: mode === 'ro' }];
  });
}

function profiles(is: Issues, path: Path, v: unknown): string[] | undefined {
  const out = list(v);
  out?.forEach((p, i) => {
    if (!PROFILE.test(p)) is.add([...path, i], `${show(p)} is not a profile name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`);
  });
  return out;
}

/** `host`, `service:NAME`, `container:NAME`, or one of `modes`; undefined when absent. */
function namespace(is: Issues, path: Path, v: unknown, modes: string[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = text(v);
  if (modes.includes(s) || /^(service|container):[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s)) return s;
  is.add(path, `${show(v)} is not ${modes.join(', ')}, service:NAME or container:NAME`);
  return undefined;
}

function pidsLimit(is: Issues, path: Path, raw: Raw): number | undefined {
  const direct = int(is, [...path, 'pids_limit'], raw.pids_limit);
  const limits = obj(obj(obj(raw.deploy).resources).limits);
  const fromDeploy = int(is, [...path, 'deploy', 'resources', 'limits', 'pids'], limits.pids);
  if (direct !== undefined && fromDeploy !== undefined && direct !== fromDeploy) is.add([...path, 'pids_limit'], 'pids_limit and deploy.resources.limits.pids disagree; keep one');
  return direct ?? fromDeploy;
}

function swappiness(is: Issues, path: Path, v: unknown): number | undefined {
  const n = int(is, path, v);
  if (n !== undefined && (n < 0 || n > 100)) is.add(path, `must be between 0 and 100, got ${n}`);
  return n;
}

function deviceRules(is: Issues, path: Path, v: unknown): string[] | undefined {
  const out = list(v);
  out?.forEach((r, i) => {
    if (!DEVICE_RULE.test(r)) is.add([...path, i], `${show(r)} is not a device cgroup rule (e.g. "c 1:3 mr", "a *:* rwm")`);
  });
  return out;
}

/** mem_reservation or deploy.resources.reservations.memory (both set must agree); reservations.cpus is kept as written. */
function reservations(is: Issues, path: Path, raw: Raw): HostFields {
  const res = obj(obj(obj(raw.deploy).resources).reservations);
  const resPath = [...path, 'deploy', 'resources', 'reservations'];
  const direct = bytes(is, [...path, 'mem_reservation'], raw.mem_reservation);
  const fromDeploy = bytes(is, [...resPath, 'memory'], res.memory);
  if (direct !== undefined && fromDeploy !== undefined && direct !== fromDeploy) is.add([...path, 'mem_reservation'], 'mem_reservation and deploy.resources.reservations.memory disagree; keep one');
  return { mem_reservation_bytes: direct ?? fromDeploy, cpus_reservation: num(is, [...resPath, 'cpus'], res.cpus) };
}

function restartTimes(is: Issues, path: Path, raw: Raw): HostFields {
  const policy = obj(obj(raw.deploy).restart_policy);
  const at = [...path, 'deploy', 'restart_policy'];
  return { restart_delay_ms: duration(is, [...at, 'delay'], policy.delay), restart_window_ms: duration(is, [...at, 'window'], policy.window) };
}
