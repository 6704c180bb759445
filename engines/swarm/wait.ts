/**
 * Convergence on a Swarm: a created or updated service is done when its update state is `completed` (or it has
 * none yet) and as many tasks run — healthy: Swarm holds a task in `starting` until its health check passes —
 * as it asks for. Swarm's own rollback (`failure_action: rollback`) ends the wait as a failure with its message,
 * and so do tasks Swarm has found no node for while nothing else moves; any failure names the failed and unplaced
 * tasks' errors and the service's last log lines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';
import { demuxLogs } from '../standalone/driver.ts';
import { apiMessage, type SwarmClient } from './client.ts';
import type { EventSink } from '../events.ts';

const POLL_MS = 500;
export const DEFAULT_CONVERGE_MS = 4 * 60_000;
const LOG_LINES = 15;
/**
 * How long every task Swarm could place has run while the others wait for a node, before the apply says so.
 * Swarm keeps trying (a node may join or be relabelled), but a limit or constraint no node meets holds them
 * forever: the apply fails with Swarm's reason rather than waiting out its whole deadline.
 */
export const UNPLACEABLE_MS = 20_000;
const NO_NODE = /no suitable node/i;
/** States of a task that still holds its node. */
const LEAVING = ['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];

interface WaitRun {
  client: SwarmClient;
  stack: string;
  host: string;
  events: EventSink;
  signal?: AbortSignal;
}

interface RawTask {
  ID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Timestamp?: string };
  Spec?: Record<string, unknown>;
}

/** A service to wait for, and the start of its last rolling update before Berth changed it (to tell a new one from it). */
export interface Changed {
  service: string;
  id: string;
  updateSince?: string;
}

/**
 * Whether a task was made from the service's current task template. Swarm copies the template into each task it
 * creates (leaving out only the runtime it fills in itself): a task of an older spec — still running while an
 * update has not begun, or left by a rollback — is not the convergence of this change.
 */
function current(task: RawTask, template: Record<string, unknown>): boolean {
  const spec = task.Spec ?? {};
  const keys = new Set([...Object.keys(spec), ...Object.keys(template)]);
  keys.delete('Runtime');
  // A change of placement alone does not replace a task whose node still meets the constraints: Swarm leaves it
  // running with its old copy (a limit or preference applies to the tasks it places from then on).
  keys.delete('Placement');
  for (const k of keys) if (JSON.stringify(spec[k]) !== JSON.stringify(template[k])) return false;
  return true;
}

interface Progress {
  done: boolean;
  rolledBack?: string;
  paused?: string;
  running: number;
  wanted: number | undefined;
  failed: RawTask[];
  /** Tasks Swarm finds no node for (a limit, constraint or resource no node meets). */
  unplaced: RawTask[];
  /** Nothing will change by waiting: every other task runs and none is still shutting down (freeing a node). */
  stuck: boolean;
}

interface RawService {
  ID: string;
  Spec?: { TaskTemplate?: Record<string, unknown>; Mode?: { Replicated?: { Replicas?: number } } };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
}

/**
 * One look at every service still waited for: two calls for the whole stack, however many services it has, so
 * the wait does not load the manager in proportion to the stack while its tasks start.
 */
async function look(client: SwarmClient, ids: string[]): Promise<{ services: Map<string, RawService>; tasks: Map<string, RawTask[]> }> {
  return client.call(async (docker) => {
    const [services, tasks] = await Promise.all([
      docker.listServices({ filters: JSON.stringify({ id: ids }) }) as Promise<RawService[]>,
      docker.listTasks({ filters: JSON.stringify({ service: ids }) }) as Promise<(RawTask & { ServiceID?: string })[]>,
    ]);
    const byService = new Map<string, RawTask[]>();
    for (const t of tasks) byService.set(t.ServiceID ?? '', [...(byService.get(t.ServiceID ?? '') ?? []), t]);
    return { services: new Map(services.filter((x) => ids.includes(x.ID)).map((x) => [x.ID, x])), tasks: byService };
  });
}

function progress(c: Changed, s: RawService, tasks: RawTask[]): Progress {
  const template = (s.Spec?.TaskTemplate ?? {}) as Record<string, unknown>;
  const live = tasks.filter((t) => t.DesiredState === 'running');
  const running = live.filter((t) => t.Status?.State === 'running' && current(t, template)).length;
  const wanted: number | undefined = s.Spec?.Mode?.Replicated?.Replicas;
  const status = s.UpdateStatus;
  // The update status of an earlier update (a rollback last week) says nothing about this one.
  const fresh = status?.State !== undefined && status.StartedAt !== c.updateSince;
  const state: string | undefined = fresh ? status!.State : undefined;
  const message = status?.Message ?? '';
  const failed = tasks.filter((t) => ['failed', 'rejected'].includes(t.Status?.State ?? '') || (t.Status?.Err && t.DesiredState === 'shutdown'))
    .sort((a, b) => (b.Status?.Timestamp ?? '').localeCompare(a.Status?.Timestamp ?? ''));
  const settled = state === undefined || state === 'completed';
  const enough = wanted === undefined ? live.length > 0 && running === live.length : running === wanted && live.length === wanted;
  const unplaced = live.filter((t) => t.Status?.State === 'pending' && NO_NODE.test(t.Status.Err ?? ''));
  const leaving = tasks.some((t) => t.DesiredState !== 'running' && LEAVING.includes(t.Status?.State ?? ''));
  return {
    done: settled && enough, running, wanted, failed, unplaced, stuck: unplaced.length > 0 && live.filter((t) => t.Status?.State === 'running').length + unplaced.length === live.length && !leaving,
    ...(state?.startsWith('rollback') ? { rolledBack: `${state}: ${message}` } : {}),
    ...(state === 'paused' ? { paused: message } : {}),
  };
}

