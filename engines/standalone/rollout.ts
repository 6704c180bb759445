/**
 * Rolling update of one service's replicas on one host, per deploy.update_config. The old container is
 * renamed aside (`<name>-old-<shortid>`), never deleted until its replacement has proved itself, so any
 * failure can put it back under its own name, running.
 */
import { BerthError } from '../../lib/errors.ts';
import type { DeployModel } from '../../catalog/model.ts';
import { asideName, rolloutLabel } from '../docker/labels.ts';
import type { Operation } from './types.ts';
import { waitRunning } from './wait.ts';
import {
  createContainer, desiredService, emit, info, removeContainer, sleep, specFor, startContainer, step, stopContainer, waitNew,
  type HostContext,
} from './steps.ts';

export type RecreateOp = Extract<Operation, { kind: 'recreate' }>;

/** One replica being replaced; enough to undo it. */
interface Swap {
  op: RecreateOp;
  oldName: string;
  asideName: string;
  oldWasRunning: boolean;
  renamed: boolean;
  newId?: string;
}

export class RolloutError extends BerthError {
  constructor(host: string, service: string, reasons: string[], action: DeployModel['update_config']['failure_action']) {
    const what = action === 'rollback' ? 'rolled back' : action === 'pause' ? 'paused' : 'finished with failures';
    super('rollout.failed', 'user', `update of ${service} on ${host} ${what}: ${reasons.join('\n')}`, { data: { host, service, failure_action: action, reasons } });
  }
}

type Order = DeployModel['update_config']['order'];

/** Two containers of a service publishing the same host port cannot run at once on one engine. */
function effectiveOrder(ctx: HostContext, service: string, order: Order, fixedPorts: boolean): Order {
  if (order !== 'start-first' || !fixedPorts) return order;
  info(ctx, 'start-first is impossible: the service publishes fixed host ports (or uses the host network), so the old container must stop first; using stop-first', service);
  return 'stop-first';
}

