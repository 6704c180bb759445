/**
 * `deploy`, `scale` and the restart policy. Berth spreads replicas over standalone Docker hosts itself, so it
 * keeps what it can honour — mode, replicas, placement constraints on node labels, rolling-update settings,
 * resource limits — and the unsupported-keys table reports the rest.
 */
import type { DeployModel, PlacementConstraint, ServiceModel } from './model.ts';
import { bytes, duration, int, num, obj, show, text, dict, type Issues, type Path, type Raw } from './normalize-values.ts';

/** Compose's default monitor is 5s; Berth gives a new container a minute to prove itself. */
export const DEFAULT_MONITOR_MS = 60_000;

const CONSTRAINT = /^node\.(labels\.([A-Za-z0-9_.-]+)|hostname)\s*(==|!=)\s*(\S(?:.*\S)?)$/;

export function parseConstraint(text: string): PlacementConstraint | undefined {
  const m = CONSTRAINT.exec(text.trim());
  if (!m) return undefined;
  return { label: m[2] ?? 'hostname', op: m[3] as '==' | '!=', value: m[4], text: text.trim() };
}

export function normalizeDeploy(is: Issues, path: Path, svc: Raw): DeployModel {
  const raw = obj(svc.deploy);
  const at = [...path, 'deploy'];
  const mode = raw.mode === undefined ? 'replicated' : text(raw.mode);
  if (mode !== 'replicated' && mode !== 'global') is.add([...at, 'mode'], `mode must be "replicated" or "global", got ${show(mode)}`);
  return {
    mode: mode === 'global' ? 'global' : 'replicated',
    replicas: replicas(is, path, svc, mode === 'global'),
    placement: placement(is, [...at, 'placement'], obj(raw.placement), mode === 'global'),
    update_config: updateConfig(is, [...at, 'update_config'], obj(raw.update_config)),
    labels: dict(raw.labels, 'empty', is, [...at, 'labels']),
    ...endpointMode(is, [...at, 'endpoint_mode'], raw.endpoint_mode),
    ...restartCondition(obj(raw.restart_policy).condition),
  };
}

/** Checked by normalizeRestart, which reports a bad condition; here only a valid one is kept. */
function restartCondition(v: unknown): Pick<DeployModel, 'restart_condition'> {
  const c = v === undefined ? undefined : text(v);
  return c === 'none' || c === 'on-failure' || c === 'any' ? { restart_condition: c } : {};
}

/** Swarm's service discovery mode; standalone hosts refuse it (engines/standalone/swarm-only.ts). */
function endpointMode(is: Issues, path: Path, v: unknown): Pick<DeployModel, 'endpoint_mode'> {
  if (v === undefined) return {};
  const mode = text(v);
  if (mode !== 'vip' && mode !== 'dnsrr') {
    is.add(path, `endpoint_mode must be "vip" or "dnsrr", got ${show(v)}`);
    return {};
  }
  return { endpoint_mode: mode };
}

function replicas(is: Issues, path: Path, svc: Raw, global: boolean): number {
  const fromDeploy = int(is, [...path, 'deploy', 'replicas'], obj(svc.deploy).replicas);
  const fromScale = int(is, [...path, 'scale'], svc.scale);
  if (fromDeploy !== undefined && fromScale !== undefined && fromDeploy !== fromScale) {
    is.add([...path, 'scale'], `scale (${fromScale}) and deploy.replicas (${fromDeploy}) disagree; keep one`);
  }
  const n = fromDeploy ?? fromScale;
  if (global && n !== undefined) is.add([...path, 'deploy', 'replicas'], 'replicas has no meaning in global mode (one container per matching host)');
  if (n !== undefined && n < 0) is.add([...path, 'deploy', 'replicas'], `replicas cannot be negative, got ${n}`);
  return global ? 1 : Math.max(0, n ?? 1);
}

const SPREAD = /^node\.labels\.[A-Za-z0-9_.-]+$/;

function placement(is: Issues, path: Path, raw: Raw, global: boolean): DeployModel['placement'] {
  const prefs = preferences(is, [...path, 'preferences'], raw.preferences);
  const max = int(is, [...path, 'max_replicas_per_node'], raw.max_replicas_per_node);
  if (max !== undefined && max < 0) is.add([...path, 'max_replicas_per_node'], `max_replicas_per_node cannot be negative, got ${max}`);
  // As the docker CLI: a global service runs one task per node already.
  if (max && global) is.add([...path, 'max_replicas_per_node'], 'max_replicas_per_node has no meaning in global mode (one replica per matching node); remove it or use mode: replicated');
  return {
    constraints: constraints(is, [...path, 'constraints'], raw.constraints),
    ...(prefs.length ? { preferences: prefs } : {}),
    ...(max && max > 0 ? { max_replicas_per_node: max } : {}),
  };
}

