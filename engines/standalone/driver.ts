/**
 * The HostDriver of one standalone Docker engine: observe reads, the other verbs write exactly one thing
 * each so execute.ts can report and time every step. Connection failures become UnreachableError; API
 * errors keep the engine's own message with the host named.
 */
import type { Readable } from 'node:stream';
import type { ImageIdentity } from '../docker/pinned.ts';
import type Docker from 'dockerode';
import { BerthError } from '../../lib/errors.ts';
import type { NetworkModel, VolumeModel } from '../../catalog/model.ts';
import { connectHost, DEFAULT_TIMEOUT_MS, isConnectionError, pingHost, unreachable, withDeadline } from '../docker/connect.ts';
import { endpointConfig, type ContainerSpec } from './container-spec.ts';
import { followEvents, type DockerEvent, type StreamState } from '../docker/event-stream.ts';
import { followDemuxed } from '../docker/logs.ts';
import { CONTAINER_ACTIONS } from '../drift.ts';
import { LABEL, labelFilter, networkLabels, parseContainerLabels, volumeLabels } from '../docker/labels.ts';
import { authFor, DEFAULT_PULL_TIMEOUT_MS, imagePresent, needsPull, pullImage, type PullPolicy, type RegistryCredential } from '../docker/pull.ts';
import { tarFiles } from '../docker/tar.ts';
import type { ContainerState, HostDriver, HostInventory, ObservedContainer, ObservedHost } from './types.ts';
import type { HostSpec } from '../../environment/types.ts';

/** The write verbs execute.ts needs, on top of HostDriver's reads (a fake or a Swarm driver can implement them too). */
export interface EngineDriver extends HostDriver {
  ensureImage(ref: string, policy: PullPolicy, registries?: readonly RegistryCredential[], signal?: AbortSignal): Promise<'present' | 'pulled'>;
  createNetwork(stack: string, key: string, network: NetworkModel): Promise<'created' | 'exists'>;
  createVolume(stack: string, key: string, volume: VolumeModel): Promise<'created' | 'exists'>;
  createContainer(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, graceMs?: number): Promise<void>;
  remove(id: string, opts?: { force?: boolean }): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  removeNetwork(name: string): Promise<'removed' | 'in-use' | 'absent'>;
  /** The containers attached to a network, in any state (a network is removed only once it has none). */
  networkUsers(name: string): Promise<Array<{ id: string; name: string }>>;
  inspect(id: string): Promise<Docker.ContainerInspectInfo>;
  logsTail(id: string, lines?: number): Promise<string>;
  /** The last `tail` lines, then every new one until `signal` aborts (the console's live logs). */
  followLogs?(id: string, opts: { tail: number; signal: AbortSignal }, onText: (text: string) => void): Promise<void>;
  /** What each reference (a tag, a pinned reference or an image ID) names on the host: the ledger pins what runs. */
  imageDigests?(refs: string[]): Promise<Record<string, ImageIdentity>>;
  /** Every stack on the host in one read (a pass over many stacks); without it each stack is observed alone. */
  inventory?(): Promise<HostInventory>;
  /** Follows the host's events until `signal` aborts (engines/docker/event-stream.ts). */
  watch?(onEvent: (e: DockerEvent) => void, onState: (s: StreamState) => void, signal: AbortSignal): Promise<void>;
}

export type { ImageIdentity } from '../docker/pinned.ts';

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** Docker's JSON error body says it best; dockerode puts it under `json.message`. */
function apiMessage(e: unknown): string {
  const err = e as { json?: { message?: string }; message?: string };
  return err.json?.message ?? err.message ?? String(e);
}

