/** One service of a validated compose document → ServiceModel, short forms made long, defaults explicit. */
import type { FileMountModel, HealthcheckModel, ServiceModel } from './model.ts';
import { normalizeDeploy, normalizeLimits, normalizeRestart } from './normalize-deploy.ts';
import { normalizeTmpfs, normalizeVolumes } from './normalize-mounts.ts';
import { HOST_KEYS, normalizeHostKeys } from './normalize-host.ts';
import { normalizeExpose, normalizePorts } from './normalize-ports.ts';
import { bool, dict, duration, fileMode, int, isObject, obj, shellSplit, show, strings, text, type Issues, type Path, type Raw } from './normalize-values.ts';

/** Service keys read here; with UNSUPPORTED_KEYS they cover every key of the Compose schema's service. */
export const SERVICE_KEYS = [
  'image', 'command', 'entrypoint', 'environment', 'env_file', 'labels', 'ports', 'expose', 'volumes', 'tmpfs',
  'networks', 'network_mode', 'depends_on', 'healthcheck', 'restart', 'user', 'working_dir', 'hostname',
  'extra_hosts', 'cap_add', 'cap_drop', 'privileged', 'devices', 'tty', 'stdin_open', 'logging', 'stop_signal',
  'stop_grace_period', 'ulimits', 'sysctls', 'init', 'mem_limit', 'cpus', 'pull_policy', 'secrets', 'configs',
  'deploy', 'scale', 'extends', ...HOST_KEYS,
] as const;

export function normalizeService(is: Issues, name: string, raw: Raw): ServiceModel {
  const p: Path = ['services', name];
  const at = (key: string): Path => [...p, key];
  const optionalText = (v: unknown): string | undefined => (v === undefined ? undefined : text(v));
  const service: ServiceModel = {
    name,
    image: text(raw.image),
    command: argv(is, at('command'), raw.command),
    entrypoint: argv(is, at('entrypoint'), raw.entrypoint),
    environment: dict(raw.environment, 'drop', is, at('environment')),
    environment_from_dotenv: valueless(raw.environment),
    env_file: envFiles(is, at('env_file'), raw.env_file),
    labels: dict(raw.labels, 'empty', is, at('labels')),
    ports: normalizePorts(is, at('ports'), raw.ports),
    expose: normalizeExpose(is, at('expose'), raw.expose),
    volumes: [...normalizeVolumes(is, at('volumes'), raw.volumes), ...normalizeTmpfs(is, at('tmpfs'), raw.tmpfs)],
    networks: networks(is, at('networks'), raw),
    network_mode: optionalText(raw.network_mode),
    depends_on: dependsOn(is, at('depends_on'), raw.depends_on),
    healthcheck: healthcheck(is, at('healthcheck'), raw.healthcheck),
    restart: normalizeRestart(is, p, raw),
    user: optionalText(raw.user),
    working_dir: optionalText(raw.working_dir),
    hostname: optionalText(raw.hostname),
    extra_hosts: extraHosts(is, at('extra_hosts'), raw.extra_hosts),
    cap_add: strings(raw.cap_add),
    cap_drop: strings(raw.cap_drop),
    privileged: bool(is, at('privileged'), raw.privileged, false),
    devices: devices(is, at('devices'), raw.devices),
    tty: bool(is, at('tty'), raw.tty, false),
    stdin_open: bool(is, at('stdin_open'), raw.stdin_open, false),
    logging: raw.logging === undefined ? undefined : logging(is, at('logging'), obj(raw.logging)),
    stop_signal: optionalText(raw.stop_signal),
    stop_grace_period_ms: duration(is, at('stop_grace_period'), raw.stop_grace_period),
    ulimits: ulimits(is, at('ulimits'), raw.ulimits),
    sysctls: dict(raw.sysctls, 'empty', is, at('sysctls')),
    init: bool(is, at('init'), raw.init, false),
    ...normalizeLimits(is, p, raw),
    pull_policy: pullPolicy(is, at('pull_policy'), raw.pull_policy),
    secrets: fileMounts(is, at('secrets'), raw.secrets, '/run/secrets/'),
    configs: fileMounts(is, at('configs'), raw.configs, '/'),
    deploy: normalizeDeploy(is, p, raw),
    ...normalizeHostKeys(is, p, raw),
  };
  service.depends_on = { ...implicitDependencies(service), ...service.depends_on };
  // Absent optional fields are left out rather than set to undefined, so models compare by content.
  return Object.fromEntries(Object.entries(service).filter(([, v]) => v !== undefined)) as unknown as ServiceModel;
}

