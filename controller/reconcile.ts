/**
 * The reconcile shell: desired → observe → plan → apply for one stack, through whichever engine runs it, knowing
 * why it runs. Whatever happens inside, the outcome is returned as data (never thrown) so callers can always
 * record a truthful status — Flux's "status written in a finally" habit.
 */
import type { Logger } from '../lib/log.ts';
import { BerthError, ValidationError } from '../lib/errors.ts';
import type { Catalog } from '../catalog/types.ts';
import { desiredStack, placementError } from '../engines/standalone/desired.ts';
import type { Environment } from '../environment/environment.ts';
import { isNoop, type ObservedState, type StackEngine } from '../engines/engine.ts';
import { nullSink, type EventSink } from '../engines/events.ts';
import type { ApplyResult, Plan } from '../engines/plan-types.ts';
import { Engines } from '../engines/registry.ts';
import type { EngineDriver } from '../engines/standalone/driver.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import type { StackSpec } from '../environment/types.ts';
import { environmentIdentity } from '../environment/identity.ts';

export { driversFor } from '../engines/registry.ts';

export type Outcome = 'converged' | 'unchanged' | 'failed' | 'planned';

export interface StackOutcome {
  stack: string;
  /** Why this reconcile ran: "cli", "timer", "push abc1234", … */
  why: string;
  outcome: Outcome;
  desired?: DesiredStack;
  observed?: ObservedState;
  plan?: Plan;
  result?: ApplyResult;
  /** Set when the stack could not be planned or applied; per-target failures are in `result`. */
  error?: Error;
  startedAt: string;
  durationMs: number;
}

export interface ReconcileOptions {
  why: string;
  /** The environment's engines; default: made here (standalone over `drivers` when given). */
  engines?: Engines;
  /** Standalone hosts' drivers, for callers that bring their own. */
  drivers?: Record<string, EngineDriver>;
  events?: EventSink;
  log?: Logger;
  /** Plan only. */
  dryRun?: boolean;
  signal?: AbortSignal;
  catalogs?: Map<string, Catalog>;
  /** Desired state computed by the caller (a rollback from the ledger); default: render the environment's stack. */
  desired?: DesiredStack;
  /** Observe through the engine's current observation round (a pass over many stacks). */
  shared?: boolean;
}

export function engineOf(env: Environment, spec: StackSpec, opts: Pick<ReconcileOptions, 'engines' | 'drivers'>): StackEngine {
  return (opts.engines ?? new Engines(env, { drivers: opts.drivers })).for(spec);
}

export async function reconcileStack(env: Environment, spec: StackSpec, opts: ReconcileOptions): Promise<StackOutcome> {
  const started = Date.now();
  const out: StackOutcome = { stack: spec.name, why: opts.why, outcome: 'failed', startedAt: new Date(started).toISOString(), durationMs: 0 };
  try {
    const engine = engineOf(env, spec, opts);
    const desired = opts.desired ?? (await desiredStack(env, spec, { catalogs: opts.catalogs }));
    // The owner label is what keeps two environments from fighting over one stack's containers.
    out.desired = desired.owner ? desired : { ...desired, owner: await environmentIdentity(env) };
    out.observed = await engine.observe(spec.name, desiredImages(out.desired), { shared: opts.shared, networks: desiredNetworks(out.desired) });
    out.plan = engine.plan(out.desired, out.observed);
    const unplaced = placementError(out.desired, spec);
    if (unplaced) throw unplaced;
    if (out.plan.errors.length) {
      throw new ValidationError('PLAN_INVALID', `Stack ${spec.name} cannot run on its ${engine.kind === 'swarm' ? 'Swarm' : 'hosts'}:`, out.plan.errors.map((message) => ({ file: spec.file, message })),
        'Change the template or its answers so every key is one the target honours (docs/environment.md lists them).');
    }
    if (opts.dryRun) {
      out.outcome = 'planned';
    } else if (isNoop(out.plan) && out.plan.hosts.every((h) => !h.error)) {
      out.outcome = 'unchanged';
    } else {
      out.result = await engine.apply(out.plan, out.desired, { events: opts.events ?? nullSink, signal: opts.signal, registries: env.registries });
      const outcomes = Object.values(out.result.hosts).map((h) => h.outcome);
      out.outcome = outcomes.every((o) => o === 'unchanged') ? 'unchanged' : outcomes.every((o) => o === 'converged' || o === 'unchanged') ? 'converged' : 'failed';
    }
  } catch (e) {
    out.error = e instanceof Error ? e : new Error(String(e));
  } finally {
    out.durationMs = Date.now() - started;
    logOutcome(opts.log, out);
  }
  return out;
}

export function desiredImages(desired: DesiredStack): string[] {
  return [...new Set(Object.values(desired.hosts).flatMap((h) => Object.values(h.services).map((s) => s.model.image)))].sort();
}

/** Per target, the networks the desired state uses there (a stack being removed uses none). */
export function desiredNetworks(desired: DesiredStack): Record<string, string[]> {
  return Object.fromEntries(Object.entries(desired.hosts).map(([target, h]) => [target, desired.removed ? [] : h.networks.map((n) => n.name)]));
}

function logOutcome(log: Logger | undefined, o: StackOutcome): void {
  if (!log) return;
  const fields = { stack: o.stack, why: o.why, outcome: o.outcome, durationMs: o.durationMs };
  if (o.error) {
    log.error({ ...fields, code: o.error instanceof BerthError ? o.error.code : undefined, err: o.error.message }, `stack ${o.stack}: ${o.error.message}`);
  } else if (o.outcome === 'failed') {
    const failed = Object.entries(o.result?.hosts ?? {}).filter(([, h]) => h.error).map(([name, h]) => `${name}: ${h.error}`);
    log.error({ ...fields, hosts: failed }, `stack ${o.stack} failed on ${failed.length} host(s)`);
  } else {
    log.info(fields, `stack ${o.stack} ${o.outcome}`);
  }
}