/** Multiplexed log frames (8-byte headers) when the container has no tty; plain text otherwise. */
export function demuxLogs(buf: Buffer): string {
  const framed = buf.length >= 8 && buf[0] <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!framed) return buf.toString('utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

export class DockerHostDriver implements EngineDriver {
  readonly host: HostSpec;
  readonly docker: Docker;

  constructor(host: HostSpec, opts: { docker?: Docker; timeoutMs?: number } = {}) {
    this.host = host;
    this.docker = opts.docker ?? connectHost(host, { timeoutMs: opts.timeoutMs });
  }

  /** Runs one engine call, turning failures into Berth errors that name the host and the step. */
  private async call<T>(what: string, fn: () => Promise<T>, deadlineMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    try {
      return await withDeadline(`host ${this.host.name}: ${what}`, deadlineMs, fn());
    } catch (e) {
      if (e instanceof BerthError) throw e;
      if (isConnectionError(e)) throw unreachable(this.host, e);
      throw new BerthError('docker.api', 'internal', `host ${this.host.name}: ${what}: ${apiMessage(e)}`, { data: { host: this.host.name, status: statusOf(e) }, cause: e });
    }
  }

  ping(signal?: AbortSignal): Promise<void> {
    return pingHost(this.docker, this.host, { signal });
  }

  async observe(stack: string, opts: { images?: string[] } = {}): Promise<ObservedHost> {
    try {
      await this.ping();
      const filters = JSON.stringify({ label: labelFilter(stack) });
      const [containers, networks, volumes] = await Promise.all([
        this.observeContainers(stack),
        this.call('list networks', () => this.docker.listNetworks({ filters })),
        this.call('list volumes', () => this.docker.listVolumes({ filters })),
      ]);
      const images = await this.resolveImages([...containers.map((c) => c.image), ...(opts.images ?? [])]);
      return stackOnHost(this.host.name, { containers, images, networks: networkList(networks), volumes: volumeList(volumes.Volumes ?? []) });
    } catch (e) {
      if ((e as BerthError).kind !== 'unreachable') throw e;
      return unreachableHost(this.host.name, e as Error);
    }
  }

  /**
   * Every stack on the host at once, for a pass over many stacks: one list call per kind instead of one per stack.
   * Grouped exactly as observe() would read each stack alone (containers by compose project, as observe finds them).
   */
  async inventory(): Promise<HostInventory> {
    const readAt = Date.now();
    try {
      await this.ping();
      const berth = JSON.stringify({ label: labelFilter() });
      const [containers, networks, volumes] = await Promise.all([
        this.call('list containers', () => this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL.composeProject] }) })),
        this.call('list networks', () => this.docker.listNetworks({ filters: berth })),
        this.call('list volumes', () => this.docker.listVolumes({ filters: berth })),
      ]);
      const byStack = new Map<string, ObservedContainer[]>();
      for (const c of containers) {
        const stack = c.Labels?.[LABEL.composeProject];
        const seen = stack === undefined ? undefined : observedFromList(c, stack);
        if (seen) append(byStack, stack!, seen);
      }
      for (const list of byStack.values()) list.sort(byReplica);
      return {
        host: this.host.name, reachable: true, readAt, containers: byStack,
        networks: groupByStack(networks, (n) => n.Labels, networkList), volumes: groupByStack(volumes.Volumes ?? [], (v) => v.Labels, volumeList),
      };
    } catch (e) {
      if ((e as BerthError).kind !== 'unreachable') throw e;
      return { ...unreachableHost(this.host.name, e as Error), readAt, containers: new Map(), networks: new Map(), volumes: new Map() };
    }
  }

  /**
   * Follows the host's events about containers, networks and volumes going away or changing. One stream, not
   * filtered by label: Docker puts no labels on network and volume events, so containers are sorted out by theirs
   * (driftOf) on this side.
   */
  watch(onEvent: (e: DockerEvent) => void, onState: (s: StreamState) => void, signal: AbortSignal): Promise<void> {
    const events = connectHost(this.host, { timeoutMs: 0 });
    return followEvents({
      connect: () => events, ping: () => this.ping(), onEvent, onState, signal,
      filters: { type: ['container', 'network', 'volume'], event: CONTAINER_ACTIONS },
    });
  }

  /** Image reference → the image ID it names on this host now; references whose image is gone are left out. */
  private async resolveImages(refs: string[]): Promise<Record<string, string>> {
    return Object.fromEntries(Object.entries(await this.imageDigests(refs)).map(([ref, i]) => [ref, i.id]));
  }

  async imageDigests(refs: string[]): Promise<Record<string, ImageIdentity>> {
    const unique = [...new Set(refs)];
    const found = await Promise.all(unique.map((ref) => this.call('inspect image', () => inspectImage(this.docker, ref))));
    return Object.fromEntries(unique.flatMap((ref, i) => (found[i] ? [[ref, found[i]]] : [])));
  }

  /**
   * One list call per stack, no inspect per container: the list carries labels, state, image and health, which
   * is all a plan needs, and a no-change reconcile is then a handful of engine calls. Compose's project label is
   * on every Berth container too, so containers of `docker compose -p STACK up` are seen (and adopted) as well.
   */
  private async observeContainers(stack: string): Promise<ObservedContainer[]> {
    const filters = JSON.stringify({ label: [`${LABEL.composeProject}=${stack}`] });
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters }));
    return list
      .map((c) => observedFromList(c, stack))
      .filter((c): c is ObservedContainer => c !== undefined)
      .sort(byReplica);
  }

  async listStacks(owner?: string): Promise<string[]> {
    // Only containers carry the owner: what an owner deployed is known by them.
    if (owner !== undefined) {
      const mine = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [...labelFilter(), `${LABEL.owner}=${owner}`] }) }));
      return [...new Set(mine.map((c) => c.Labels?.[LABEL.stack]).filter((s): s is string => !!s))].sort();
    }
    const filters = JSON.stringify({ label: labelFilter() });
    const [containers, networks, volumes] = await Promise.all([
      this.call('list containers', () => this.docker.listContainers({ all: true, filters })),
      this.call('list networks', () => this.docker.listNetworks({ filters })),
      this.call('list volumes', () => this.docker.listVolumes({ filters })),
    ]);
    const labels = [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels), ...(volumes.Volumes ?? []).map((v) => v.Labels)];
    return [...new Set(labels.map((l) => l?.[LABEL.stack]).filter((s): s is string => !!s))].sort();
  }

  async ensureImage(ref: string, policy: PullPolicy, registries: readonly RegistryCredential[] = [], signal?: AbortSignal): Promise<'present' | 'pulled'> {
    const present = await this.call(`inspect image ${ref}`, () => imagePresent(this.docker, ref));
    if (!needsPull(ref, policy, present, this.host.name)) return 'present';
    const auth = authFor(ref, registries);
    await this.call(`pull ${ref}`, () => pullImage(this.docker, ref, this.host.name, { auth, signal }), DEFAULT_PULL_TIMEOUT_MS + 5_000);
    return 'pulled';
  }

  async createNetwork(stack: string, key: string, n: NetworkModel): Promise<'created' | 'exists'> {
    if (await this.exists(() => this.docker.getNetwork(n.name).inspect())) return 'exists';
    if (n.external) throw missingExternal('network', n.name, this.host.name);
    const ipam = n.ipam && { Driver: n.ipam.driver ?? 'default', Config: n.ipam.config.map((c) => ({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ip_range })) };
    const body = { Name: n.name, Driver: n.driver, Options: n.driver_opts, Internal: n.internal, Attachable: n.attachable, Labels: { ...n.labels, ...networkLabels(stack, key) }, CheckDuplicate: true, ...(ipam ? { IPAM: ipam } : {}) };
    return this.createOrExists(`create network ${n.name}`, () => this.docker.createNetwork(body as Docker.NetworkCreateOptions));
  }

  async createVolume(stack: string, key: string, v: VolumeModel): Promise<'created' | 'exists'> {
    if (await this.exists(() => this.docker.getVolume(v.name).inspect())) return 'exists';
    if (v.external) throw missingExternal('volume', v.name, this.host.name);
    const body = { Name: v.name, Driver: v.driver, DriverOpts: v.driver_opts, Labels: { ...v.labels, ...volumeLabels(stack, key) } };
    return this.createOrExists(`create volume ${v.name}`, () => this.docker.createVolume(body));
  }

  private async exists(inspect: () => Promise<unknown>): Promise<boolean> {
    return this.call('inspect', () => inspect().then(() => true, (e) => (statusOf(e) === 404 ? false : Promise.reject(e))));
  }

  /** Another apply may create the same object between our inspect and create: a conflict is success. */
  private async createOrExists(what: string, create: () => Promise<unknown>): Promise<'created' | 'exists'> {
    return this.call(what, () => create().then(() => 'created' as const, (e) => (statusOf(e) === 409 ? ('exists' as const) : Promise.reject(e))));
  }

  /**
   * Creates the container, joins its other networks and copies its config and secret files in. The files
   * are a copy written into the container's filesystem before start — not a read-only mount as on Swarm:
   * a process in the container can change its copy, and a changed file reaches it only by a recreate
   * (the file contents are part of the service hash, so the plan does that).
   */
  async createContainer(spec: ContainerSpec): Promise<string> {
    const c = await this.call(`create container ${spec.name}`, () => this.docker.createContainer(spec.create));
    try {
      for (const n of spec.extraNetworks) {
        await this.call(`connect ${spec.name} to network ${n.name}`, () => this.docker.getNetwork(n.name).connect({ Container: c.id, EndpointConfig: endpointConfig(n) }));
      }
      if (spec.files.length > 0) {
        await this.call(`copy files into ${spec.name}`, async () => c.putArchive(await tarFiles(spec.files), { path: '/' }));
      }
    } catch (e) {
      // A half-made container would block the name on the next try.
      await c.remove({ force: true, v: false }).catch(() => {});
      throw e;
    }
    return c.id;
  }

  /** A paused container cannot be started, only unpaused: the plan's `start` covers both. */
  async start(id: string): Promise<void> {
    const c = this.docker.getContainer(id);
    const paused = (await this.inspect(id)).State.Paused;
    const go = paused ? () => c.unpause() : () => c.start().catch((e) => (statusOf(e) === 304 ? undefined : Promise.reject(e)));
    await this.call(`${paused ? 'unpause' : 'start'} ${id.slice(0, 12)}`, go);
  }

  /** The stop request blocks for the grace period, so it gets a client whose idle timeout outlasts it. */
  async stop(id: string, graceMs?: number): Promise<void> {
    const t = graceMs === undefined ? undefined : Math.ceil(graceMs / 1000);
    const needMs = (t ?? 10) * 1000 + 15_000;
    const docker = needMs > DEFAULT_TIMEOUT_MS ? connectHost(this.host, { timeoutMs: needMs }) : this.docker;
    const opts = t === undefined ? {} : { t };
    await this.call(`stop ${id.slice(0, 12)}`, () => docker.getContainer(id).stop(opts).catch((e) => (statusOf(e) === 304 ? undefined : Promise.reject(e))), needMs);
  }

  /** Never removes volumes (`v: false`): data outlives containers; volume removal is a separate, explicit act. */
  async remove(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.call(`remove ${id.slice(0, 12)}`, () => this.docker.getContainer(id).remove({ v: false, force: opts.force ?? false }).catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e))));
  }

  async rename(id: string, name: string): Promise<void> {
    await this.call(`rename ${id.slice(0, 12)} to ${name}`, () => this.docker.getContainer(id).rename({ name }));
  }

  /** Skips a network any container still uses (running or not): it may belong to something outside the stack. */
  async removeNetwork(name: string): Promise<'removed' | 'in-use' | 'absent'> {
    if (!(await this.exists(() => this.docker.getNetwork(name).inspect()))) return 'absent';
    if ((await this.networkUsers(name)).length > 0) return 'in-use';
    return this.call(`remove network ${name}`, () => this.docker.getNetwork(name).remove().then(() => 'removed' as const, (e) => (statusOf(e) === 404 ? ('absent' as const) : Promise.reject(e))));
  }

  async networkUsers(name: string): Promise<Array<{ id: string; name: string }>> {
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: JSON.stringify({ network: [name] }) }));
    return list.map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '') }));
  }

  inspect(id: string): Promise<Docker.ContainerInspectInfo> {
    return this.call(`inspect ${id.slice(0, 12)}`, () => this.docker.getContainer(id).inspect());
  }

  async logsTail(id: string, lines = 20): Promise<string> {
    const buf = await this.call(`logs of ${id.slice(0, 12)}`, () => this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false }));
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
  }

  async followLogs(id: string, opts: { tail: number; signal: AbortSignal }, onText: (text: string) => void): Promise<void> {
    const stream = (await this.call(`logs of ${id.slice(0, 12)}`, () => this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: opts.tail, follow: true }))) as unknown as Readable;
    await followDemuxed(this.docker, stream, opts.signal, onText);
  }
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const byReplica = (a: ObservedContainer, b: ObservedContainer) => a.service.localeCompare(b.service) || a.number - b.number;

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

