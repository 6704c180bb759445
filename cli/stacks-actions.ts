/** What plan, apply and status do; cli/stacks.ts declares the commands and loads this only when one runs. */
import { loadEnvironment, type Environment } from '../environment/environment.ts';
import { formatPlan, planToJson } from '../engines/standalone/plan-format.ts';
import type { StackOutcome } from '../controller/reconcile.ts';
import { deployStack, desiredNow, type DeployContext } from '../controller/deploy.ts';
import { pruneStack, removedStacks } from '../controller/prune.ts';
import type { StackStatus } from '../engines/engine.ts';
import { cliContext } from './context.ts';
import { pinoSink, ttySink } from '../engines/events.ts';
import { settleAll } from '../engines/standalone/steps.ts';
import { placementError } from '../engines/standalone/desired.ts';
import { UserError } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import type { StackSpec } from '../environment/types.ts';
import { availableUpgrades, type AvailableUpgrade } from '../upgrades/available.ts';

/** Enough to overlap one stack's waits with another's Docker work without flooding a host's engine. */
const STACK_CONCURRENCY = 4;

export interface EnvOpts { env: string; json?: boolean; verbose?: boolean }

function pick(env: Environment, stack: string | undefined): StackSpec[] {
  if (!stack) return env.stacks;
  const spec = env.stacks.find((s) => s.name === stack);
  if (!spec) {
    throw new UserError('STACK_NOT_FOUND', `no stack "${stack}" in ${env.root}/stacks`, {
      hint: env.stacks.length ? `stacks here: ${env.stacks.map((s) => s.name).join(', ')}` : `create ${env.root}/stacks/${stack}.yml (template, version, answers)`,
    });
  }
  return [spec];
}

async function run(stack: string | undefined, opts: EnvOpts, dryRun: boolean): Promise<{ ctx: DeployContext; outcomes: StackOutcome[] }> {
  const env = await loadEnvironment(opts.env);
  const log = createLogger();
  // A person at a terminal sees progress lines; anything else (CI, a log collector) gets pino JSON.
  const events = opts.json ? () => {} : process.stderr.isTTY ? ttySink(process.stderr) : pinoSink(log);
  const ctx = { ...(await cliContext(env, log)), events };
  const specs = pick(env, stack);
  const outcomes: StackOutcome[] = new Array(specs.length);
  // Stacks run side by side (their progress lines name the stack); hosts within a stack run in parallel too.
  // Apply records in the ledger (when there is one); plan honours a rollback in force there.
  await settleAll(specs.map((spec, i) => [spec, i] as const), async ([spec, i]) => {
    outcomes[i] = await deployStack(ctx, spec, { kind: 'cli', why: 'cli' }, { dryRun });
  }, STACK_CONCURRENCY);
  // The whole environment was read (loadEnvironment throws otherwise): a stack it deployed and no longer names goes.
  if (!stack) {
    for (const name of await removedStacks(env, ctx.engines, ctx.ledger)) outcomes.push(await pruneStack(ctx, name, { kind: 'cli', why: 'cli' }, { dryRun }));
  }
  if (outcomes.some((o) => o.error || o.outcome === 'failed')) process.exitCode = 1;
  // A plan that could not see a host is not a plan of what apply would do.
  else if (outcomes.some((o) => o.plan?.hosts.some((h) => h.error))) process.exitCode = 2;
  return { ctx, outcomes };
}

function describeOutcome(ctx: DeployContext, o: StackOutcome): string {
  if (o.error) return `stack ${o.stack}: failed: ${o.error.message}`;
  const lines = [`stack ${o.stack} (${o.plan?.source}): ${o.outcome} in ${(o.durationMs / 1000).toFixed(1)}s`];
  // The outcome is said once: a host's error may itself begin with it ("unreachable: host h4 … is unreachable").
  for (const [host, h] of Object.entries(o.result?.hosts ?? {})) lines.push(`  host ${host}: ${h.outcome}${h.error ? `: ${h.error.replace(new RegExp(`^${h.outcome}:\\s*`), '')}` : ''}`);
  for (const h of o.plan?.hosts ?? []) if (h.error && !o.result) lines.push(`  host ${h.host}: unreachable: ${h.error.replace(/^unreachable:\s*/, '')}`);
  const spec = ctx.env.stacks.find((x) => x.name === o.stack);
  if (o.desired && o.observed && spec) for (const e of ctx.engines.for(spec).status(o.desired, o.observed).endpoints) lines.push(`  open ${e.url}  (${e.service} on ${e.host})`);
  return lines.join('\n');
}

function outcomeJson(o: StackOutcome): Record<string, unknown> {
  return { stack: o.stack, outcome: o.outcome, error: o.error?.message, hosts: o.result?.hosts, plan: o.plan ? planToJson(o.plan) : undefined, durationMs: o.durationMs };
}

