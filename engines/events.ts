/**
 * Progress of an apply as a stream of small events. The engine only emits them; what a person or a machine
 * sees is decided by the sink the caller passes (the engine itself never writes to the console).
 */
import type { Logger } from '../lib/log.ts';
import { maskSecrets } from '../lib/secrets.ts';

export type BerthAction =
  | 'pull'
  | 'create'
  | 'start'
  | 'stop'
  | 'remove'
  | 'recreate'
  | 'wait'
  | 'rollback'
  | 'network'
  | 'volume'
  | 'done'
  | 'error'
  | 'info';

export interface BerthEvent {
  host: string;
  stack: string;
  service?: string;
  number?: number;
  action: BerthAction;
  status: 'started' | 'done' | 'failed';
  message?: string;
  durationMs?: number;
}

export type EventSink = (e: BerthEvent) => void;

/** Discards everything: the default for callers that only want the result. */
export const nullSink: EventSink = () => {};

/** A sink that masks secret values in messages before passing events on. */
export function maskingSink(sink: EventSink, secrets: readonly string[]): EventSink {
  if (secrets.length === 0) return sink;
  return (e) => sink(e.message === undefined ? e : { ...e, message: maskSecrets(e.message, secrets) });
}

/** `shop@h1 web.2`: the stack is named because several stacks apply at once. */
function subject(e: BerthEvent): string {
  const where = `${e.stack}@${e.host}`;
  if (!e.service) return where;
  return e.number === undefined ? `${where} ${e.service}` : `${where} ${e.service}.${e.number}`;
}

function duration(e: BerthEvent): string {
  if (e.durationMs === undefined) return '';
  return e.durationMs < 1000 ? ` (${e.durationMs}ms)` : ` (${(e.durationMs / 1000).toFixed(1)}s)`;
}

/** `h1 web.1 recreate done: config changed (2.3s)` — stable text for logs, CI output and tests. */
export function formatEvent(e: BerthEvent): string {
  const msg = e.message ? `: ${e.message}` : '';
  // The end of a host's apply reads as a verdict, not as an action: `h1 converged: 3 operations (2.1s)`.
  if (e.action === 'done') return `${subject(e)} ${e.message ?? e.status}${duration(e)}`;
  if (e.action === 'info') return `${subject(e)}${msg}`;
  if (e.action === 'error') return `${subject(e)} failed${msg}${duration(e)}`;
  return `${subject(e)} ${e.action} ${e.status}${msg}${duration(e)}`;
}

const COLOURS = { started: '\x1b[36m', done: '\x1b[32m', failed: '\x1b[31m', dim: '\x1b[2m', reset: '\x1b[0m' };

/**
 * Sequential coloured lines for a terminal. Lines are not rewritten in place: parallel hosts interleave, and
 * a scrolled-back history of what happened is worth more than a tidy screen.
 */
export function ttySink(out: NodeJS.WritableStream = process.stderr): EventSink {
  return (e) => {
    const colour = e.action === 'info' ? COLOURS.dim : COLOURS[e.status];
    const time = new Date().toTimeString().slice(0, 8);
    out.write(`${COLOURS.dim}${time}${COLOURS.reset} ${colour}${formatEvent(e)}${COLOURS.reset}\n`);
  };
}

/** Structured events for the controller's JSON log; failures at warn so they stand out in log search. */
/** Progress as pino log lines (for a log collector, or stderr that is not a terminal): the fields, and the same text as the other sinks. */
export function pinoSink(logger: Logger): EventSink {
  return (e) => {
    const { message: _message, ...fields } = e;
    const level = e.status === 'failed' || e.action === 'error' ? 'warn' : e.status === 'started' ? 'debug' : 'info';
    logger[level](fields, formatEvent(e));
  };
}

/** Keeps events in memory: for tests and for summaries printed after the apply. */
export function memorySink(): EventSink & { events: BerthEvent[] } {
  const events: BerthEvent[] = [];
  const sink = ((e: BerthEvent) => {
    events.push(e);
  }) as EventSink & { events: BerthEvent[] };
  sink.events = events;
  return sink;
}
