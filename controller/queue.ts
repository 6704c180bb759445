/**
 * The work queue of `berth serve`: one reconcile per stack at a time, different stacks side by side up to a
 * bound, and every run under a deadline. Triggers that arrive while a stack is busy (or still waiting for a
 * slot) fold into ONE follow-up run carrying all their reasons — a burst of webhooks for one push is one
 * deploy, and the follow-up still runs so that a push landing mid-deploy is never missed.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';

/** `drift`: an engine's event stream showed a stack's object changed behind Berth's back. */
export type TriggerKind = 'push' | 'merge' | 'timer' | 'cli' | 'revert' | 'webhook' | 'startup' | 'drift';

/** Why a run was asked for. */
export interface Reason {
  kind: TriggerKind;
  /** "push 1a2b3c4", "timer", "startup", … */
  why: string;
  deliveryId?: string;
  at: string;
}

export interface Job {
  key: string;
  /** Every reason folded into this run, oldest first. */
  reasons: Reason[];
  /** Aborted at the run's deadline or when the queue is drained past its own deadline. */
  signal: AbortSignal;
}

export type RunEnd = 'done' | 'error' | 'abandoned';

export interface QueueOptions {
  work: (job: Job) => Promise<void>;
  /** Stacks reconciled at once; default 4. */
  concurrency?: number;
  /** Per run; default 10 minutes. */
  deadlineMs?: number;
  /**
   * After the deadline aborts a run, how long it may take to notice before the queue gives up on it and frees
   * the stack: a hung engine socket must not block the stack (or shutdown) forever. Default 30 s.
   */
  graceMs?: number;
  /** Told about every settled run, whatever happened (for status and metrics of last resort). */
  onSettled?: (job: Job, end: RunEnd, error?: unknown) => void;
  log?: Logger;
}

interface Slot {
  running: boolean;
  /** Reasons for the next run of this key; undefined when none is wanted. */
  next?: Reason[];
}

export class ReconcileQueue {
  private readonly slots = new Map<string, Slot>();
  /** Keys with a next run wanted and not running, in the order they asked. */
  private readonly ready: string[] = [];
  private readonly active = new Set<Promise<void>>();
  private readonly stopper = new AbortController();
  private closed = false;

  constructor(private readonly opts: QueueOptions) {
    // Every running reconcile listens for the stop: as many listeners as the concurrency, which may pass node's
    // leak warning at 10 (`--concurrency 16` printed MaxListenersExceededWarning on every start-up).
    setMaxListeners(0, this.stopper.signal);
  }

  /**
   * Asks for a run of `key`: 'queued' when this request makes a run happen (now, when a slot frees, or as the
   * follow-up of the running one), 'coalesced' when it folds into a run already wanted.
   */
  enqueue(key: string, reason: Omit<Reason, 'at'> & { at?: string }): 'queued' | 'coalesced' | 'closed' {
    if (this.closed) return 'closed';
    const r: Reason = { ...reason, at: reason.at ?? new Date().toISOString() };
    const slot = this.slots.get(key) ?? { running: false };
    this.slots.set(key, slot);
    if (slot.next) {
      slot.next.push(r);
      return 'coalesced';
    }
    slot.next = [r];
    if (!slot.running) this.ready.push(key);
    this.pump();
    return 'queued';
  }

  /** Keys running now. */
  running(): string[] {
    return [...this.slots].filter(([, s]) => s.running).map(([k]) => k);
  }

  /** Keys with a run wanted that has not started yet. */
  pending(): string[] {
    return [...this.slots].filter(([, s]) => s.next).map(([k]) => k);
  }

  /**
   * Stops taking work and waits for the runs in progress; queued runs that have not started are dropped (the
   * next process reconciles everything at startup anyway). Past `timeoutMs` the runs are aborted, and each
   * then still gets its grace period.
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    this.closed = true;
    this.ready.length = 0;
    for (const slot of this.slots.values()) slot.next = undefined;
    const timer = setTimeout(() => this.stopper.abort(new Error('shutting down')), timeoutMs);
    try {
      while (this.active.size) await Promise.allSettled([...this.active]);
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (!this.closed && this.active.size < limit && this.ready.length) {
      const key = this.ready.shift()!;
      const slot = this.slots.get(key)!;
      const reasons = slot.next!;
      slot.next = undefined;
      slot.running = true;
      const run = this.run(key, reasons).finally(() => {
        this.active.delete(run);
        slot.running = false;
        if (slot.next && !this.closed) this.ready.push(key);
        else if (!slot.next) this.slots.delete(key);
        this.pump();
      });
      this.active.add(run);
    }
  }

  private async run(key: string, reasons: Reason[]): Promise<void> {
    const deadline = this.opts.deadlineMs ?? 600_000;
    // A plain timer rather than AbortSignal.timeout inside AbortSignal.any: Node 20 may collect that one early.
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(new DOMException(`the reconcile deadline of ${deadline} ms passed`, 'TimeoutError')), deadline);
    const onStop = () => ctrl.abort(this.stopper.signal.reason);
    if (this.stopper.signal.aborted) onStop();
    else this.stopper.signal.addEventListener('abort', onStop, { once: true });
    const { signal } = ctrl;
    const job: Job = { key, reasons, signal };
    let end: RunEnd = 'done';
    let error: unknown;
    try {
      await abandonAfterGrace(this.opts.work(job), signal, this.opts.graceMs ?? 30_000);
    } catch (e) {
      error = e;
      end = e instanceof Abandoned ? 'abandoned' : 'error';
      const log = this.opts.log ?? silentLogger;
      if (e instanceof Abandoned) log.error({ stack: key, deadlineMs: deadline }, `reconcile of ${key} did not stop at its deadline; giving up on it`);
      else log.error({ stack: key, err: (e as Error)?.message ?? String(e) }, `reconcile of ${key} threw`);
    } finally {
      clearTimeout(timer);
      this.stopper.signal.removeEventListener('abort', onStop);
      this.opts.onSettled?.(job, end, error);
    }
  }
}

class Abandoned extends Error {}

/** Resolves with the work, or rejects with Abandoned when it outlives its abort by `graceMs`. */
function abandonAfterGrace(work: Promise<void>, signal: AbortSignal, graceMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(new Abandoned(`still running ${graceMs} ms after its deadline`)), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    });
  });
}

/** One line for logs and status: distinct whys in order, e.g. "push 1a2b3c4, timer". */
export function describeReasons(reasons: Reason[]): string {
  return [...new Set(reasons.map((r) => r.why))].join(', ');
}

/** Distinct delivery ids of the webhooks folded into a run. */
export function deliveryIds(reasons: Reason[]): string[] {
  return [...new Set(reasons.map((r) => r.deliveryId).filter((d): d is string => !!d))];
}