/** Takes one replica from old to new; on failure undoes its own part before rethrowing. */
async function replace(ctx: HostContext, op: RecreateOp, order: Order, graceMs: number | undefined): Promise<Swap> {
  const old = await ctx.driver.inspect(op.containerId);
  const oldName = old.Name.replace(/^\//, '');
  const swap: Swap = { op, oldName, asideName: asideName(ctx.stack, op.service, op.number, op.containerId), oldWasRunning: old.State.Running, renamed: false };
  try {
    if (order === 'stop-first') await stopContainer(ctx, op.containerId, op.service, op.number, graceMs);
    await ctx.driver.rename(op.containerId, swap.asideName);
    swap.renamed = true;
    const spec = specFor(ctx, op.service, op.number);
    // What a crash from here on leaves behind must say what it was doing: recovery.ts reads this label.
    spec.create.Labels = { ...spec.create.Labels, ...rolloutLabel({ replaces: op.containerId, wasRunning: swap.oldWasRunning }) };
    swap.newId = await createContainer(ctx, spec);
    await startContainer(ctx, op.service, op.number, swap.newId);
    await waitNew(ctx, op.service, op.number, swap.newId);
    if (order === 'start-first') await stopContainer(ctx, op.containerId, op.service, op.number, graceMs);
    return swap;
  } catch (e) {
    await restore(ctx, swap, e);
    throw e;
  }
}

/** New out, old back under its name and running again (if it was running before we touched it). */
async function restore(ctx: HostContext, swap: Swap, cause: unknown): Promise<void> {
  const { op } = swap;
  await step(ctx, { action: 'rollback', service: op.service, number: op.number, message: `restoring ${swap.oldName}` }, async () => {
    if (swap.newId) await ctx.driver.remove(swap.newId, { force: true });
    if (swap.renamed) await ctx.driver.rename(op.containerId, swap.oldName);
    if (swap.oldWasRunning) {
      await ctx.driver.start(op.containerId);
      await waitRunning(ctx.driver, op.containerId, { deadlineMs: 30_000, signal: ctx.signal });
    }
  }).catch((e: unknown) => {
    throw new BerthError('rollout.restore.failed', 'internal', `${(cause as Error).message}\nand restoring ${swap.oldName} failed too: ${(e as Error).message}`, { cause: e });
  });
}

/** The old one has been replaced for good. */
async function retire(ctx: HostContext, swap: Swap): Promise<void> {
  await removeContainer(ctx, swap.op.containerId, swap.op.service, swap.op.number);
}

/** Undoes a replica that had succeeded, when a later one fails under failure_action: rollback. */
async function revert(ctx: HostContext, swap: Swap, graceMs: number | undefined, cause: Error): Promise<void> {
  if (swap.newId) await stopContainer(ctx, swap.newId, swap.op.service, swap.op.number, graceMs);
  await restore(ctx, swap, cause);
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}

/**
 * Recreates the given replicas of one service in batches of `parallelism`, `delay` apart. Under `rollback`
 * (the default) old containers are kept aside until every batch succeeded, so a late failure can undo the
 * whole service; under `pause` and `continue` each old one is removed as soon as its replacement is up.
 * Resolves to the ids of the new containers; throws RolloutError after undoing what the action says.
 */
export async function rollout(ctx: HostContext, service: string, ops: readonly RecreateOp[]): Promise<string[]> {
  const svc = desiredService(ctx, service).model;
  const cfg = svc.deploy.update_config;
  const order = effectiveOrder(ctx, service, cfg.order, specFor(ctx, service, ops[0].number).fixedHostPorts);
  const grace = svc.stop_grace_period_ms;
  const done: Swap[] = [];
  const reasons: string[] = [];
  const sorted = [...ops].sort((a, b) => a.number - b.number);
  for (const [i, batch] of batches(sorted, cfg.parallelism).entries()) {
    if (i > 0) await sleep(cfg.delay_ms, ctx.signal);
    const results = await Promise.allSettled(batch.map((op) => step(ctx, { action: 'recreate', service, number: op.number, message: op.cause }, () => replace(ctx, op, order, grace))));
    for (const r of results) {
      if (r.status === 'fulfilled') done.push(r.value);
      else reasons.push((r.reason as Error).message);
    }
    if (cfg.failure_action !== 'rollback') for (const r of results) if (r.status === 'fulfilled') await retire(ctx, r.value);
    if (reasons.length > 0 && cfg.failure_action !== 'continue') break;
  }
  if (reasons.length > 0 && cfg.failure_action === 'rollback') {
    const cause = new Error(reasons.join('\n'));
    for (const swap of done.reverse()) await revert(ctx, swap, grace, cause);
  } else if (cfg.failure_action === 'rollback') {
    for (const swap of done) await retire(ctx, swap);
  }
  if (reasons.length > 0) {
    emit(ctx, 'failed', { action: 'recreate', service, message: `${cfg.failure_action}: ${reasons.length} of ${ops.length} replicas failed` });
    throw new RolloutError(ctx.host, service, reasons, cfg.failure_action);
  }
  return done.map((s) => s.newId!).filter(Boolean);
}

type FinishOp = Extract<Operation, { kind: 'finish' }>;
type RestoreOp = Extract<Operation, { kind: 'restore' }>;

/**
 * Settles an update a crash interrupted, as the plan decided (recovery.ts). Finishing waits for the new container
 * before the old one goes; should it fail to become ready after all, the update is undone instead.
 */
export async function settleInterrupted(ctx: HostContext, op: FinishOp | RestoreOp): Promise<void> {
  if (op.kind === 'restore') return restoreAside(ctx, op);
  await step(ctx, { action: 'recreate', service: op.service, number: op.number, message: op.cause }, async () => {
    try {
      await waitNew(ctx, op.service, op.number, op.containerId);
    } catch (e) {
      const name = op.asideName.replace(/-old-[0-9a-f]{12}$/, '');
      await restoreAside(ctx, { ...op, kind: 'restore', name, removeIds: [op.containerId], start: true, cause: `restore ${op.service}#${op.number} from ${op.asideName}: ${(e as Error).message}` });
      throw e;
    }
    const grace = desiredService(ctx, op.service).model.stop_grace_period_ms;
    await stopContainer(ctx, op.asideId, op.service, op.number, grace);
    await removeContainer(ctx, op.asideId, op.service, op.number);
  });
}

async function restoreAside(ctx: HostContext, op: RestoreOp): Promise<void> {
  await step(ctx, { action: 'rollback', service: op.service, number: op.number, message: op.cause }, async () => {
    for (const id of op.removeIds) await ctx.driver.remove(id, { force: true });
    await ctx.driver.rename(op.asideId, op.name);
    if (op.start) {
      await ctx.driver.start(op.asideId);
      await waitRunning(ctx.driver, op.asideId, { deadlineMs: 30_000, signal: ctx.signal });
    }
  });
}
