/**
 * Per-stack status as `/api/stacks` serves it, in Flux's terms: Ready, Reconciling, Stalled (a user or config
 * error: retrying will not help until someone changes something) and Failed (transient: the next tick retries).
 * `begin` and `end` bracket every reconcile; `end` runs in a finally, so the status never lies about a crash.
 */
import { BerthError } from '../lib/errors.ts';
import type { Operation } from '../engines/standalone/types.ts';
import type { StackOutcome } from './reconcile.ts';
import { deliveryIds, describeReasons, type Job } from './queue.ts';
import type { Snapshot } from '../environment/sources.ts';
import type { BackoffState } from './backoff.ts';

export type StackStatusValue = 'Ready' | 'Reconciling' | 'Stalled' | 'Failed';

export interface StackState {
  stack: string;
  /** Environment commit the stack was (or is being) reconciled from. */
  desiredCommit: string | null;
  /** Ledger commit recording the last deploy of the stack. */
  deployedCommit: string | null;
  /**
   * Reconciling while the stack moves to a revision (environment or catalog commit) it has not finished a
   * reconcile of; a timer re-run of the same revision keeps the last verdict, with `reconciling` set.
   */
  status: StackStatusValue;
  /** A reconcile of the stack is running now. */
  reconciling: boolean;
  /** A CamelCase word for machines: ReconciliationSucceeded, Progressing, HostsFailed, ENVIRONMENT_INVALID, … */
  reason: string;
  lastError: string | null;
  lastReconcile: {
    why: string;
    /** converged | unchanged | failed | stalled */
    outcome: string;
    at: string;
    durationMs: number;
    deliveryIds: string[];
    /** What the run changed and why, from the plan: "h1 web#1 recreate: config changed: image". */
    changes: string[];
  } | null;
  lastSuccessAt: string | null;
  /** A newer catalog version the stack could upgrade to (set by the upgrade checker, when there is one). */
  upgrade?: string;
  /** The merge request proposing that upgrade, when Berth opened one. */
  upgradeMergeRequest?: string;
  /** Set while failed runs back the stack off: the timer retries it after `retryAt`, a new commit at once. */
  backoff?: BackoffState;
}

/** The environment and catalog commits of a snapshot: equal revisions mean the sources did not move. */
export function revisionOf(snap: Snapshot): string {
  return JSON.stringify([snap.commit, snap.catalogs]);
}

export interface RunRecord {
  stack: string;
  why: string;
  deliveryIds: string[];
  started: number;
  /** Environment and catalog commits the run saw: equal revisions mean the sources did not move. */
  revision: string;
  desiredCommit: string | null;
  /** Only the timer or drift events asked for it: nobody changed a source. */
  unattended: boolean;
}

type Result = StackOutcome & { ledgerCommit?: string | null; requested?: boolean; unrecorded?: string };

const MAX_CHANGES = 20;

export class StackBook {
  private readonly states = new Map<string, StackState>();
  /** Revision of each stack's last finished run, to tell drift from a source change. */
  private readonly revisions = new Map<string, string>();

  names(): string[] {
    return [...this.states.keys()];
  }

  list(): StackState[] {
    return [...this.states.values()].sort((a, b) => a.stack.localeCompare(b.stack)).map((s) => structuredClone(s));
  }

  get(name: string): StackState | undefined {
    const s = this.states.get(name);
    return s && structuredClone(s);
  }

  /** Makes the book list exactly `names`. */
  sync(names: string[]): { added: string[]; gone: string[] } {
    const added = names.filter((n) => !this.states.has(n));
    for (const name of added) this.states.set(name, pending(name));
    const gone = this.names().filter((n) => !names.includes(n));
    for (const n of gone) this.forget(n);
    return { added, gone };
  }

  /** The ledger's last record of a stack, known before this process deployed it. */
  recorded(name: string, commit: string): void {
    const s = this.states.get(name);
    if (s && s.deployedCommit === null) s.deployedCommit = commit;
  }

  /** What the upgrade checker found for a stack: `1.0.0 → 1.1.0`, or undefined when it is current. */
  upgradeAvailable(name: string, upgrade: string | undefined): void {
    // The live state, not get()'s copy: a copy would drop the mark on the floor.
    const state = this.states.get(name);
    if (state) state.upgrade = upgrade;
    if (state && !upgrade) delete state.upgradeMergeRequest;
  }

  upgradeProposed(name: string, url: string | undefined): void {
    const state = this.states.get(name);
    if (state && url) state.upgradeMergeRequest = url;
    else if (state) delete state.upgradeMergeRequest;
  }

