/**
 * Serve's side of the engines' event streams. An event that touched a stack's objects queues that stack at once
 * — once its burst has settled (kill, die, destroy of one `docker rm -f` come within moments: one run, seeing the
 * end of it, named for the first event: `drift: container shop-web-1 was killed (event)`) — unless Berth's own
 * apply explains it. A stack that keeps drifting (a container that dies again right after each heal) is queued
 * ever later: a crash loop must not become a reconcile loop. A stream that goes down is said once; while it is down the timer is what finds drift on that
 * target, and each timer pass says so; when it is back, that target's stacks are checked for what it missed.
 */
import type { Logger } from '../lib/log.ts';
import { describeDrift, stackOfObject, type DriftEvent, type DriftSink } from '../engines/drift.ts';
import type { Metrics } from './metrics.ts';

export interface DriftWatchOptions {
  log: Logger;
  metrics: Metrics;
  /** The environment's stacks: an event about any other is not this controller's business. */
  stacks(): Iterable<string>;
  /** Queues a reconcile of the stack. */
  enqueue(stack: string, why: string): void;
  /** The stack's objects changed: its engine must not answer for it from an older observation. */
  invalidate(stack: string): void;
  /** The event stream of `target` is back after a gap: queue its stacks (they may have drifted meanwhile). */
  resync(target: string, why: string): void;
  /** A burst has settled when no event about the stack came for this long; default 300 ms. */
  quietMs?: number;
}

/** A burst that does not settle is acted on this long after its first event anyway. */
const MAX_SETTLE_MS = 2_000;
/** Drift runs of one stack closer together than this are a streak. */
const STREAK_WINDOW_MS = 60_000;
/** Runs of a streak queued at once; later ones wait 2 s, 4 s, … up to MAX_DELAY_MS. */
const FREE_RUNS = 3;
const MAX_DELAY_MS = 5 * 60_000;

export class DriftWatch implements DriftSink {
  /** Per stack: the run waiting for its burst to settle (or for its streak delay). */
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; first: number; settling: boolean; why: string }>();
  private readonly streaks = new Map<string, { runs: number; last: number }>();
  /** Targets whose stream is down now, since when and why. */
  private readonly down = new Map<string, { since: number; error?: string }>();
  /** Gaps of targets whose stream came back since the last timer pass (said by that pass). */
  private readonly gaps = new Map<string, { since: number; until: number; error?: string }>();
  private readonly following = new Set<string>();

  constructor(private readonly opts: DriftWatchOptions) {}

  event(e: DriftEvent): void {
    const stacks = new Set(this.opts.stacks());
    const stack = stackOfObject(e, stacks);
    if (!stack || !stacks.has(stack)) return;
    this.opts.metrics.engineEvent(e.target, e.kind, e.action, e.own);
    if (e.own) return void this.opts.log.debug({ stack, target: e.target, action: e.action, object: e.name }, `${e.kind} ${e.name} ${e.action}: Berth's own apply`);
    this.opts.invalidate(stack);
    const quiet = this.opts.quietMs ?? 300;
    const waiting = this.pending.get(stack);
    if (waiting) {
      // A later event of the burst: the run waits until the burst settles (bounded), and still sees all of it.
      if (!waiting.settling) return;
      clearTimeout(waiting.timer);
      waiting.timer = this.arm(stack, Math.max(0, Math.min(quiet, waiting.first + MAX_SETTLE_MS - Date.now())), waiting.why);
      return;
    }
    const why = describeDrift(e);
    const streak = this.streakDelay(stack);
    this.pending.set(stack, { timer: this.arm(stack, Math.max(quiet, streak), why), first: Date.now(), settling: streak === 0, why });
  }

  private arm(stack: string, delay: number, why: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.pending.delete(stack);
      this.opts.log.info({ stack, why }, `stack ${stack}: ${why}`);
      this.opts.enqueue(stack, why);
    }, delay);
    timer.unref();
    return timer;
  }

  /** How long a drift run of the stack must wait beyond its burst: nothing, unless it is the latest of a streak. */
  private streakDelay(stack: string): number {
    const now = Date.now();
    const s = this.streaks.get(stack);
    const runs = s && now - s.last < STREAK_WINDOW_MS ? s.runs + 1 : 1;
    this.streaks.set(stack, { runs, last: now });
    for (const [k, v] of this.streaks) if (now - v.last > STREAK_WINDOW_MS + MAX_DELAY_MS) this.streaks.delete(k);
    if (runs <= FREE_RUNS) return 0;
    const delay = Math.min(MAX_DELAY_MS, 1_000 * 2 ** (runs - FREE_RUNS));
    this.opts.log.warn({ stack, runs, delayMs: delay }, `stack ${stack} keeps drifting (${runs} times, each within a minute of the last); its next drift check waits ${Math.round(delay / 1000)} s`);
    return delay;
  }

  stream(target: string, up: boolean, error?: string): void {
    this.opts.metrics.eventStream(target, up);
    const now = Date.now();
    if (!up) {
      this.down.set(target, { since: now, error });
      this.opts.log.warn({ target, err: error }, `events from ${target} lost (${error ?? 'the stream ended'}); until they are back, drift there is found by the timer`);
      return;
    }
    const gap = this.down.get(target);
    if (!gap) {
      if (!this.following.has(target)) this.opts.log.info({ target }, `following events from ${target}`);
      this.following.add(target);
      return;
    }
    this.down.delete(target);
    this.gaps.set(target, { since: gap.since, until: now, error: gap.error });
    this.opts.metrics.eventStreamReconnected(target);
    const why = `drift: events from ${target} resumed after ${Math.round((now - gap.since) / 1000)} s`;
    this.opts.log.info({ target, downMs: now - gap.since }, `events from ${target} are back after ${Math.round((now - gap.since) / 1000)} s; checking its stacks for what they missed`);
    this.opts.resync(target, why);
  }

  /** Said by each timer pass: which targets' drift it alone can find (their events are down, or were since the last pass). */
  timerPass(): void {
    for (const [target, d] of this.down) {
      this.opts.log.warn({ target, downSince: new Date(d.since).toISOString(), err: d.error }, `timer pass: events from ${target} have been down since ${new Date(d.since).toISOString()}; this pass is what finds drift there`);
    }
    for (const [target, g] of this.gaps) {
      this.opts.log.info({ target, from: new Date(g.since).toISOString(), to: new Date(g.until).toISOString(), err: g.error }, `timer pass: events from ${target} were down from ${new Date(g.since).toISOString()} to ${new Date(g.until).toISOString()}; this pass checks what they missed`);
    }
    this.gaps.clear();
  }

  /** Targets whose event stream is down now. */
  downTargets(): string[] {
    return [...this.down.keys()];
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
