/**
 * The labels every object Berth makes carries. Berth finds its objects by these labels alone (no state file),
 * and it also writes docker compose v2's labels so `docker compose -p STACK ps|logs|exec` work on a host.
 */

export const LABEL = {
  managed: 'berth.managed',
  stack: 'berth.stack',
  service: 'berth.service',
  number: 'berth.number',
  configHash: 'berth.config-hash',
  /** JSON of the masked config (DesiredService.config): lets a later plan name the fields that changed. */
  config: 'berth.config',
  /**
   * On a container made to replace another in a rolling update: JSON `{replaces, wasRunning}`. With the old
   * container's `-old-` name it is all the next reconcile needs to finish or undo an update a crash interrupted.
   */
  rollout: 'berth.rollout',
  /** The environment that deployed the object (environment/identity.ts); another environment leaves it alone. */
  owner: 'berth.owner',
  network: 'berth.network',
  volume: 'berth.volume',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  composeNumber: 'com.docker.compose.container-number',
  composeOneoff: 'com.docker.compose.oneoff',
  composeConfigHash: 'com.docker.compose.config-hash',
  composeNetwork: 'com.docker.compose.network',
  composeVolume: 'com.docker.compose.volume',
  composeVersion: 'com.docker.compose.version',
  composeWorkingDir: 'com.docker.compose.project.working_dir',
  composeConfigFiles: 'com.docker.compose.project.config_files',
} as const;

/**
 * The compose version Berth's labels and objects correspond to: `docker compose ls` and tools reading the
 * labels expect a compose version here, and Berth writes what compose v2 writes.
 */
export const COMPOSE_LABEL_VERSION = '2.20.2';

/** Where a stack's relative paths resolve (the environment root) and the files it was rendered from. */
export interface ProjectLabels {
  working_dir: string;
  config_files: string;
}

/** compose v2's container name format, so names match what `docker compose up` would make. */
export function containerName(stack: string, service: string, number: number): string {
  return `${stack}-${service}-${number}`;
}

function stackLabels(stack: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.stack]: stack, [LABEL.composeProject]: stack, [LABEL.composeVersion]: COMPOSE_LABEL_VERSION };
}

export function containerLabels(stack: string, service: string, number: number, hash: string, config: Record<string, unknown>, project?: ProjectLabels, owner?: string): Record<string, string> {
  return {
    ...stackLabels(stack),
    ...(project ? { [LABEL.composeWorkingDir]: project.working_dir, [LABEL.composeConfigFiles]: project.config_files } : {}),
    ...(owner ? { [LABEL.owner]: owner } : {}),
    [LABEL.service]: service,
    [LABEL.number]: String(number),
    [LABEL.configHash]: hash,
    [LABEL.config]: JSON.stringify(config),
    [LABEL.composeService]: service,
    [LABEL.composeNumber]: String(number),
    // compose lists only containers with oneoff=False in `ps`; `run` containers are True.
    [LABEL.composeOneoff]: 'False',
    [LABEL.composeConfigHash]: hash,
  };
}

/** `key` is the network's key in the compose file (`default`), not its name on the host (`shop_default`). */
export function networkLabels(stack: string, key: string): Record<string, string> {
  return { ...stackLabels(stack), [LABEL.network]: key, [LABEL.composeNetwork]: key };
}

export function volumeLabels(stack: string, key: string): Record<string, string> {
  return { ...stackLabels(stack), [LABEL.volume]: key, [LABEL.composeVolume]: key };
}

/** Docker API label filters selecting one stack's objects (or every Berth object without `stack`). */
export function labelFilter(stack?: string): string[] {
  return stack === undefined ? [`${LABEL.managed}=true`] : [`${LABEL.stack}=${stack}`];
}

export interface ParsedContainerLabels {
  stack: string;
  service: string;
  number: number;
  hash?: string;
  config?: Record<string, unknown>;
  rollout?: RolloutMark;
  owner?: string;
}

/** What a replacement container says of the one it replaces. */
export interface RolloutMark {
  replaces: string;
  /** The old container was running before the update touched it (stop-first stops it first). */
  wasRunning: boolean;
}

export function rolloutLabel(mark: RolloutMark): Record<string, string> {
  return { [LABEL.rollout]: JSON.stringify(mark) };
}

/** `<stack>-<service>-<n>-old-<12 hex>`: the name a replica's old container has while its replacement proves itself. */
export function asideName(stack: string, service: string, number: number, id: string): string {
  return `${containerName(stack, service, number)}-old-${id.replace(/^sha256:/, '').slice(0, 12)}`;
}

export function isAsideName(name: string, stack: string, service: string, number: number): boolean {
  const prefix = `${containerName(stack, service, number)}-old-`;
  return name.startsWith(prefix) && /^[0-9a-f]{12}$/.test(name.slice(prefix.length));
}

function parseRollout(text: string | undefined): RolloutMark | undefined {
  const v = parseConfig(text);
  return v && typeof v.replaces === 'string' ? { replaces: v.replaces, wasRunning: v.wasRunning === true } : undefined;
}

function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9]\d*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a container's identity. A container made by `docker compose -p STACK up` has only compose's labels:
 * it is recognised (so Berth can adopt it) but has no Berth hash, so the plan recreates it.
 */
export function parseContainerLabels(labels: Record<string, string> | undefined): ParsedContainerLabels | undefined {
  if (!labels) return undefined;
  const berth = labels[LABEL.stack] !== undefined;
  const stack = berth ? labels[LABEL.stack] : labels[LABEL.composeProject];
  const service = berth ? labels[LABEL.service] : labels[LABEL.composeService];
  const number = parseNumber(berth ? labels[LABEL.number] : labels[LABEL.composeNumber]);
  if (!stack || !service || number === undefined) return undefined;
  if (!berth && labels[LABEL.composeOneoff] === 'True') return undefined;
  const parsed: ParsedContainerLabels = { stack, service, number };
  if (berth && labels[LABEL.configHash]) parsed.hash = labels[LABEL.configHash];
  const config = berth ? parseConfig(labels[LABEL.config]) : undefined;
  if (config) parsed.config = config;
  const rollout = berth ? parseRollout(labels[LABEL.rollout]) : undefined;
  if (rollout) parsed.rollout = rollout;
  if (berth && labels[LABEL.owner]) parsed.owner = labels[LABEL.owner];
  return parsed;
}
