/**
 * Convergence on a Swarm: a created or updated service is done when its update state is `completed` (or it has
 * none yet) and as many tasks run — healthy: Swarm holds a task in `starting` until its health check passes —
 * as it asks for. Swarm's own rollback (`failure_action: rollback`) ends the wait as a failure with its message;
 * any failure names the failed tasks' errors and the service's last log lines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';
import { demuxLogs } from '../standalone/driver.ts';
import { apiMessage, type SwarmClient } from './client.ts';
import type { EventSink } from '../events.ts';

const POLL_MS = 500;
export const DEFAULT_CONVERGE_MS = 4 * 60_000;
const LOG_LINES = 15;

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
}

interface Progress {
  done: boolean;
  rolledBack?: string;
  paused?: string;
  running: number;
  wanted: number | undefined;
  failed: RawTask[];
}

async function progress(client: SwarmClient, id: string): Promise<Progress> {
  return client.call(async (docker) => {
    const s = await docker.getService(id).inspect();
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [id] }) })) as RawTask[];
    const live = tasks.filter((t) => t.DesiredState === 'running');
    const running = live.filter((t) => t.Status?.State === 'running').length;
    const wanted: number | undefined = s.Spec?.Mode?.Replicated?.Replicas;
    const state: string | undefined = (s as { UpdateStatus?: { State?: string; Message?: string } }).UpdateStatus?.State;
    const message = (s as { UpdateStatus?: { Message?: string } }).UpdateStatus?.Message ?? '';
    const failed = tasks.filter((t) => ['failed', 'rejected'].includes(t.Status?.State ?? '') || (t.Status?.Err && t.DesiredState === 'shutdown'))
      .sort((a, b) => (b.Status?.Timestamp ?? '').localeCompare(a.Status?.Timestamp ?? ''));
    const settled = state === undefined || state === 'completed';
    const enough = wanted === undefined ? live.length > 0 && running === live.length : running === wanted && live.length === wanted;
    return {
      done: settled && enough, running, wanted, failed,
      ...(state?.startsWith('rollback') ? { rolledBack: `${state}: ${message}` } : {}),
      ...(state === 'paused' ? { paused: message } : {}),
    };
  });
}

async function logTail(client: SwarmClient, id: string): Promise<string> {
  type Logs = (o: Record<string, unknown>) => Promise<Buffer | string>;
  const raw = await client.call((docker) => (docker.getService(id).logs as unknown as Logs).call(docker.getService(id), { stdout: true, stderr: true, tail: LOG_LINES, follow: false }))
    .catch((e: unknown) => `(logs unavailable: ${apiMessage(e)})`);
  const text = typeof raw === 'string' ? raw : demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  return text.trim().split('\n').slice(-LOG_LINES).join('\n');
}

async function explain(client: SwarmClient, service: string, id: string, p: Progress, what: string): Promise<BerthError> {
  const errors = [...new Set(p.failed.slice(0, 5).map((t) => t.Status?.Err).filter(Boolean))];
  const logs = await logTail(client, id);
  const text = [what, ...(errors.length ? [`failed tasks: ${errors.join('; ')}`] : []), ...(logs ? [`last log lines:\n${logs}`] : [])].join('\n');
  return new BerthError('swarm.service.failed', 'internal', text, { data: { service, rolledBack: p.rolledBack !== undefined } });
}

/** Waits for every changed service, side by side; the first failure fails the apply. */
export async function waitConverged(run: WaitRun, changed: { service: string; id: string }[], deadlineMs = DEFAULT_CONVERGE_MS): Promise<void> {
  const until = Date.now() + deadlineMs;
  await Promise.all(changed.map(async ({ service, id }) => {
    const t0 = Date.now();
    const base = { host: run.host, stack: run.stack, service, action: 'wait' as const };
    run.events({ ...base, status: 'started', message: 'converging' });
    for (;;) {
      if (run.signal?.aborted) throw new BerthError('apply.aborted', 'conflict', `apply of ${run.stack} on swarm ${run.host} was interrupted`);
      const p = await progress(run.client, id);
      if (p.rolledBack !== undefined && !p.rolledBack.startsWith('rollback_started')) {
        const e = await explain(run.client, service, id, p, `update of ${run.stack}_${service} failed and Swarm rolled it back (${p.rolledBack})`);
        run.events({ ...base, action: 'rollback', status: 'failed', message: e.message, durationMs: Date.now() - t0 });
        throw e;
      }
      if (p.paused !== undefined) throw await explain(run.client, service, id, p, `update of ${run.stack}_${service} paused by Swarm: ${p.paused}`);
      if (p.done) return void run.events({ ...base, status: 'done', message: `${p.running}${p.wanted === undefined ? '' : `/${p.wanted}`} running`, durationMs: Date.now() - t0 });
      if (Date.now() > until) throw await explain(run.client, service, id, p, `${run.stack}_${service} did not converge within ${Math.round(deadlineMs / 1000)}s (${p.running}${p.wanted === undefined ? '' : `/${p.wanted}`} running)`);
      await sleep(POLL_MS);
    }
  }));
}
