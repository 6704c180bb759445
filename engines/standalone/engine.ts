/**
 * The standalone engine: a stack's containers on plain Docker hosts, placed and rolled out by Berth itself —
 * per-container plan (plan.ts), rollout (execute.ts, rollout.ts), status per host (status.ts).
 */
import type { ApplyOptions, ObservedState, RunningService, StackEngine, StackStatus } from '../engine.ts';
import type { ApplyResult, Plan } from '../plan-types.ts';
import type { EngineDriver } from './driver.ts';
import { executePlan } from './execute.ts';
import { planStack } from './plan.ts';
import { runningImages } from './running.ts';
import { stackStatus } from './status.ts';
import type { DesiredStack, ObservedStack } from './types.ts';
import { nullSink } from '../events.ts';

function standaloneState(o: ObservedState): ObservedStack {
  if ('engine' in o) throw new TypeError(`the standalone engine was handed a ${o.engine} observation`);
  return o;
}

export class StandaloneEngine implements StackEngine {
  readonly kind = 'standalone' as const;

  /** One driver per host of the environment, shared by every stack on them. */
  constructor(readonly drivers: Record<string, EngineDriver>) {}

  /** Reads every host (not only the selected ones), so containers left on a deselected host are seen. */
  async observe(stack: string, images?: string[]): Promise<ObservedStack> {
    const entries = await Promise.all(Object.values(this.drivers).map(async (d) => [d.host.name, await d.observe(stack, images ? { images } : undefined)] as const));
    return { name: stack, hosts: Object.fromEntries(entries) };
  }

  plan(desired: DesiredStack, observed: ObservedState): Plan {
    return planStack(desired, standaloneState(observed));
  }

  apply(plan: Plan, desired: DesiredStack, opts: ApplyOptions): Promise<ApplyResult> {
    return executePlan(plan, desired, this.drivers, { events: opts.events ?? nullSink, signal: opts.signal, registries: opts.registries });
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

  async listStacks(): Promise<string[]> {
    const lists = await Promise.all(Object.values(this.drivers).map((d) => d.listStacks().catch(() => [])));
    return [...new Set(lists.flat())].sort();
  }
}