function formatStatus(s: StackStatus, upgrade?: AvailableUpgrade): string {
  const lines = [`stack ${s.stack} (${s.source}): ${s.converged ? 'converged' : 'NOT converged'}`];
  if (upgrade) lines.push(`  upgrade available: ${upgrade.from} → ${upgrade.to} (berth upgrades --open proposes it)`);
  for (const h of s.hosts) {
    if (!h.reachable) { lines.push(`  host ${h.host}: unreachable${h.error ? `: ${h.error}` : ''}`); continue; }
    lines.push(s.engine === 'swarm' ? `  swarm ${h.host}` : `  host ${h.host}`);
    const down = (h.nodes ?? []).filter((n) => n.state !== 'ready' || n.availability !== 'active');
    if (down.length) lines.push(`    nodes: ${down.map((n) => `${n.name} ${n.state}${n.availability !== 'active' ? `/${n.availability}` : ''}`).join(', ')}`);
    for (const sv of h.services) {
      const extra = [
        sv.upToDate < sv.running ? `${sv.running - sv.upToDate} outdated` : '', sv.unhealthy ? `${sv.unhealthy} unhealthy` : '',
        sv.update && sv.update.state !== 'completed' ? `update ${sv.update.state}${sv.update.message ? `: ${sv.update.message}` : ''}` : '',
      ].filter(Boolean).join(', ');
      lines.push(`    ${sv.service.padEnd(16)} ${sv.running}/${sv.desired} running${extra ? ` (${extra})` : ''}`);
      // A Swarm places tasks itself: say where each runs, and why the ones that failed did.
      for (const t of sv.tasks ?? []) lines.push(`      ${t.slot ? `#${t.slot} ` : ''}${t.node}: ${t.state}${t.desiredState !== 'running' ? ` (→ ${t.desiredState})` : ''}${t.error ? `: ${t.error}` : ''}`);
    }
  }
  for (const e of s.endpoints) lines.push(`  open ${e.url}  (${e.service} on ${e.host})`);
  return lines.join('\n');
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A stack that failed goes to stderr with its hint, like any other error: stdout keeps what succeeded. */
function printFailure(stack: string, error: Error): void {
  process.stderr.write(`stack ${stack}: error: ${error.message}\n`);
  const hint = (error as { hint?: string }).hint;
  if (hint) process.stderr.write(`hint: ${hint}\n`);
}

export async function planAction(stack: string | undefined, opts: EnvOpts): Promise<void> {
  const { outcomes } = await run(stack, opts, true);
  if (opts.json) return print(JSON.stringify(outcomes.map((o) => (o.plan ? planToJson(o.plan) : { stack: o.stack, error: o.error?.message })), null, 2));
  for (const o of outcomes) {
    if (o.plan) print(formatPlan(o.plan, { verbose: opts.verbose, color: process.stdout.isTTY }));
    else printFailure(o.stack, o.error ?? new Error('failed'));
    // A plan with errors lists them; what to do about them is the error's hint.
    const hint = o.plan && o.plan.errors.length ? (o.error as { hint?: string } | undefined)?.hint : undefined;
    if (hint) process.stderr.write(`hint: ${hint}\n`);
  }
}

export async function applyAction(stack: string | undefined, opts: EnvOpts): Promise<void> {
  const { ctx, outcomes } = await run(stack, opts, false);
  if (opts.json) print(JSON.stringify(outcomes.map(outcomeJson), null, 2));
  else for (const o of outcomes) {
    if (o.error) printFailure(o.stack, o.error);
    else print(describeOutcome(ctx, o));
  }
}

export async function statusAction(stack: string | undefined, opts: EnvOpts): Promise<void> {
  const env = await loadEnvironment(opts.env);
  const ctx = await cliContext(env);
  // Against what a deploy would run: a ledger rollback in force counts as desired, not as outdated.
  // One stack that cannot render is reported on its own; the others' status still shows.
  const results = await Promise.all(pick(env, stack).map(async (spec) => {
    try {
      const engine = ctx.engines.for(spec);
      const { desired } = await desiredNow(ctx, spec);
      const unplaced = placementError(desired, spec);
      if (unplaced) throw unplaced;
      return engine.status(desired, await engine.observe(spec.name));
    } catch (e) {
      return { stack: spec.name, error: e instanceof Error ? e : new Error(String(e)) };
    }
  }));
  const statuses = results.filter((r): r is StackStatus => !('error' in r));
  const failures = results.filter((r): r is { stack: string; error: Error } => 'error' in r);
  if (opts.json) print(JSON.stringify(results.map((r) => ('error' in r ? { stack: r.stack, error: r.error.message } : r)), null, 2));
  else {
    const upgrades = new Map((await availableUpgrades(env, { catalogs: ctx.catalogs })).map((u) => [u.stack, u]));
    for (const s of statuses) print(formatStatus(s, upgrades.get(s.stack)));
    for (const f of failures) printFailure(f.stack, f.error);
  }
  if (failures.length) process.exitCode = 1;
  else if (statuses.some((s) => !s.converged)) process.exitCode = 3;
}
