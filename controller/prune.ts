/**
 * Removed stacks: a stack this environment deployed whose file is no longer in the environment is pruned on every
 * engine — its containers or services, and its networks, removed; named volumes kept, since deleting data is a
 * person's decision — and the removal is recorded on the ledger as a commit deleting its folder, so a `git revert`
 * of that commit (or the file restored) brings the stack back.
 *
 * Only a stack absent from an environment read whole is removed. A stack file that fails to parse is still listed
 * (StackSpec.invalid) and so never looks removed; the caller prunes nothing while the environment is invalid or its
 * repository unreachable (stale). Only what carries this environment's owner label is touched (the plans refuse a
 * target holding anything else of the stack).
 */
import type { ObservedState, StackEngine } from '../engines/engine.ts';
import type { ApplyResult, HostPlan, HostResult, Plan } from '../engines/plan-types.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import { swarmTarget } from '../engines/targets.ts';
import { nullSink } from '../engines/events.ts';
import type { Engines } from '../engines/registry.ts';
import type { Environment } from '../environment/environment.ts';
import { environmentIdentity } from '../environment/identity.ts';
import type { StackSpec, SwarmSpec } from '../environment/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { LedgerRecord, Trigger } from '../ledger/record.ts';
import { silentLogger } from '../lib/log.ts';
import { isNoop } from '../engines/engine.ts';
import { deployStack, envAt, type DeployContext, type DeployOutcome } from './deploy.ts';

export const REMOVED_CAUSE = 'stack file removed';

/** Stack names as stack files may spell them: anything else found on a host is not a stack file's. */
const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Stacks to prune (or, when a person reverted their removal, to deploy from the ledger): found on an engine under
 * this environment's owner label, or with a folder on its ledger that a stack file of this environment deployed,
 * and absent from `env.stacks`. The caller guarantees `env` was read whole.
 */
export async function removedStacks(env: Environment, engines: Engines, ledger?: Ledger): Promise<string[]> {
  const present = new Set(env.stacks.map((s) => s.name));
  const owner = await environmentIdentity(env);
  const found = (await Promise.all(engines.all().map((e) => e.listStacks(owner).catch(() => [] as string[])))).flat();
  const recorded = ledger ? (await ledger.stacks().catch(() => [] as string[])).filter((s) => !present.has(s) && !found.includes(s)) : [];
  // A ledger folder counts only when this environment's own file deployed it: one branch may hold other folders' stacks.
  const ours = await Promise.all(recorded.map(async (s) => ((await deployedHere(env, ledger!, s)) ? [s] : [])));
  return [...new Set([...found, ...ours.flat()])].filter((s) => !present.has(s) && STACK_NAME.test(s)).sort();
}

async function deployedHere(env: Environment, ledger: Ledger, stack: string): Promise<boolean> {
  const record = (await ledger.latest(stack).catch(() => undefined))?.record;
  const at = record && (await envAt(env, record.sources.environment));
  return at !== undefined && (await at.text(`stacks/${stack}.yml`).catch(() => undefined)) !== undefined;
}

/** The spec a removed stack is deployed under when a person brought its ledger state back: where the record placed it. */
function specFromRecord(env: Environment, stack: string, record: LedgerRecord): StackSpec {
  const swarm = Object.keys(record.hosts).find((h) => env.swarms?.some((s) => s.name === h));
  return {
    name: stack, file: `stacks/${stack}.yml`, template: record.template, version: record.version, answers: {}, hosts: {},
    ...(record.catalog ? { catalog: record.catalog } : {}), ...(swarm ? { swarm } : {}),
  };
}

/** Every engine of the environment, with the Swarm each one is for (none: the standalone hosts). */
function enginesOf(env: Environment, engines: Engines): Array<{ engine: StackEngine; swarm?: SwarmSpec }> {
  return [{ engine: engines.standalone }, ...(env.swarms ?? []).map((swarm) => ({ engine: engines.swarm(swarm.name), swarm }))];
}

