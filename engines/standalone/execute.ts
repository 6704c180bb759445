/**
 * Runs a Plan: all hosts at once, each on its own (one host failing or unreachable fails only its part).
 * Per host: images first (pull before stopping anything), then networks and volumes, then services in
 * depends_on order, then orphans, then networks no longer wanted. Nothing is removed on a host whose
 * services did not all come up: the old state is the safer one to leave behind.
 */
import { BerthError } from '../../lib/errors.ts';
import type { EngineDriver } from './driver.ts';
import { maskingSink, type EventSink } from '../events.ts';
import { maskSecrets } from '../../lib/secrets.ts';
import { FRESH_SETTLE_MS } from './wait.ts';
import { dependencyCycle, ServiceGates } from './gates.ts';
import type { RegistryCredential } from '../docker/pull.ts';
import { rollout, settleInterrupted, type RecreateOp } from './rollout.ts';
import {
  createContainer, DEFAULT_STEP_DEADLINE_MS, desiredService, emit, info, removeContainer, settleAll, specFor, startContainer, step, stopContainer,
  waitNew, type HostContext,
} from './steps.ts';
import type { DesiredStack, HostPlan, Operation, Plan } from './types.ts';
import type { ApplyResult, HostResult } from '../plan-types.ts';

export type { ApplyResult, HostResult } from '../plan-types.ts';

export interface ExecuteOptions {
  events: EventSink;
  signal?: AbortSignal;
  registries?: readonly RegistryCredential[];
  /** Deadline of a step the model gives none (dependency waits, one-shot jobs); default 5 minutes. */
  deadlineMs?: number;
}

type Op<K extends Operation['kind']> = Extract<Operation, { kind: K }>;
type ServiceOp = Op<'create'> | Op<'recreate'> | Op<'start'> | Op<'keep'> | Op<'finish'> | Op<'restore'>;
const SERVICE_OPS = new Set<Operation['kind']>(['create', 'recreate', 'start', 'keep', 'finish', 'restore']);

interface HostRun {
  ctx: HostContext;
  gates: ServiceGates;
  registries: readonly RegistryCredential[];
  count: number;
}

const isKind = <K extends Operation['kind']>(k: K) => (op: Operation): op is Op<K> => op.kind === k;

function serviceOps(ops: Operation[]): Map<string, ServiceOp[]> {
  const by = new Map<string, ServiceOp[]>();
  for (const op of ops) {
    if (SERVICE_OPS.has(op.kind)) by.set((op as ServiceOp).service, [...(by.get((op as ServiceOp).service) ?? []), op as ServiceOp]);
  }
  return by;
}

/** Every image a new container will use, pulled (per pull_policy) before anything is stopped. */
async function pullImages(run: HostRun, ops: Operation[]): Promise<void> {
  const services = [...new Set(ops.filter((o) => o.kind === 'create' || o.kind === 'recreate').map((o) => (o as Op<'create'>).service))];
  const images = new Map(services.map((s) => desiredService(run.ctx, s).model).map((m) => [`${m.image}\u0000${m.pull_policy}`, m]));
  const errors = await settleAll([...images.values()], (m) =>
    step(run.ctx, { action: 'pull', service: m.name, message: m.image }, () => run.ctx.driver.ensureImage(m.image, m.pull_policy, run.registries, run.ctx.signal), (r) => `${m.image} ${r}`).then(() => {}),
  4);
  if (errors.length) throw errors[0];
}

function keyOf(record: Record<string, { name: string }>, name: string): string {
  return Object.entries(record).find(([, v]) => v.name === name)?.[0] ?? name;
}

async function createStorage(run: HostRun, ops: Operation[]): Promise<void> {
  const { ctx } = run;
  for (const op of ops.filter(isKind('create-network'))) {
    await step(ctx, { action: 'network', message: op.network.name }, () => ctx.driver.createNetwork(ctx.stack, keyOf(ctx.desired.model.networks, op.network.name), op.network), (r) => `${op.network.name} ${r}`);
    run.count++;
  }
  for (const op of ops.filter(isKind('create-volume'))) {
    await step(ctx, { action: 'volume', message: op.volume.name }, () => ctx.driver.createVolume(ctx.stack, keyOf(ctx.desired.model.volumes, op.volume.name), op.volume), (r) => `${op.volume.name} ${r}`);
    run.count++;
  }
}

/**
 * Waits for this service's dependencies on every host; an optional one (required: false) may fail. A dependency
 * on a host lost meanwhile is not waited for, and the event says so.
 */
async function awaitDependencies(run: HostRun, service: string): Promise<void> {
  const { ctx } = run;
  const deps = desiredService(ctx, service).model.depends_on;
  await Promise.all(
    Object.entries(deps).map(async ([dep, d]) => {
      const what = { action: 'wait' as const, service, message: `${dep} ${d.condition}` };
      const lost = await step(ctx, what, () => run.gates.wait(dep, d.condition, { service, host: ctx.host })).catch((e: unknown) => {
        if (d.required) throw e;
        return [];
      });
      if (lost.length) info(ctx, `${dep} on ${lost.join(', ')} not waited for: the host became unreachable during this apply`, service);
    }),
  );
}