/** `- KEY` or `KEY:` with no value: compose takes these from its shell; Berth from the environment folder's `.env`. */
function valueless(v: unknown): string[] | undefined {
  const keys = Array.isArray(v)
    ? v.map(text).filter((s) => !s.includes('='))
    : Object.entries(obj(v)).filter(([, val]) => val === null || val === undefined).map(([k]) => k);
  return keys.length ? [...new Set(keys)].sort() : undefined;
}

/**
 * What compose starts first without being told: the service whose network, IPC or PID namespace this one joins,
 * whose volumes it mounts, and which it links to. Sharing a namespace also means a recreated peer takes this one
 * with it (restart: true), as compose v2 does.
 */
export function implicitDependencies(svc: ServiceModel): ServiceModel['depends_on'] {
  const out: ServiceModel['depends_on'] = {};
  const add = (name: string, restart: boolean) => {
    if (name !== svc.name) out[name] = { condition: 'service_started', required: true, restart: restart || (out[name]?.restart ?? false) };
  };
  for (const ns of [svc.network_mode, svc.ipc, svc.pid]) {
    const peer = /^service:(.+)$/.exec(ns ?? '')?.[1];
    if (peer) add(peer, true);
  }
  for (const v of svc.volumes_from ?? []) if (v.kind === 'service') add(v.name, true);
  for (const l of svc.links ?? []) add(l.service, false);
  return out;
}

/** A string is split like a shell would; a list is taken as written. */
function argv(is: Issues, path: Path, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(text);
  const words = shellSplit(text(v));
  if (typeof words === 'string') is.add(path, `${show(v)} cannot be split into words: ${words}`);
  return typeof words === 'string' ? undefined : words;
}

function envFiles(is: Issues, path: Path, v: unknown): string[] {
  const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return items.map((item, i) => {
    if (!isObject(item)) return text(item);
    if (!bool(is, [...path, i, 'required'], item.required, true)) is.add([...path, i, 'required'], 'optional env files are not supported: every env file is read when the stack is applied');
    return text(item.path);
  });
}

function networks(is: Issues, path: Path, raw: Raw): ServiceModel['networks'] {
  const v = raw.networks;
  const empty = v === undefined || v === null || (Array.isArray(v) ? !v.length : !Object.keys(obj(v)).length);
  if (empty) return raw.network_mode === undefined ? { default: { aliases: [] } } : {};
  if (raw.network_mode !== undefined) is.add(path, 'networks and network_mode cannot both be set');
  // Compose creates the container on the network of highest priority, ties by name, and connects the others
  // after: that network holds the default route. The order of the entries here is that order.
  const entries: Array<[string, ServiceModel['networks'][string], number]> = Array.isArray(v)
    ? v.map((n) => [text(n), { aliases: [] }, 0])
    : Object.entries(obj(v)).map(([name, n]) => {
      const o = obj(n);
      const addr = (key: string): Record<string, string> => (o[key] === undefined ? {} : { [key]: text(o[key]) });
      return [name, { aliases: strings(o.aliases), ...addr('ipv4_address'), ...addr('ipv6_address') }, int(is, [...path, name, 'priority'], o.priority) ?? 0];
    });
  entries.sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries.map(([name, n]) => [name, n]));
}

function dependsOn(is: Issues, path: Path, v: unknown): ServiceModel['depends_on'] {
  if (Array.isArray(v)) return Object.fromEntries(v.map((s) => [text(s), { condition: 'service_started', required: true, restart: false }]));
  return Object.fromEntries(Object.entries(obj(v)).map(([name, d]) => {
    const o = obj(d);
    const condition = (o.condition === undefined ? 'service_started' : text(o.condition)) as ServiceModel['depends_on'][string]['condition'];
    return [name, { condition, required: bool(is, [...path, name, 'required'], o.required, true), restart: bool(is, [...path, name, 'restart'], o.restart, false) }];
  }));
}

const TEST_KINDS = ['NONE', 'CMD', 'CMD-SHELL'];

function healthcheck(is: Issues, path: Path, v: unknown): HealthcheckModel | undefined {
  if (v === undefined || v === null) return undefined;
  const raw = obj(v);
  if (bool(is, [...path, 'disable'], raw.disable, false)) {
    const extra = Object.keys(raw).filter((k) => k !== 'disable' && !k.startsWith('x-'));
    if (extra.length) is.add(path, `${extra.join(', ')} has no effect with disable: true`);
    return { test: ['NONE'] };
  }
  let test: string[] = [];
  if (typeof raw.test === 'string') test = ['CMD-SHELL', raw.test];
  else if (Array.isArray(raw.test)) test = raw.test.map(text);
  if (test.length && !TEST_KINDS.includes(test[0])) is.add([...path, 'test'], `a test list starts with NONE, CMD or CMD-SHELL, got ${show(test[0])}`);
  else if (test[0] === 'NONE') test = ['NONE'];
  else if (test.length === 1 || (test[0] === 'CMD-SHELL' && !test[1]?.trim())) is.add([...path, 'test'], 'the test has no command');
  const ms = (key: string, model: string): Record<string, number> => {
    const n = duration(is, [...path, key], raw[key]);
    return n === undefined ? {} : { [model]: n };
  };
  const retries = int(is, [...path, 'retries'], raw.retries);
  return {
    test, ...ms('interval', 'interval_ms'), ...ms('timeout', 'timeout_ms'), ...(retries === undefined ? {} : { retries }),
    ...ms('start_period', 'start_period_ms'), ...ms('start_interval', 'start_interval_ms'),
  };
}

