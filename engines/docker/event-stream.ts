/**
 * Follows a Docker engine's event stream (`GET /events`, through dockerode) for as long as asked: one JSON object
 * per line, reconnecting with backoff when the stream ends or fails, and asking on reconnect for what happened
 * since the last event seen (the engine replays what it still holds). The stream is quiet for hours, so its
 * client has no idle timeout; a periodic ping on the ordinary client is what notices a connection gone silent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { backoffDelay, type BackoffOptions } from '../../lib/git/watcher.ts';

/** One event as the Engine API sends it (the fields Berth reads). */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  /** Unix seconds (engine clock) and the same in nanoseconds. */
  time: number;
  timeNano?: number;
}

export interface StreamState {
  up: boolean;
  /** Why it is down. */
  error?: string;
}

export interface FollowOptions {
  /** A client for the stream: without an idle timeout. */
  connect(): Promise<Docker> | Docker;
  /** Answers while the engine is there; fails otherwise (the stream is then torn down and opened again). */
  ping(): Promise<void>;
  /** Engine API filters of the subscription. */
  filters: Record<string, string[]>;
  onEvent(e: DockerEvent): void;
  /** Told when the stream comes up and when it goes down (once per change). */
  onState(s: StreamState): void;
  signal: AbortSignal;
  /** Reconnect delays: default 1 s doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** How often the engine is pinged while the stream is quiet; default 15 s. */
  heartbeatMs?: number;
}

/** A line longer than this is no event Berth reads: it is dropped rather than held. */
const MAX_LINE = 1 << 20;

/** Runs until `signal` aborts; never throws. */
export async function followEvents(opts: FollowOptions): Promise<void> {
  let failures = 0;
  let up: boolean | undefined;
  /** Engine clock of the last event seen (seconds, with nanoseconds as a fraction when known). */
  let since: string | undefined;
  const say = (s: StreamState) => {
    if (up === s.up) return;
    up = s.up;
    opts.onState(s);
  };
  while (!opts.signal.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    opts.signal.addEventListener('abort', stop, { once: true });
    try {
      const docker = await opts.connect();
      const query = { filters: JSON.stringify(opts.filters), ...(since ? { since } : {}), abortSignal: attempt.signal };
      const stream = (await docker.getEvents(query as Docker.GetEventsOptions)) as unknown as NodeJS.ReadableStream & { destroy(): void };
      // The first reconnect after a failure starts from the last event seen; a fresh start, from now.
      since ??= String(Math.floor(Date.now() / 1000));
      failures = 0;
      say({ up: true });
      await consume(stream, attempt, opts, (e) => {
        since = e.timeNano ? `${Math.floor(e.timeNano / 1e9)}.${String(e.timeNano % 1e9).padStart(9, '0')}` : String(e.time);
        opts.onEvent(e);
      });
      if (!opts.signal.aborted) throw new Error('the engine ended the event stream');
    } catch (e) {
      if (opts.signal.aborted) break;
      failures++;
      say({ up: false, error: (e as Error)?.message ?? String(e) });
      await sleep(backoffDelay(failures, { baseMs: 1_000, maxMs: 30_000, ...opts.backoff }), undefined, { signal: opts.signal }).catch(() => undefined);
    } finally {
      opts.signal.removeEventListener('abort', stop);
      attempt.abort();
    }
  }
}

/** Reads lines until the stream ends, fails, or a heartbeat ping fails. */
function consume(stream: NodeJS.ReadableStream & { destroy(): void }, attempt: AbortController, opts: FollowOptions, onEvent: (e: DockerEvent) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let rest = '';
    const heartbeat = setInterval(() => {
      opts.ping().catch((e: Error) => finish(new Error(`the engine stopped answering: ${e.message}`)));
    }, opts.heartbeatMs ?? 15_000);
    heartbeat.unref();
    const finish = (err?: Error) => {
      clearInterval(heartbeat);
      stream.removeAllListeners('data');
      stream.destroy();
      if (err) reject(err);
      else resolve();
    };
    attempt.signal.addEventListener('abort', () => finish(), { once: true });
    stream.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      if (rest.length > MAX_LINE) rest = '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let e: DockerEvent;
        try {
          e = JSON.parse(line) as DockerEvent;
        } catch {
          continue;
        }
        if (e && typeof e.Type === 'string' && typeof e.Action === 'string' && e.Actor) onEvent(e);
      }
    });
    stream.once('end', () => finish());
    stream.once('close', () => finish());
    stream.once('error', (err: Error) => finish(err));
  });
}
