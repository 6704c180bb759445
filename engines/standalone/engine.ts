/**
 * The standalone engine: a stack's containers on plain Docker hosts, placed and rolled out by Berth itself —
 * per-container plan (plan.ts), rollout (execute.ts, rollout.ts), status per host (status.ts).
 */
import type { ApplyOptions, ObservedState, ObserveOptions, RunningService, StackEngine, StackStatus } from '../engine.ts';
import type { ApplyResult, Plan } from '../plan-types.ts';
import type { EngineDriver } from './driver.ts';
import { executePlan } from './execute.ts';
import { planStack } from './plan.ts';
import { runningImages } from './running.ts';
import { stackStatus } from './status.ts';
import type { DesiredStack, ObservedHost, ObservedStack } from './types.ts';
import { nullSink } from '../events.ts';
import { ObservationRound } from './round.ts';
import { driftOf, OwnChanges, type DriftSink } from '../drift.ts';

/**
 * The stack's networks the desired state does not use on the host, each with the containers outside the stack
 * attached to it: only those are read (a removal is rare), so an idle pass costs nothing more.
 */
async function withNetworkUsers(d: EngineDriver, host: ObservedHost, wanted: readonly string[]): Promise<ObservedHost> {
  const leaving = host.networks.filter((n) => !wanted.includes(n.name));
  if (!host.reachable || !leaving.length) return host;
  const mine = new Set(host.containers.map((c) => c.id));
  const networks = await Promise.all(host.networks.map(async (n) => {
    if (!leaving.includes(n)) return n;
    const users = (await d.networkUsers(n.name)).filter((u) => !mine.has(u.id)).map((u) => u.name).sort();
    return users.length ? { ...n, users } : n;
  }));
  return { ...host, networks };
}

function standaloneState(o: ObservedState): ObservedStack {
  if ('engine' in o) throw new TypeError(`the standalone engine was handed a ${o.engine} observation`);
  return o;
}

export class StandaloneEngine implements StackEngine {
  readonly kind = 'standalone' as const;

  private round?: ObservationRound;
  /** Per stack: when its objects last changed as far as Berth knows (its own apply ended, an event touched them). */
  private readonly changedAt = new Map<string, number>();
  private readonly own = new OwnChanges({ precise: true });

  /** One driver per host of the environment, shared by every stack on them. */
  constructor(readonly drivers: Record<string, EngineDriver>) {}

  /** Reads every host (not only the selected ones), so containers left on a deselected host are seen. */
  async observe(stack: string, images?: string[], opts: ObserveOptions = {}): Promise<ObservedStack> {
    const round = opts.shared ? this.round : undefined;
    const changedAt = this.changedAt.get(stack) ?? 0;
    const entries = await Promise.all(Object.values(this.drivers).map(async (d) => {
      const shared = round && (await round.share(d, stack, images ?? [], changedAt));
      const host = shared || (await d.observe(stack, images ? { images } : undefined));
      return [d.host.name, opts.networks ? await withNetworkUsers(d, host, opts.networks[d.host.name] ?? []) : host] as const;
    }));
    return { name: stack, hosts: Object.fromEntries(entries) };
  }

  newRound(): void {
    this.round = new ObservationRound();
  }

  invalidate(stack: string): void {
    this.changedAt.set(stack, Date.now());
  }

  plan(desired: DesiredStack, observed: ObservedState): Plan {
    return planStack(desired, standaloneState(observed));
  }

  async apply(plan: Plan, desired: DesiredStack, opts: ApplyOptions): Promise<ApplyResult> {
    try {
      return await this.own.during(desired.name, (touch) => {
        const drivers = Object.fromEntries(Object.entries(this.drivers).map(([name, d]) => [name, touching(d, touch)]));
        return executePlan(plan, desired, drivers, { events: opts.events ?? nullSink, signal: opts.signal, registries: opts.registries });
      });
    } finally {
      this.invalidate(desired.name);
    }
  }

  watch(sink: DriftSink, signal: AbortSignal): void {
    for (const d of Object.values(this.drivers)) {
      void d.watch?.((e) => {
        const drift = driftOf(d.host.name, e);
        if (drift) sink.event({ ...drift, own: this.own.explains(drift) });
      }, (s) => sink.stream(d.host.name, s.up, s.error), signal);
    }
  }

  status(desired: DesiredStack, observed: ObservedState): StackStatus {
    return stackStatus(desired, standaloneState(observed));
  }

  async running(desired: DesiredStack, target: string, seen?: ObservedState): Promise<Record<string, RunningService>> {
    const driver = this.drivers[target];
    const share = desired.hosts[target];
    if (!driver || !share) return {};
    return runningImages(driver, desired.name, share, seen ? standaloneState(seen).hosts[target] : undefined);
  }

  async listStacks(owner?: string): Promise<string[]> {
    const round = owner === undefined ? undefined : this.round;
    const lists = await Promise.all(Object.values(this.drivers).map(async (d) => (await round?.stacksOf(d, owner!)) ?? d.listStacks(owner).catch(() => [])));
    return [...new Set(lists.flat())].sort();
  }
}

/** Verbs whose first argument names an object the apply makes go away or change (what its events will be about). */
const TOUCHING = new Set<PropertyKey>(['stop', 'remove', 'rename', 'removeNetwork']);

/** The driver, telling `touch` of every object its stop, remove, rename and removeNetwork act on. */
function touching(driver: EngineDriver, touch: (object: string) => void): EngineDriver {
  return new Proxy(driver, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!TOUCHING.has(key)) return value.bind(target);
      return (object: string, ...rest: unknown[]) => {
        touch(object);
        return (value as (...args: unknown[]) => unknown).call(target, object, ...rest);
      };
    },
  });
}