/** `host:ip`, `host=ip` or a mapping of host to address(es), as `host:ip`. */
function extraHosts(is: Issues, path: Path, v: unknown): string[] {
  const pairs: [string, string, Path][] = Array.isArray(v)
    ? v.map((item, i) => {
        const s = text(item);
        const at = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
        return at < 0 ? [s, '', [...path, i]] : [s.slice(0, at), s.slice(at + 1), [...path, i]];
      })
    : Object.entries(obj(v)).flatMap(([host, ip]) => strings(ip).map((one): [string, string, Path] => [host, one, [...path, host]]));
  return pairs.flatMap(([host, ip, at]) => {
    if (host && ip) return [`${host}:${ip}`];
    is.add(at, `expected HOST:IP or HOST=IP, got ${show(ip ? host : `${host}${ip}`)}`);
    return [];
  });
}

function devices(is: Issues, path: Path, v: unknown): ServiceModel['devices'] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => {
    let [source, target, permissions] = isObject(item) ? [text(item.source), text(item.target), text(item.permissions)] : text(item).split(':');
    if (!permissions && target && /^[rwm]+$/.test(target)) [target, permissions] = ['', target];
    const device = { source, target: target || source, permissions: permissions || 'rwm' };
    if (!device.source.startsWith('/') || !device.target.startsWith('/') || !/^[rwm]{1,3}$/.test(device.permissions)) {
      is.add([...path, i], `${show(item)} is not a device; write /dev/HOST[:/dev/CONTAINER[:rwm]]`);
      return [];
    }
    return [device];
  });
}

function logging(is: Issues, path: Path, raw: Raw): NonNullable<ServiceModel['logging']> {
  return { ...(raw.driver === undefined ? {} : { driver: text(raw.driver) }), options: dict(raw.options, 'empty', is, [...path, 'options']) };
}

function ulimits(is: Issues, path: Path, v: unknown): ServiceModel['ulimits'] {
  const out: ServiceModel['ulimits'] = {};
  for (const [name, u] of Object.entries(obj(v))) {
    const at = [...path, name];
    const soft = int(is, isObject(u) ? [...at, 'soft'] : at, isObject(u) ? u.soft : u);
    const hard = isObject(u) ? int(is, [...at, 'hard'], u.hard) : soft;
    if (soft === undefined || hard === undefined) continue;
    if (soft > hard) is.add(at, `the soft limit ${soft} is above the hard limit ${hard}`);
    out[name] = { soft, hard };
  }
  return out;
}

const PULL_POLICIES = ['always', 'never', 'missing', 'if_not_present'];

function pullPolicy(is: Issues, path: Path, v: unknown): ServiceModel['pull_policy'] {
  if (v === undefined || v === null) return 'missing';
  const policy = text(v);
  if (PULL_POLICIES.includes(policy)) return policy as ServiceModel['pull_policy'];
  is.add(path, policy === 'build' ? 'pull_policy "build" is not supported: Berth never builds images' : `pull_policy ${show(policy)} is not supported (${PULL_POLICIES.join(', ')})`);
  return 'missing';
}

/** Short `name` or long form; a relative or missing target lands under `dir` (`/run/secrets/` or `/`). */
function fileMounts(is: Issues, path: Path, v: unknown, dir: string): FileMountModel[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => {
    const o: Raw = isObject(item) ? item : { source: item };
    const source = text(o.source);
    if (!source) {
      is.add([...path, i], 'a mount needs a source');
      return [];
    }
    const target = o.target === undefined ? source : text(o.target);
    const mode = fileMode(is, [...path, i, 'mode'], o.mode);
    return [{
      source, target: target.startsWith('/') ? target : `${dir}${target}`,
      ...(o.uid === undefined ? {} : { uid: text(o.uid) }), ...(o.gid === undefined ? {} : { gid: text(o.gid) }),
      ...(mode === undefined ? {} : { mode }),
    }];
  });
}