/** The last `lines` log lines of a service's tasks (by ID or name), as `docker service logs --tail` gives them. */
export async function logTail(client: SwarmClient, id: string, lines = LOG_LINES): Promise<string> {
  type Logs = (o: Record<string, unknown>) => Promise<Buffer | string>;
  const raw = await client.call((docker) => (docker.getService(id).logs as unknown as Logs).call(docker.getService(id), { stdout: true, stderr: true, tail: lines, follow: false }))
    .catch((e: unknown) => `(logs unavailable: ${apiMessage(e)})`);
  const text = typeof raw === 'string' ? raw : demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  return text.trim().split('\n').slice(-lines).join('\n');
}

async function explain(client: SwarmClient, service: string, id: string, p: Progress, what: string): Promise<BerthError> {
  const errors = [...new Set(p.failed.slice(0, 5).map((t) => t.Status?.Err).filter(Boolean))];
  const unplaced = [...new Set(p.unplaced.map((t) => t.Status?.Err).filter(Boolean))];
  const logs = await logTail(client, id);
  const text = [what, ...(unplaced.length ? [`tasks Swarm cannot place: ${unplaced.join('; ')}`] : []), ...(errors.length ? [`failed tasks: ${errors.join('; ')}`] : []), ...(logs ? [`last log lines:\n${logs}`] : [])].join('\n');
  return new BerthError('swarm.service.failed', 'internal', text, { data: { service, rolledBack: p.rolledBack !== undefined } });
}

/** Waits for every changed service, side by side; the first failure fails the apply. */
export async function waitConverged(run: WaitRun, changed: Changed[], deadlineMs = DEFAULT_CONVERGE_MS): Promise<void> {
  const until = Date.now() + deadlineMs;
  const t0 = Date.now();
  const pending = new Map(changed.map((c) => [c.id, c]));
  const stuckSince = new Map<string, number>();
  const base = (service: string) => ({ host: run.host, stack: run.stack, service, action: 'wait' as const });
  for (const c of changed) run.events({ ...base(c.service), status: 'started', message: 'converging' });
  while (pending.size) {
    if (run.signal?.aborted) throw new BerthError('apply.aborted', 'conflict', `apply of ${run.stack} on swarm ${run.host} was interrupted`);
    const seen = await look(run.client, [...pending.keys()]);
    for (const c of pending.values()) {
      const { service, id } = c;
      const s = seen.services.get(id);
      if (!s) throw new BerthError('swarm.service.failed', 'internal', `${run.stack}_${service} was removed while Berth waited for it to converge`, { data: { service, rolledBack: false } });
      const p = progress(c, s, seen.tasks.get(id) ?? []);
      if (!p.stuck) stuckSince.delete(id);
      else if (!stuckSince.has(id)) stuckSince.set(id, Date.now());
      if (p.rolledBack !== undefined && !p.rolledBack.startsWith('rollback_started')) {
        const e = await explain(run.client, service, id, p, `update of ${run.stack}_${service} failed and Swarm rolled it back (${p.rolledBack})`);
        run.events({ ...base(service), action: 'rollback', status: 'failed', message: e.message, durationMs: Date.now() - t0 });
        throw e;
      }
      if (p.paused !== undefined) throw await explain(run.client, service, id, p, `update of ${run.stack}_${service} paused by Swarm: ${p.paused}`);
      if (p.done) {
        run.events({ ...base(service), status: 'done', message: `${p.running}${p.wanted === undefined ? '' : `/${p.wanted}`} running`, durationMs: Date.now() - t0 });
        pending.delete(id);
      } else if (stuckSince.has(id) && Date.now() - stuckSince.get(id)! > UNPLACEABLE_MS) {
        throw await explain(run.client, service, id, p, `${run.stack}_${service}: Swarm finds no node for ${p.unplaced.length} of its tasks (${p.running}${p.wanted === undefined ? '' : `/${p.wanted}`} running)`);
      } else if (Date.now() > until) {
        throw await explain(run.client, service, id, p, `${run.stack}_${service} did not converge within ${Math.round(deadlineMs / 1000)}s (${p.running}${p.wanted === undefined ? '' : `/${p.wanted}`} running)`);
      }
    }
    if (pending.size) await sleep(POLL_MS);
  }
}