/** Creates and starts new replicas, starts stopped ones, rolls out recreates; opens the gate once all are started. */
async function runService(run: HostRun, service: string, ops: ServiceOp[]): Promise<void> {
  const { ctx } = run;
  // An update a crash interrupted is settled first: until then the replica's name may belong to the wrong container.
  for (const op of ops) {
    if (op.kind !== 'finish' && op.kind !== 'restore') continue;
    await settleInterrupted(ctx, op);
    run.count++;
  }
  await awaitDependencies(run, service);
  const ids = ops.filter(isKind('keep')).map((o) => o.containerId);
  const fresh: { number: number; id: string }[] = [];
  const errors = await settleAll(ops.filter((o) => o.kind === 'create' || o.kind === 'start'), async (op) => {
    const id = op.kind === 'start' ? op.containerId : await createContainer(ctx, specFor(ctx, service, op.number));
    await startContainer(ctx, service, op.number, id);
    fresh.push({ number: op.number, id });
    run.count++;
  });
  if (errors.length) throw errors[0];
  const recreates = ops.filter(isKind('recreate')) as RecreateOp[];
  if (recreates.length) {
    ids.push(...(await rollout(ctx, service, recreates)));
    run.count += recreates.length;
  }
  run.gates.open(ctx.host, service, [...ids, ...fresh.map((f) => f.id)]);
  const waits = await settleAll(fresh, (f) => waitNew(ctx, service, f.number, f.id, FRESH_SETTLE_MS));
  if (waits.length) throw waits[0];
}

async function runServices(run: HostRun, ops: Operation[]): Promise<void> {
  const byService = serviceOps(ops);
  const tasks = [...byService].map(([service, list]) =>
    runService(run, service, list).catch((e: unknown) => {
      run.gates.fail(run.ctx.host, service, e);
      throw e;
    }),
  );
  const results = await Promise.allSettled(tasks);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new BerthError('apply.services.failed', 'user', failed.map((e) => e.message).join('\n'), { data: { errors: failed.length } });
}

async function removeOrphans(run: HostRun, ops: Operation[]): Promise<void> {
  const { ctx } = run;
  const errors = await settleAll(ops.filter(isKind('remove')), async (op) => {
    const grace = ctx.desired.model.services[op.service]?.stop_grace_period_ms;
    await stopContainer(ctx, op.containerId, op.service, op.number, grace);
    await removeContainer(ctx, op.containerId, op.service, op.number);
    run.count++;
  });
  if (errors.length) throw errors[0];
  for (const op of ops.filter(isKind('remove-network'))) {
    await step(ctx, { action: 'network', message: `remove ${op.network}` }, () => ctx.driver.removeNetwork(op.network), (r) => (r === 'in-use' ? `${op.network} kept: still used by containers outside the stack` : `${op.network} ${r}`));
    run.count++;
  }
}

async function runHost(run: HostRun, hp: HostPlan): Promise<HostResult> {
  const { ctx } = run;
  const ops = hp.operations;
  const work = ops.filter((o) => o.kind !== 'keep');
  if (work.length === 0) {
    for (const [service, list] of serviceOps(ops)) run.gates.open(ctx.host, service, list.map((o) => (o as Op<'keep'>).containerId));
    emit(ctx, 'done', { action: 'done', message: 'unchanged' });
    return { outcome: 'unchanged', operations: 0 };
  }
  const t0 = Date.now();
  try {
    await ctx.driver.ping(ctx.signal);
    await pullImages(run, ops);
    await createStorage(run, ops);
    await runServices(run, ops);
    await removeOrphans(run, ops);
    emit(ctx, 'done', { action: 'done', message: `converged: ${run.count} operations` }, Date.now() - t0);
    return { outcome: 'converged', operations: run.count };
  } catch (e) {
    run.gates.failHost(ctx.host, e);
    const unreachable = (e as BerthError).kind === 'unreachable';
    emit(ctx, 'failed', { action: 'error', message: (e as Error).message }, Date.now() - t0);
    return { outcome: unreachable ? 'unreachable' : 'failed', error: (e as Error).message, operations: run.count };
  }
}

export async function executePlan(plan: Plan, desired: DesiredStack, drivers: Record<string, EngineDriver>, opts: ExecuteOptions): Promise<ApplyResult> {
  const events = maskingSink(opts.events, desired.secrets);
  const deadlineMs = opts.deadlineMs ?? DEFAULT_STEP_DEADLINE_MS;
  const gates = new ServiceGates(plan, drivers, { deadlineMs, signal: opts.signal });
  const cycle = dependencyCycle(desired.model.services);
  // A stack-level problem (the plan could not place a service, a depends_on cycle) stops every host.
  const stackError = plan.errors.length ? plan.errors.join('; ') : cycle ? `depends_on cycle: ${cycle.join(' → ')}` : undefined;
  // Keys in plan order, whatever order the hosts finish in.
  const hosts: Record<string, HostResult> = Object.fromEntries(plan.hosts.map((hp) => [hp.host, { outcome: 'failed', operations: 0 } as HostResult]));
  await Promise.all(
    plan.hosts.map(async (hp) => {
      const driver = drivers[hp.host];
      const unreachable = hp.ownedBy ? undefined : hp.error ?? (driver ? undefined : `no driver for host ${hp.host}`);
      const foreign = hp.ownedBy ? hp.error : undefined;
      const error = unreachable ?? foreign ?? stackError;
      if (error) {
        gates.failHost(hp.host, new Error(error));
        events({ host: hp.host, stack: plan.stack, action: 'error', status: 'failed', message: error });
        hosts[hp.host] = { outcome: unreachable ? 'unreachable' : 'failed', error, operations: 0 };
        return;
      }
      const ctx: HostContext = { stack: plan.stack, host: hp.host, desired, driver, events, deadlineMs, signal: opts.signal };
      hosts[hp.host] = await runHost({ ctx, gates, registries: opts.registries ?? [], count: 0 }, hp);
    }),
  );
  for (const h of Object.values(hosts)) if (h.error) h.error = maskSecrets(h.error, desired.secrets);
  return { stack: plan.stack, hosts };
}
