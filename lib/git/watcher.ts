/**
 * Keeps the last known good copy of a repository usable while the remote is down: failures back off
 * exponentially (with jitter, so many controllers don't retry in lockstep) and callers get the old state
 * marked stale instead of an exception.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { describeSource, type RepoSource } from './source.ts';
import { syncRepo, type SyncOptions, type SyncResult } from './sync.ts';

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** Delay before retry number `failures` (1-based): base·2^(n−1), capped, then "equal jitter" (half fixed, half random). */
export function backoffDelay(failures: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 1_000;
  const max = opts.maxMs ?? 300_000;
  const capped = Math.min(max, base * 2 ** Math.max(0, failures - 1));
  return Math.round(capped / 2 + (opts.random ?? Math.random)() * (capped / 2));
}

export type WatchedState =
  | (SyncResult & { stale: false; syncedAt: Date })
  | (SyncResult & { stale: true; syncedAt: Date; error: BerthError; retryAt: Date });

export interface WatcherOptions extends SyncOptions {
  backoff?: BackoffOptions;
  now?: () => number;
  /** Injected for tests. */
  sync?: typeof syncRepo;
}

export class RepoWatcher {
  private good?: SyncResult & { syncedAt: Date };
  private lastError?: BerthError;
  private failures = 0;
  private retryAt = 0;
  private inFlight?: Promise<WatchedState>;

  constructor(
    readonly source: RepoSource,
    private readonly opts: WatcherOptions,
  ) {}

  /** The last state handed out, without touching the network. */
  current(): WatchedState | undefined {
    if (!this.good) return undefined;
    return this.lastError ? this.staleState(this.lastError) : { ...this.good, changed: false, stale: false };
  }

  /** Milliseconds until a non-forced refresh will try the remote again (0 = now). */
  retryInMs(): number {
    return Math.max(0, this.retryAt - this.now());
  }

  /**
   * Syncs unless still backing off from a failure (`force`, e.g. on a webhook, skips the wait). Resolves with a
   * fresh state, or the last good one marked stale; rejects only when there has never been a good state.
   */
  refresh(opts: { force?: boolean } = {}): Promise<WatchedState> {
    if (this.inFlight) return this.inFlight;
    if (!opts.force && this.lastError && this.retryInMs() > 0) {
      if (this.good) return Promise.resolve(this.staleState(this.lastError));
      return Promise.reject(this.lastError);
    }
    this.inFlight = this.attempt().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Waits out the backoff, then refreshes: the shape a polling loop wants. */
  async next(signal?: AbortSignal): Promise<WatchedState> {
    const wait = this.retryInMs();
    if (wait > 0) await sleep(wait, undefined, { signal });
    return this.refresh();
  }

  private async attempt(): Promise<WatchedState> {
    const log = this.opts.log ?? silentLogger;
    try {
      const { rebuilt, ...result } = await (this.opts.sync ?? syncRepo)(this.source, { ...this.opts, checkedOut: this.good?.commit });
      if (this.lastError) log.info({ repo: describeSource(this.source), after: this.failures }, 'repository reachable again');
      this.good = { ...result, syncedAt: new Date(this.now()) };
      this.lastError = undefined;
      this.failures = 0;
      this.retryAt = 0;
      // Said by the sync that rebuilt the clone alone, not by every state handed out after it.
      return { ...this.good, stale: false, ...(rebuilt ? { rebuilt } : {}) };
    } catch (err) {
      const error = err instanceof BerthError ? err : new BerthError('GIT_FAILED', 'internal', String((err as Error)?.message ?? err), { cause: err });
      this.failures += 1;
      this.lastError = error;
      this.retryAt = this.now() + backoffDelay(this.failures, this.opts.backoff);
      log.warn({ repo: describeSource(this.source), code: error.code, err: error.message, failures: this.failures, retryInMs: this.retryInMs() }, 'repository sync failed');
      if (!this.good) throw error;
      return this.staleState(error);
    }
  }

  private staleState(error: BerthError): WatchedState {
    return { ...this.good!, changed: false, stale: true, error, retryAt: new Date(this.retryAt) };
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}
