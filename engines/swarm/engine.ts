/**
 * The Swarm engine: a stack as Swarm services, deployed as `docker stack deploy` would (names, labels) through the
 * Engine API. Swarm places, rolls out, rolls back and reschedules; Berth plans per service, applies, waits for
 * convergence and reports.
 */
import type { SwarmSpec } from '../../environment/types.ts';
import { pinnedRef } from '../docker/pinned.ts';
import type { ApplyOptions, ObservedState, ObserveOptions, RunningService, StackEngine, StackStatus } from '../engine.ts';
import type { ApplyResult, Plan } from '../plan-types.ts';
import { unpinnedRef } from '../standalone/hash.ts';
import type { DesiredStack } from '../standalone/types.ts';
import { applySwarm } from './apply.ts';
import { SwarmClient } from './client.ts';
import { observeSwarm, swarmStacks } from './observe.ts';
import { SwarmRound } from './round.ts';
import { planSwarm } from './plan.ts';
import { swarmStatus } from './status.ts';
import { serviceName } from './spec.ts';
import { logTail } from './wait.ts';
import type { ObservedNode, SwarmObserved } from './types.ts';
import { followEvents } from '../docker/event-stream.ts';
import { followDemuxed } from '../docker/logs.ts';
import { driftOf, OwnChanges, type DriftSink } from '../drift.ts';

function swarmState(o: ObservedState): SwarmObserved {
  if (!('engine' in o) || o.engine !== 'swarm') throw new TypeError('the Swarm engine was handed another engine\'s observation');
  return o;
}

export class SwarmEngine implements StackEngine {
  readonly kind = 'swarm' as const;
  readonly client: SwarmClient;
  private readonly own = new OwnChanges({ precise: false });
  private round?: SwarmRound;
  /** Per stack: when its objects last changed as far as Berth knows (its own apply ended, an event touched them). */
  private readonly changedAt = new Map<string, number>();

  constructor(readonly swarm: SwarmSpec) {
    this.client = new SwarmClient(swarm);
  }

  async observe(stack: string, images?: string[], opts: ObserveOptions = {}): Promise<SwarmObserved> {
    const shared = opts.shared && this.round ? await this.round.share(stack, images ?? [], this.changedAt.get(stack) ?? 0) : undefined;
    return shared ?? observeSwarm(this.client, stack, images);
  }

  /** The next shared observes are cut from one listing of every stack on the Swarm. */
  newRound(): void {
    this.round = new SwarmRound(this.client);
  }

  invalidate(stack: string): void {
    this.changedAt.set(stack, Date.now());
  }

  plan(desired: DesiredStack, observed: ObservedState): Plan {
    return planSwarm(desired, swarmState(observed));
  }

  async apply(plan: Plan, desired: DesiredStack, opts: ApplyOptions): Promise<ApplyResult> {
    try {
      return await this.own.during(desired.name, () => applySwarm(this.client, plan, desired, opts));
    } finally {
      this.invalidate(desired.name);
    }
  }

  /** Services updated or removed, from the event stream of whichever manager answers (events carry no stack label). */
  watch(sink: DriftSink, signal: AbortSignal): void {
    const name = this.swarm.name;
    void followEvents({
      connect: () => this.client.eventsClient(), ping: () => this.client.call((d) => d.ping()).then(() => undefined), signal,
      filters: { type: ['service'], event: ['update', 'remove'] },
      onEvent: (e) => {
        const drift = driftOf(name, e);
        if (drift) sink.event({ ...drift, own: this.own.explains(drift) });
      },
      onState: (s) => sink.stream(name, s.up, s.error),
    });
  }

  status(desired: DesiredStack, observed: ObservedState): StackStatus {
    return swarmStatus(desired, swarmState(observed));
  }

  /** Each service's image pinned to what the manager holds under its reference (a registry digest, else the ID). */
  async running(desired: DesiredStack, target: string, seen?: ObservedState): Promise<Record<string, RunningService>> {
    const share = desired.hosts[target];
    if (!share) return {};
    const refs = Object.values(share.services).map((s) => s.model.image);
    const ids = seen && refs.every((r) => swarmState(seen).images[r]) ? swarmState(seen).images : (await this.observe(desired.name, refs)).images;
    const identities = await this.client.call(async (docker) => Object.fromEntries(await Promise.all([...new Set(Object.values(ids))].map(async (id) =>
      [id, await docker.getImage(id).inspect().then((i) => ({ id: i.Id, repoDigests: i.RepoDigests ?? [] }), () => ({ id, repoDigests: [] }))] as const))));
    const out: Record<string, RunningService> = {};
    for (const [name, svc] of Object.entries(share.services)) {
      const original = typeof svc.config.image === 'string' ? svc.config.image : unpinnedRef(svc.model.image);
      const id = ids[svc.model.image];
      const pin = pinnedRef(original, id ? identities[id] : undefined);
      out[name] = { image: original, ...(pin.digest ? { digest: pin.digest } : {}), ...(id ? { image_id: id } : {}), replicas: share.replicas.filter((r) => r.service === name).map((r) => r.number), pinned: pin.ref };
    }
    return out;
  }

  async listStacks(owner?: string): Promise<string[]> {
    const fromRound = owner === undefined ? undefined : await this.round?.stacksOf(owner);
    return fromRound ?? swarmStacks(this.client, owner);
  }

  /** The last log lines of one service of a stack, from all its tasks (the console's logs panel). */
  logsTail(stack: string, service: string, lines: number): Promise<string> {
    return logTail(this.client, serviceName(stack, service), lines);
  }

  /**
   * The service's last `tail` lines, then every new one from every task on every node (Swarm gathers them through
   * the manager), until `signal` aborts: the console's live logs.
   */
  async followLogs(stack: string, service: string, opts: { tail: number; signal: AbortSignal }, onText: (text: string) => void): Promise<void> {
    if (opts.signal.aborted) return;
    const { docker } = await this.client.manager();
    type Logs = (o: Record<string, unknown>) => Promise<NodeJS.ReadableStream & { destroy(): void }>;
    const svc = docker.getService(serviceName(stack, service));
    const stream = await (svc.logs as unknown as Logs).call(svc, { stdout: true, stderr: true, tail: opts.tail, follow: true });
    await followDemuxed(docker, stream, opts.signal, onText);
  }

  /** The Swarm's nodes (for `bundle load --swarm` and status): names, roles, states, addresses, labels. */
  async nodes(): Promise<ObservedNode[]> {
    return (await this.observe('')).nodes;
  }
}
