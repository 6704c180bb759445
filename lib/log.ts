import { pino, type Logger } from 'pino';
import { mask } from './mask.ts';

export type { Logger };

/**
 * JSON logs for machines, pretty ones for a person at a terminal. Redaction is a second line of defence:
 * secrets are masked before they reach a log call, but a stray `password` or `token` field is caught here too.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.BERTH_LOG_LEVEL ?? 'info';
  const redact = { paths: ['*.password', '*.token', '*.secret', '*.authorization', 'password', 'token', 'secret'], censor: '[redacted]' };
  // The one masking step (lib/mask.ts) sees every line, whatever built it, before the stream does.
  const hooks = { streamWrite: (line: string) => mask(line) };
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.BERTH_LOG_FORMAT !== 'json');
  if (pretty && !opts.destination) {
    return pino({ level, redact, hooks, transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } } });
  }
  return pino({ level, redact, hooks }, (opts.destination as pino.DestinationStream | undefined) ?? pino.destination(2));
}

/** A logger that writes nothing: the default for library code and tests that don't care. */
export const silentLogger: Logger = pino({ level: 'silent' });
