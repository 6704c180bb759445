/**
 * Waits on one container by polling inspect (not the engine's blocking /wait, which would hold a request
 * open for minutes and defeat the per-call timeouts). Every wait has a deadline and fails early when the
 * outcome is already decided, with what a person needs to see why: health output, exit code, last logs.
 */
import type Docker from 'dockerode';
import { BerthError } from '../../lib/errors.ts';

/** The two reads a wait needs from a driver. */
export interface WaitDriver {
  readonly host: { name: string };
  inspect(id: string): Promise<Docker.ContainerInspectInfo>;
  logsTail(id: string, lines?: number): Promise<string>;
}

export interface WaitOptions {
  /** Wait for `healthy`; default: whenever the engine reports a health state (service or image healthcheck). */
  healthcheck?: boolean;
  deadlineMs: number;
  signal?: AbortSignal;
  /** Without a healthcheck: how long the container must keep running (and not restart) to count as up. */
  settleMs?: number;
  /** A one-shot container (restart: no) that exits 0 is fine too. */
  acceptExit0?: boolean;
  pollMs?: number;
}

export const DEFAULT_SETTLE_MS = 2_000;
/**
 * A brand-new replica has no old container to fall back on, so a long proof buys nothing: like `compose up`
 * it only has to start, and this short settle still catches a command that dies at once.
 */
export const FRESH_SETTLE_MS = 500;
const DEFAULT_POLL_MS = 300;
const LOG_LINES = 20;

export class NotReadyError extends BerthError {
  constructor(host: string, name: string, reason: string, detail: { exitCode?: number; health?: string; logs?: string }) {
    const parts = [`container ${name} on ${host} ${reason}`];
    if (detail.health) parts.push(`last health check output: ${detail.health}`);
    if (detail.logs) parts.push(`last log lines:\n${indent(detail.logs)}`);
    super('container.not-ready', 'user', parts.join('\n'), {
      data: { host, container: name, reason, ...detail },
      hint: 'read the container logs on that host; the previous version was kept or restored where there was one',
    });
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function lastHealthOutput(info: Docker.ContainerInspectInfo): string | undefined {
  const log = info.State.Health?.Log;
  const last = log?.[log.length - 1];
  if (!last) return undefined;
  const out = last.Output.trim();
  const text = out.length > 500 ? `…${out.slice(-500)}` : out;
  return `exit ${last.ExitCode}${text ? `: ${text}` : ''}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function failure(d: WaitDriver, id: string, info: Docker.ContainerInspectInfo, reason: string): Promise<NotReadyError> {
  const logs = await d.logsTail(id, LOG_LINES).catch(() => undefined);
  const exitCode = info.State.Status === 'exited' || info.State.Status === 'dead' ? info.State.ExitCode : undefined;
  return new NotReadyError(d.host.name, info.Name.replace(/^\//, ''), reason, { exitCode, health: lastHealthOutput(info), logs: logs?.trim() || undefined });
}

/** Decides one poll: 'ready', 'wait', or the reason it failed. */
function judge(info: Docker.ContainerInspectInfo, opts: WaitOptions, seen: { at?: number; restarts?: number }, now: number): 'ready' | 'wait' | string {
  const s = info.State;
  if (s.Status === 'exited' || s.Status === 'dead') {
    return opts.acceptExit0 && s.ExitCode === 0 && s.Status === 'exited' ? 'ready' : `exited with code ${s.ExitCode}`;
  }
  if (s.Status === 'restarting' || (seen.restarts !== undefined && info.RestartCount > seen.restarts)) {
    return `exited with code ${s.ExitCode} and Docker is restarting it (${info.RestartCount} restarts so far)`;
  }
  const useHealth = (opts.healthcheck ?? true) && s.Health !== undefined;
  if (useHealth) {
    if (s.Health!.Status === 'healthy') return 'ready';
    if (s.Health!.Status === 'unhealthy') return 'became unhealthy';
    return 'wait';
  }
  if (s.Status !== 'running') return 'wait';
  seen.at ??= now;
  seen.restarts ??= info.RestartCount;
  return now - seen.at >= (opts.settleMs ?? DEFAULT_SETTLE_MS) ? 'ready' : 'wait';
}

/** Healthy (with a healthcheck) or still running after the settle time (without one). */
export async function waitReady(d: WaitDriver, id: string, opts: WaitOptions): Promise<void> {
  const end = Date.now() + opts.deadlineMs;
  const seen: { at?: number; restarts?: number } = {};
  for (;;) {
    const info = await d.inspect(id);
    const verdict = judge(info, opts, seen, Date.now());
    if (verdict === 'ready') return;
    if (verdict !== 'wait') throw await failure(d, id, info, verdict);
    if (Date.now() >= end) {
      const what = info.State.Health && (opts.healthcheck ?? true) ? `not healthy (health: ${info.State.Health.Status})` : `not running (state: ${info.State.Status})`;
      throw await failure(d, id, info, `${what} within ${Math.round(opts.deadlineMs / 1000)}s`);
    }
    await sleep(opts.pollMs ?? DEFAULT_POLL_MS, opts.signal);
  }
}

/** service_completed_successfully: the container ran to the end with exit code 0. */
export async function waitCompleted(d: WaitDriver, id: string, opts: Pick<WaitOptions, 'deadlineMs' | 'signal' | 'pollMs'>): Promise<void> {
  const end = Date.now() + opts.deadlineMs;
  for (;;) {
    const info = await d.inspect(id);
    const s = info.State;
    if (s.Status === 'exited' || s.Status === 'dead') {
      if (s.Status === 'exited' && s.ExitCode === 0) return;
      throw await failure(d, id, info, `did not complete successfully (exit code ${s.ExitCode})`);
    }
    if (s.Status === 'created') throw await failure(d, id, info, 'was never started');
    if (Date.now() >= end) throw await failure(d, id, info, `did not complete within ${Math.round(opts.deadlineMs / 1000)}s (state: ${s.Status})`);
    await sleep(opts.pollMs ?? DEFAULT_POLL_MS, opts.signal);
  }
}

/** Running right now (after a rollback start): a short check, not a health wait. */
export async function waitRunning(d: WaitDriver, id: string, opts: Pick<WaitOptions, 'deadlineMs' | 'signal'>): Promise<void> {
  await waitReady(d, id, { ...opts, healthcheck: false, settleMs: 0, acceptExit0: false });
}
