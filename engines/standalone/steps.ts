/**
 * The small steps execute.ts and rollout.ts are made of, each timed and reported as events, each with a
 * deadline. One HostContext per host and apply: everything a step needs to act on that host.
 */
import { BerthError } from '../../lib/errors.ts';
import type { ServiceModel } from '../../catalog/model.ts';
import { buildContainerSpec, type ContainerSpec } from './container-spec.ts';
import type { EngineDriver } from './driver.ts';
import type { BerthAction, BerthEvent, EventSink } from '../events.ts';
import type { DesiredService, DesiredStack } from './types.ts';
import { DEFAULT_SETTLE_MS, waitReady, type WaitOptions } from './wait.ts';

export interface HostContext {
  stack: string;
  host: string;
  desired: DesiredStack;
  driver: EngineDriver;
  events: EventSink;
  /** Deadline of one step that has no deadline of its own in the model (waits for dependencies, one-shots). */
  deadlineMs: number;
  signal?: AbortSignal;
}

export const DEFAULT_STEP_DEADLINE_MS = 5 * 60_000;

type EventFields = Omit<BerthEvent, 'host' | 'stack' | 'status' | 'durationMs'>;

export function emit(ctx: HostContext, status: BerthEvent['status'], e: EventFields, durationMs?: number): void {
  ctx.events({ host: ctx.host, stack: ctx.stack, ...e, status, ...(durationMs === undefined ? {} : { durationMs }) });
}

export function info(ctx: HostContext, message: string, service?: string, number?: number): void {
  emit(ctx, 'done', { action: 'info', service, number, message });
}

export function checkAbort(ctx: HostContext): void {
  if (ctx.signal?.aborted) throw new BerthError('apply.aborted', 'conflict', `apply of ${ctx.stack} on ${ctx.host} was interrupted`, { cause: ctx.signal.reason });
}

/** Runs fn between a `started` and a `done`/`failed` event with its duration. */
export async function step<T>(ctx: HostContext, what: { action: BerthAction; service?: string; number?: number; message?: string }, fn: () => Promise<T>, done?: (r: T) => string | undefined): Promise<T> {
  checkAbort(ctx);
  const t0 = Date.now();
  emit(ctx, 'started', what);
  try {
    const r = await fn();
    emit(ctx, 'done', { ...what, message: done?.(r) ?? what.message }, Date.now() - t0);
    return r;
  } catch (e) {
    emit(ctx, 'failed', { ...what, message: (e as Error).message }, Date.now() - t0);
    throw e;
  }
}

export function desiredService(ctx: HostContext, service: string): DesiredService {
  const d = ctx.desired.hosts[ctx.host]?.services[service];
  if (!d) throw new BerthError('apply.service.unknown', 'internal', `the plan for ${ctx.host} names service ${service}, which the desired state does not place there`);
  return d;
}

export function specFor(ctx: HostContext, service: string, number: number): ContainerSpec {
  const hostReplicas = ctx.desired.hosts[ctx.host]?.replicas;
  return buildContainerSpec({ stack: ctx.stack, model: ctx.desired.model, service: desiredService(ctx, service), number, hostReplicas, project: ctx.desired.project, owner: ctx.desired.owner });
}

export function createContainer(ctx: HostContext, spec: ContainerSpec): Promise<string> {
  return step(ctx, { action: 'create', service: spec.service, number: spec.number, message: spec.image }, () => ctx.driver.createContainer(spec), (id) => `${spec.name} ${id.slice(0, 12)}`);
}

export function startContainer(ctx: HostContext, service: string, number: number, id: string): Promise<void> {
  return step(ctx, { action: 'start', service, number }, () => ctx.driver.start(id));
}

export function stopContainer(ctx: HostContext, id: string, service: string, number: number, graceMs?: number): Promise<void> {
  return step(ctx, { action: 'stop', service, number, message: id.slice(0, 12) }, () => ctx.driver.stop(id, graceMs));
}

export function removeContainer(ctx: HostContext, id: string, service: string, number: number): Promise<void> {
  return step(ctx, { action: 'remove', service, number, message: id.slice(0, 12) }, () => ctx.driver.remove(id, { force: true }));
}

/** A job that ends on its own (no restart, or restart only on failure) may finish before we look: exit 0 is up. */
function mayExitCleanly(svc: ServiceModel): boolean {
  return svc.restart === 'no' || svc.restart.startsWith('on-failure');
}

/**
 * How long a new container has to prove itself: deploy.update_config.monitor (a minute by default).
 * Without a healthcheck it must keep running for the settle time (2s, or the monitor if shorter).
 */
export function readyOptions(ctx: HostContext, svc: ServiceModel, settleMs = DEFAULT_SETTLE_MS): WaitOptions {
  const monitor = svc.deploy.update_config.monitor_ms > 0 ? svc.deploy.update_config.monitor_ms : ctx.deadlineMs;
  const healthcheck = svc.healthcheck ? svc.healthcheck.test[0] !== 'NONE' : undefined;
  return { healthcheck, deadlineMs: monitor, settleMs: Math.min(settleMs, monitor), acceptExit0: mayExitCleanly(svc), signal: ctx.signal };
}

export function waitNew(ctx: HostContext, service: string, number: number, id: string, settleMs?: number): Promise<void> {
  const opts = readyOptions(ctx, desiredService(ctx, service).model, settleMs);
  const what = opts.healthcheck === false ? 'running' : 'ready';
  return step(ctx, { action: 'wait', service, number, message: `${what} within ${Math.round(opts.deadlineMs / 1000)}s` }, () => waitReady(ctx.driver, id, opts), () => what);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs fn over items with at most `limit` in flight; every item runs even when some fail. */
export async function settleAll<T>(items: readonly T[], fn: (item: T) => Promise<void>, limit = 8): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item).catch((e: unknown) => errors.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}