  backingOff(name: string, backoff: BackoffState | undefined): void {
    const state = this.states.get(name);
    if (!state) return;
    if (backoff) state.backoff = backoff;
    else delete state.backoff;
  }

  forget(name: string): void {
    this.states.delete(name);
    this.revisions.delete(name);
  }

  begin(job: Job, snap: Snapshot): RunRecord {
    const run: RunRecord = {
      stack: job.key, why: describeReasons(job.reasons), deliveryIds: deliveryIds(job.reasons), started: Date.now(),
      revision: revisionOf(snap), desiredCommit: snap.commit ?? null, unattended: job.reasons.every((r) => r.kind === 'timer' || r.kind === 'drift'),
    };
    const s = this.states.get(job.key);
    if (s) s.reconciling = true;
    if (s && this.revisions.get(job.key) !== run.revision) Object.assign(s, { status: 'Reconciling', reason: 'Progressing', desiredCommit: run.desiredCommit });
    return run;
  }

  /** Writes the verdict; `drift` is a timer or drift-event run that changed something although no source moved (nor the ledger, by a person's rollback). */
  end(run: RunRecord, result: Result | undefined, thrown: unknown, signal: AbortSignal): { state: StackState; drift: boolean } | undefined {
    const s = this.states.get(run.stack);
    if (!s) return undefined;
    const v = verdict(result, thrown, signal);
    const at = new Date(run.started).toISOString();
    Object.assign(s, { status: v.status, reason: v.reason, lastError: v.lastError, reconciling: false, desiredCommit: run.desiredCommit });
    s.lastReconcile = { why: run.why, outcome: v.outcome, at, durationMs: Date.now() - run.started, deliveryIds: run.deliveryIds, changes: changes(result) };
    if (result?.ledgerCommit) s.deployedCommit = result.ledgerCommit;
    if (v.status === 'Ready') s.lastSuccessAt = new Date().toISOString();
    const previous = this.revisions.get(run.stack);
    this.revisions.set(run.stack, run.revision);
    const drift = run.unattended && v.outcome === 'converged' && previous === run.revision && result?.requested !== true;
    return { state: structuredClone(s), drift };
  }
}

function pending(stack: string): StackState {
  return { stack, desiredCommit: null, deployedCommit: null, status: 'Reconciling', reconciling: false, reason: 'Pending', lastError: null, lastReconcile: null, lastSuccessAt: null };
}

function verdict(result: Result | undefined, thrown: unknown, signal: AbortSignal): { status: StackStatusValue; reason: string; lastError: string | null; outcome: string } {
  const err = thrown ?? result?.error;
  if (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (signal.aborted) return { status: 'Failed', reason: 'DeadlineExceeded', lastError: message, outcome: 'failed' };
    if (err instanceof BerthError && err.kind === 'user') return { status: 'Stalled', reason: err.code, lastError: message, outcome: 'stalled' };
    return { status: 'Failed', reason: err instanceof BerthError ? err.code : 'ReconcileError', lastError: message, outcome: 'failed' };
  }
  if (!result) return { status: 'Failed', reason: 'ReconcileError', lastError: 'the reconcile ended without a result', outcome: 'failed' };
  if (result.outcome === 'failed') {
    const hosts = Object.entries(result.result?.hosts ?? {}).filter(([, h]) => h.error).map(([name, h]) => `${name}: ${h.error}`);
    return { status: 'Failed', reason: 'HostsFailed', lastError: hosts.join('\n') || 'failed on some hosts', outcome: 'failed' };
  }
  // Deployed but not on the ledger: a revert of the newest record would not undo this deploy, so it is not Ready.
  if (result.unrecorded !== undefined) return { status: 'Failed', reason: 'LedgerWriteFailed', lastError: `deployed, but the ledger could not record it: ${result.unrecorded}; the next reconcile records it`, outcome: result.outcome };
  return { status: 'Ready', reason: 'ReconciliationSucceeded', lastError: null, outcome: result.outcome };
}

function changes(result: Result | undefined): string[] {
  if (!result?.plan || result.outcome === 'unchanged') return [];
  const describe = (op: Operation) => `${op.host} ${'number' in op ? `${op.service}#${op.number} ` : 'service' in op ? `${op.service} ` : ''}${op.kind}: ${op.cause}`;
  const all = result.plan.hosts.flatMap((h) => h.operations.filter((op) => op.kind !== 'keep' && op.kind !== 'keep-service').map(describe));
  return all.length > MAX_CHANGES ? [...all.slice(0, MAX_CHANGES), `… and ${all.length - MAX_CHANGES} more`] : all;
}
