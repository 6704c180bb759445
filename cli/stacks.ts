import type { Command } from 'commander';
import { loadEnvironment, type Environment } from '../controller/environment.ts';
import { desiredStack } from '../controller/desired.ts';
import { formatPlan, planToJson } from '../controller/plan-format.ts';
import { driversFor, observeStack, reconcileStack, type StackOutcome } from '../controller/reconcile.ts';
import { stackStatus, type StackStatus } from '../controller/status.ts';
import { plainSink, ttySink } from '../controller/events.ts';
import { UserError } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import type { Catalog } from '../catalog/types.ts';
import type { StackSpec } from '../controller/types.ts';

interface EnvOpts { env: string; json?: boolean; verbose?: boolean }

const envOption = ['--env <dir>', 'environment folder (default: $BERTH_ENV or the current folder)'] as const;

export function registerStackCommands(program: Command): void {
  program.command('plan')
    .description('show what apply would do on each host, and why, without changing anything')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .option(...envOption, process.env.BERTH_ENV ?? '.')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'also list what stays as it is')
    .action(async (stack: string | undefined, opts: EnvOpts) => {
      const outcomes = await run(stack, opts, true);
      if (opts.json) return print(JSON.stringify(outcomes.map((o) => (o.plan ? planToJson(o.plan) : { stack: o.stack, error: o.error?.message })), null, 2));
      for (const o of outcomes) print(o.plan ? formatPlan(o.plan, { verbose: opts.verbose, color: process.stdout.isTTY }) : `stack ${o.stack}: ${o.error?.message}`);
    });

  program.command('apply')
    .description('converge the hosts to the environment: pull, create, roll out and remove, then report per host')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .option(...envOption, process.env.BERTH_ENV ?? '.')
    .option('--json', 'print the outcome as JSON')
    .action(async (stack: string | undefined, opts: EnvOpts) => {
      const outcomes = await run(stack, opts, false);
      if (opts.json) print(JSON.stringify(outcomes.map(outcomeJson), null, 2));
      else for (const o of outcomes) print(describeOutcome(o));
    });

  program.command('status')
    .description('per host and service: desired replicas against running ones')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .option(...envOption, process.env.BERTH_ENV ?? '.')
    .option('--json', 'print JSON')
    .action(async (stack: string | undefined, opts: EnvOpts) => {
      const env = await loadEnvironment(opts.env);
      const drivers = driversFor(env.hosts);
      const catalogs = new Map<string, Catalog>();
      const statuses = await Promise.all(pick(env, stack).map(async (spec) => stackStatus(await desiredStack(env, spec, { catalogs }), await observeStack(spec.name, drivers))));
      if (opts.json) return print(JSON.stringify(statuses, null, 2));
      for (const s of statuses) print(formatStatus(s));
      if (statuses.some((s) => !s.converged)) process.exitCode = 3;
    });
}

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

async function run(stack: string | undefined, opts: EnvOpts, dryRun: boolean): Promise<StackOutcome[]> {
  const env = await loadEnvironment(opts.env);
  const drivers = driversFor(env.hosts);
  const log = createLogger();
  const events = opts.json ? () => {} : process.stderr.isTTY ? ttySink(process.stderr) : plainSink(process.stderr);
  const catalogs = new Map<string, Catalog>();
  const outcomes: StackOutcome[] = [];
  // Stacks run one after another so progress reads in order; hosts within a stack run in parallel.
  for (const spec of pick(env, stack)) outcomes.push(await reconcileStack(env, spec, { why: 'cli', drivers, events, log: dryRun ? undefined : log, dryRun, catalogs }));
  if (outcomes.some((o) => o.error || o.outcome === 'failed')) process.exitCode = 1;
  return outcomes;
}

function describeOutcome(o: StackOutcome): string {
  if (o.error) return `stack ${o.stack}: failed: ${o.error.message}`;
  const lines = [`stack ${o.stack} (${o.plan?.source}): ${o.outcome} in ${(o.durationMs / 1000).toFixed(1)}s`];
  for (const [host, h] of Object.entries(o.result?.hosts ?? {})) lines.push(`  host ${host}: ${h.outcome}${h.error ? `: ${h.error}` : ''}`);
  for (const h of o.plan?.hosts ?? []) if (h.error && !o.result) lines.push(`  host ${h.host}: unreachable: ${h.error}`);
  if (o.desired && o.observed) for (const e of stackStatus(o.desired, o.observed).endpoints) lines.push(`  open ${e.url}  (${e.service} on ${e.host})`);
  return lines.join('\n');
}

function outcomeJson(o: StackOutcome): Record<string, unknown> {
  return { stack: o.stack, outcome: o.outcome, error: o.error?.message, hosts: o.result?.hosts, plan: o.plan ? planToJson(o.plan) : undefined, durationMs: o.durationMs };
}

function formatStatus(s: StackStatus): string {
  const lines = [`stack ${s.stack} (${s.source}): ${s.converged ? 'converged' : 'NOT converged'}`];
  for (const h of s.hosts) {
    if (!h.reachable) { lines.push(`  host ${h.host}: unreachable${h.error ? `: ${h.error}` : ''}`); continue; }
    lines.push(`  host ${h.host}`);
    for (const sv of h.services) {
      const extra = [sv.upToDate < sv.running ? `${sv.running - sv.upToDate} outdated` : '', sv.unhealthy ? `${sv.unhealthy} unhealthy` : ''].filter(Boolean).join(', ');
      lines.push(`    ${sv.service.padEnd(16)} ${sv.running}/${sv.desired} running${extra ? ` (${extra})` : ''}`);
    }
  }
  for (const e of s.endpoints) lines.push(`  open ${e.url}  (${e.service} on ${e.host})`);
  return lines.join('\n');
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