/** Nothing of the stack wanted anywhere on the engine's targets. */
function removalDesired(stack: string, owner: string, swarm: SwarmSpec | undefined): DesiredStack {
  const model = { name: stack, services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
  const hosts = swarm ? { [swarm.name]: { host: swarmTarget(swarm), services: {}, replicas: [], networks: [], volumes: [] } } : {};
  return { name: stack, model, source: 'removed', hosts, secrets: [], owner, removed: REMOVED_CAUSE };
}

/** Targets the engine could not read: what the stack left there is unknown, so its removal is not finished. */
function unreadTargets(observed: ObservedState): string[] {
  if ('engine' in observed) return observed.reachable ? [] : [observed.swarm];
  return Object.values(observed.hosts).filter((h) => !h.reachable).map((h) => h.host);
}

export type PruneOutcome = DeployOutcome & { removed: true };

/**
 * Prunes one removed stack from every engine and records its removal — or, while a person's revert of that removal
 * is in force on the ledger, deploys the restored state instead. `dryRun`: the plan only.
 */
export async function pruneStack(ctx: DeployContext, stack: string, trigger: Trigger, opts: { dryRun?: boolean } = {}): Promise<DeployOutcome> {
  const started = Date.now();
  const log = ctx.log ?? silentLogger;
  const out: PruneOutcome = { stack, why: trigger.why, outcome: 'failed', startedAt: new Date(started).toISOString(), durationMs: 0, mode: 'render', ledgerCommit: null, removed: true };
  try {
    if (!opts.dryRun && !ctx.ledgerFetched) await ctx.ledger?.refresh().catch(() => undefined);
    const state = ctx.ledger ? await ctx.ledger.stackState(stack, ctx.sources) : {};
    if (state.rollback) {
      if (!opts.dryRun) log.info({ stack, restoredFrom: state.rollback.restoredFrom }, `stack ${stack}: its file is gone, but the ledger restores it (${state.rollback.restoredFrom.slice(0, 7)}): deploying that state`);
      return await deployStack(ctx, specFromRecord(ctx.env, stack, state.rollback.record), trigger, opts);
    }
    const owner = await environmentIdentity(ctx.env);
    const hosts: HostPlan[] = [];
    const results: Record<string, HostResult> = {};
    const unread: string[] = [];
    for (const { engine, swarm } of enginesOf(ctx.env, ctx.engines)) {
      const desired = removalDesired(stack, owner, swarm);
      // No network is wanted any more: each is read for containers outside the stack that keep it.
      const observed = await engine.observe(stack, undefined, { networks: {} });
      const plan = engine.plan(desired, observed);
      unread.push(...unreadTargets(observed));
      const touched = plan.hosts.filter((h) => h.error || h.operations.length);
      hosts.push(...touched);
      if (opts.dryRun || (isNoop(plan) && !touched.some((h) => h.error))) continue;
      const applied: ApplyResult = await engine.apply({ ...plan, hosts: touched }, desired, { events: ctx.events ?? nullSink, signal: ctx.signal, registries: ctx.env.registries });
      Object.assign(results, applied.hosts);
    }
    out.plan = { stack, source: 'removed', hosts, errors: [] } satisfies Plan;
    if (opts.dryRun) return Object.assign(out, { outcome: 'planned' as const });
    if (Object.keys(results).length) out.result = { stack, hosts: results };
    const failed = [
      ...hosts.filter((h) => h.error).map((h) => `${h.host}: ${h.error}`),
      ...Object.entries(results).filter(([, r]) => r.outcome === 'failed' || r.outcome === 'unreachable').map(([h, r]) => `${h}: ${r.error ?? r.outcome}`),
      ...unread.filter((h) => !hosts.some((p) => p.host === h)).map((h) => `${h}: unreachable`),
    ];
    if (failed.length) throw new Error(`stack ${stack}: its file was removed, but it could not be removed everywhere yet (the next reconcile tries again): ${[...new Set(failed)].join('; ')}`);
    const removedFrom = [...new Set(hosts.filter((h) => h.operations.length).map((h) => h.host))].sort();
    out.outcome = removedFrom.length ? 'converged' : 'unchanged';
    if (removedFrom.length) log.info({ stack, hosts: removedFrom }, `stack ${stack}: its file was removed; removed it from ${removedFrom.join(', ')} (named volumes kept)`);
    if (ctx.ledger) {
      out.ledgerCommit = await ctx.ledger.recordRemoval(stack, { trigger, sources: ctx.sources, cause: REMOVED_CAUSE, removedFrom });
      if (out.ledgerCommit) log.info({ stack, commit: out.ledgerCommit }, `stack ${stack}: removal recorded as ${out.ledgerCommit.slice(0, 7)} on ${ctx.ledger.branch}`);
    }
  } catch (e) {
    out.error = e instanceof Error ? e : new Error(String(e));
    if (!opts.dryRun) log.error({ stack, why: trigger.why, err: out.error.message }, out.error.message);
  } finally {
    out.durationMs = Date.now() - started;
  }
  return out;
}
