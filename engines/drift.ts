/**
 * Drift as the engines see it happen: each engine follows its targets' Docker event streams and reports what
 * touched an object of a stack — a container that died, was removed, stopped, killed or renamed, a network or
 * volume removed, a Swarm service updated or removed. What Berth's own apply did is marked as such, so it never
 * queues the stack again (no reconcile loop); the controller queues the rest at once.
 */
import type { DockerEvent } from './docker/event-stream.ts';
import { LABEL } from './docker/labels.ts';

export type DriftObject = 'container' | 'network' | 'volume' | 'service';

export interface DriftEvent {
  /** The host or Swarm whose stream said it. */
  target: string;
  /** From the object's own label; absent for networks, volumes and services (events carry no labels there). */
  stack?: string;
  kind: DriftObject;
  /** As Docker says it: die, destroy, stop, kill, rename, pause, oom, update, remove. */
  action: string;
  /** The object's name (a container's after a rename). */
  name: string;
  id: string;
  /** Berth's own apply of the stack explains it (it ran then, or had just ended). */
  own: boolean;
}

export interface DriftSink {
  event(e: DriftEvent): void;
  /** The event stream of `target` came up, or went down (why). */
  stream(target: string, up: boolean, error?: string): void;
}

/** Container actions that change what runs (the others — start, exec, health — are Berth's or harmless). */
export const CONTAINER_ACTIONS = ['die', 'destroy', 'stop', 'kill', 'rename', 'pause', 'oom'];

const VERBS: Record<string, string> = {
  die: 'died', destroy: 'was removed', stop: 'was stopped', kill: 'was killed', rename: 'was renamed', pause: 'was paused',
  oom: 'ran out of memory', remove: 'was removed', update: 'was updated',
};

/** `drift: container shop-web-1 died (event)`: the why of the reconcile an event queues. */
export function describeDrift(e: Pick<DriftEvent, 'kind' | 'name' | 'action'>): string {
  return `drift: ${e.kind} ${e.name} ${VERBS[e.action] ?? e.action} (event)`;
}

/** The stack an object belongs to: its Berth label, else the compose-style name `<stack>_<key>` among `stacks`. */
export function stackOfObject(e: Pick<DriftEvent, 'stack' | 'name'>, stacks: Iterable<string>): string | undefined {
  if (e.stack) return e.stack;
  let best: string | undefined;
  for (const s of stacks) if (e.name.startsWith(`${s}_`) && (!best || s.length > best.length)) best = s;
  return best;
}

/** A Docker event as a DriftEvent, or undefined when it is none Berth watches for. */
export function driftOf(target: string, e: DockerEvent): Omit<DriftEvent, 'own'> | undefined {
  const attrs = e.Actor.Attributes ?? {};
  const base = { target, action: e.Action, id: e.Actor.ID, name: attrs.name ?? e.Actor.ID };
  if (e.Type === 'container' && CONTAINER_ACTIONS.includes(e.Action) && attrs[LABEL.stack]) return { ...base, kind: 'container', stack: attrs[LABEL.stack] };
  if ((e.Type === 'network' || e.Type === 'volume') && e.Action === 'destroy') return { ...base, kind: e.Type };
  if (e.Type === 'service' && (e.Action === 'update' || e.Action === 'remove')) return { ...base, kind: 'service' };
  return undefined;
}

/**
 * What Berth itself is changing, or just changed. Precise (the standalone engine): the objects its apply acted on
 * — containers it stopped, removed or renamed, networks it removed — so an event about any other object of the
 * stack, even one made a moment ago, is drift. Coarse (an engine whose apply does not say what it touched): any
 * event about the stack while it is applied or just after. Either way the grace after an apply covers events
 * delivered late; an event explained here never queues the stack, so an apply cannot set off another.
 */
export class OwnChanges {
  private readonly active = new Map<string, { runs: number; objects: Set<string> }>();
  private readonly ended = new Map<string, { at: number; objects: Set<string> }>();

  constructor(private readonly opts: { precise: boolean; graceMs?: number }) {}

  /** Runs an apply of `stack`; `touch` records an object (container ID, network name) it acts on. */
  async during<T>(stack: string, fn: (touch: (object: string) => void) => Promise<T>): Promise<T> {
    const entry = this.active.get(stack) ?? { runs: 0, objects: new Set<string>() };
    entry.runs++;
    this.active.set(stack, entry);
    try {
      return await fn((object) => void entry.objects.add(object));
    } finally {
      if (--entry.runs === 0) this.active.delete(stack);
      this.ended.set(stack, { at: Date.now(), objects: entry.objects });
    }
  }

  explains(e: Pick<DriftEvent, 'stack' | 'name' | 'id'>, now = Date.now()): boolean {
    for (const [s, x] of this.ended) if (now - x.at > (this.opts.graceMs ?? 3_000)) this.ended.delete(s);
    const busy = new Set([...this.active.keys(), ...this.ended.keys()]);
    const stack = stackOfObject(e, busy);
    if (stack === undefined || !busy.has(stack)) return false;
    if (!this.opts.precise) return true;
    const touched = [this.active.get(stack)?.objects, this.ended.get(stack)?.objects];
    return touched.some((t) => t?.has(e.id) || t?.has(e.name));
  }
}