function networkList(list: Docker.NetworkInspectInfo[]): ObservedHost['networks'] {
  return list.map((n) => ({ name: n.Name, id: n.Id })).sort(byName);
}

function volumeList(list: Docker.VolumeInspectInfo[]): ObservedHost['volumes'] {
  return list.map((v) => ({ name: v.Name })).sort(byName);
}

/** Objects by their `berth.stack` label, each group shaped as a per-stack read shapes it. */
function groupByStack<T, U>(list: T[], labels: (x: T) => Record<string, string> | undefined, shape: (xs: T[]) => U): Map<string, U> {
  const groups = new Map<string, T[]>();
  for (const x of list) {
    const stack = labels(x)?.[LABEL.stack];
    if (stack) append(groups, stack, x);
  }
  return new Map([...groups].map(([stack, xs]) => [stack, shape(xs)]));
}

/** A reachable host's share of a stack, built the same way whether the host was read for the stack alone or at once. */
export function stackOnHost(host: string, parts: Pick<ObservedHost, 'containers' | 'images' | 'networks' | 'volumes'>): ObservedHost {
  return { host, reachable: true, containers: parts.containers, images: parts.images, networks: parts.networks, volumes: parts.volumes };
}

export function unreachableHost(host: string, e: Error): ObservedHost {
  return { host, reachable: false, error: e.message, containers: [], networks: [], volumes: [] };
}