function preferences(is: Issues, path: Path, v: unknown): { spread: string }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    is.add(path, `preferences must be a list of { spread: node.labels.KEY }, got ${show(v)}`);
    return [];
  }
  return v.flatMap((item, i) => {
    const spread = obj(item).spread;
    const keys = Object.keys(obj(item));
    if (typeof spread !== 'string' || !SPREAD.test(spread.trim()) || keys.length !== 1) {
      is.add([...path, i], `preference ${show(item)} is not supported; write { spread: node.labels.KEY }`);
      return [];
    }
    return [{ spread: spread.trim() }];
  });
}

function constraints(is: Issues, path: Path, v: unknown): PlacementConstraint[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => {
    const c = parseConstraint(text(item));
    if (!c) is.add([...path, i], `constraint ${show(item)} is not supported; write node.labels.KEY == VALUE, node.labels.KEY != VALUE or node.hostname == NAME`);
    return c ? [c] : [];
  });
}

const ORDERS = ['stop-first', 'start-first'];
const FAILURE_ACTIONS = ['rollback', 'pause', 'continue'];

function updateConfig(is: Issues, path: Path, raw: Raw): DeployModel['update_config'] {
  const order = raw.order === undefined ? 'stop-first' : text(raw.order);
  const failure = raw.failure_action === undefined ? 'rollback' : text(raw.failure_action);
  if (!ORDERS.includes(order)) is.add([...path, 'order'], `order must be one of ${ORDERS.join(', ')}, got ${show(order)}`);
  if (!FAILURE_ACTIONS.includes(failure)) is.add([...path, 'failure_action'], `failure_action must be one of ${FAILURE_ACTIONS.join(', ')}, got ${show(failure)}`);
  const parallelism = int(is, [...path, 'parallelism'], raw.parallelism) ?? 1;
  if (parallelism < 1) is.add([...path, 'parallelism'], 'parallelism must be at least 1');
  return {
    parallelism: Math.max(1, parallelism),
    delay_ms: duration(is, [...path, 'delay'], raw.delay) ?? 0,
    order: order as DeployModel['update_config']['order'],
    failure_action: failure as DeployModel['update_config']['failure_action'],
    monitor_ms: duration(is, [...path, 'monitor'], raw.monitor) ?? DEFAULT_MONITOR_MS,
  };
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
const CONDITION_TO_RESTART: Record<string, ServiceModel['restart']> = { none: 'no', 'on-failure': 'on-failure', any: 'always' };

/** `restart`, or else swarm's `deploy.restart_policy` mapped onto it (none → no, on-failure, any → always). */
export function normalizeRestart(is: Issues, path: Path, svc: Raw): ServiceModel['restart'] {
  const policy = obj(obj(svc.deploy).restart_policy);
  const policyPath = [...path, 'deploy', 'restart_policy'];
  let fromPolicy: ServiceModel['restart'] | undefined;
  if (policy.condition !== undefined || policy.max_attempts !== undefined) {
    const condition = policy.condition === undefined ? 'any' : text(policy.condition);
    fromPolicy = CONDITION_TO_RESTART[condition];
    if (!fromPolicy) is.add([...policyPath, 'condition'], `condition must be none, on-failure or any, got ${show(condition)}`);
    const attempts = int(is, [...policyPath, 'max_attempts'], policy.max_attempts);
    if (attempts !== undefined && fromPolicy === 'on-failure') fromPolicy = `on-failure:${attempts}`;
    else if (attempts !== undefined) is.add([...policyPath, 'max_attempts'], 'max_attempts only applies with condition: on-failure');
  }
  if (svc.restart === undefined) return fromPolicy ?? 'no';
  const restart = text(svc.restart);
  if (!RESTART.test(restart)) {
    is.add([...path, 'restart'], `restart must be no, always, on-failure[:N] or unless-stopped, got ${show(svc.restart)}`);
    return 'no';
  }
  if (fromPolicy && fromPolicy !== restart) is.add(policyPath, `restart (${restart}) and deploy.restart_policy (${fromPolicy}) disagree; keep one`);
  return restart as ServiceModel['restart'];
}

/** Memory and CPU limits from the service keys or deploy.resources.limits; both set must agree. */
export function normalizeLimits(is: Issues, path: Path, svc: Raw): { mem_limit_bytes?: number; cpus?: number } {
  const limits = obj(obj(obj(svc.deploy).resources).limits);
  const limitsPath = [...path, 'deploy', 'resources', 'limits'];
  const mem = agree(is, path, 'mem_limit', bytes(is, [...path, 'mem_limit'], svc.mem_limit), bytes(is, [...limitsPath, 'memory'], limits.memory));
  const cpus = agree(is, path, 'cpus', num(is, [...path, 'cpus'], svc.cpus), num(is, [...limitsPath, 'cpus'], limits.cpus));
  return { ...(mem === undefined ? {} : { mem_limit_bytes: mem }), ...(cpus === undefined ? {} : { cpus }) };
}

function agree(is: Issues, path: Path, key: string, direct: number | undefined, fromDeploy: number | undefined): number | undefined {
  if (direct !== undefined && fromDeploy !== undefined && direct !== fromDeploy) {
    is.add([...path, key], `${key} and deploy.resources.limits disagree; keep one`);
  }
  return direct ?? fromDeploy;
}
