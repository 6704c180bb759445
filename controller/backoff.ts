/**
 * Per-stack backoff of failing reconciles. A rollout that fails on every timer tick takes the replica down on
 * every tick (stop-first); after a failure the timer leaves the stack alone for a while, doubling with each
 * failure in a row. A new revision (an environment or catalog commit, a webhook) is a person's fix, and is tried
 * at once. Engine-independent: it knows stacks, revisions and outcomes, not containers.
 */
import { backoffDelay, type BackoffOptions } from '../lib/git/watcher.ts';

export interface BackoffState {
  /** Failed reconciles in a row. */
  failures: number;
  /** The timer does not retry the stack before this (ISO time). */
  retryAt: string;
}

interface Entry {
  failures: number;
  retryAt: number;
  /** The revision that failed: another one is retried at once. */
  revision: string;
}

export const DEFAULT_STACK_BACKOFF: Required<Pick<BackoffOptions, 'baseMs' | 'maxMs'>> = { baseMs: 10_000, maxMs: 10 * 60_000 };

export class StackBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions & { now?: () => number } = {}) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A reconcile of `revision` failed. */
  failed(stack: string, revision: string): BackoffState {
    const failures = (this.entries.get(stack)?.failures ?? 0) + 1;
    const delay = backoffDelay(failures, { baseMs: DEFAULT_STACK_BACKOFF.baseMs, maxMs: DEFAULT_STACK_BACKOFF.maxMs, ...this.opts });
    this.entries.set(stack, { failures, retryAt: this.now() + delay, revision });
    return this.state(stack)!;
  }

  succeeded(stack: string): void {
    this.entries.delete(stack);
  }

  /** Whether a timer run of `revision` should wait: the same revision failed and its backoff has not ended. */
  holds(stack: string, revision: string): boolean {
    const e = this.entries.get(stack);
    return e !== undefined && e.revision === revision && this.now() < e.retryAt;
  }

  state(stack: string): BackoffState | undefined {
    const e = this.entries.get(stack);
    return e && { failures: e.failures, retryAt: new Date(e.retryAt).toISOString() };
  }

  forget(stack: string): void {
    this.entries.delete(stack);
  }
}