/** A `repo:tag@digest` the engine may not resolve with the tag in place is looked up as `repo@digest` too. */
async function inspectImage(docker: Docker, ref: string): Promise<ImageIdentity | undefined> {
  const tries = [ref, ...(/:[^/@]+@sha256:/.test(ref) ? [ref.replace(/:[^/@]+@/, '@')] : [])];
  for (const r of tries) {
    const info = await docker.getImage(r).inspect().catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
    if (info) return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
  }
  return undefined;
}

function missingExternal(kind: string, name: string, host: string): BerthError {
  return new BerthError(`${kind}.external.missing`, 'user', `external ${kind} ${name} does not exist on host ${host}`, {
    data: { [kind]: name, host },
    hint: `create it on ${host} first (it is declared external, so Berth does not manage it)`,
  });
}

/** `Up 5 minutes (healthy)`, `Up 3 seconds (health: starting)`, `Exited (137) 2 seconds ago`. */
function observedFromList(info: Docker.ContainerInfo, stack: string): ObservedContainer | undefined {
  const parsed = parseContainerLabels(info.Labels ?? {});
  if (!parsed || parsed.stack !== stack) return undefined;
  // When its tag has moved, the list names a container's image by ID; the reference Berth used is in its config.
  const configured = typeof parsed.config?.image === 'string' ? parsed.config.image : undefined;
  const c: ObservedContainer = {
    id: info.Id,
    name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
    service: parsed.service,
    number: parsed.number,
    image: configured ?? info.Image,
    imageId: info.ImageID,
    state: info.State as ContainerState,
  };
  if (parsed.hash) c.hash = parsed.hash;
  if (parsed.config) c.config = parsed.config;
  if (parsed.rollout) c.rollout = parsed.rollout;
  if (parsed.owner) c.owner = parsed.owner;
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(info.Status ?? '')?.[1];
  if (health) c.health = health === 'health: starting' ? 'starting' : (health as 'healthy' | 'unhealthy');
  const exited = /^Exited \((-?\d+)\)/.exec(info.Status ?? '');
  if (exited) c.exitCode = Number(exited[1]);
  return c;
}
