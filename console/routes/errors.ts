/** Berth's errors as HTTP answers: the code, the message, the hint, and for wrong answers every problem. */
import type { FastifyReply } from 'fastify';
import { BerthError, ValidationError } from '../../lib/errors.ts';

const NOT_FOUND = new Set(['STACK_NOT_FOUND', 'TEMPLATE_NOT_FOUND', 'VERSION_NOT_FOUND', 'COMMIT_NOT_FOUND', 'LEDGER_EMPTY']);
const CONFLICT = new Set(['STACK_EXISTS', 'ROLLBACK_IN_FORCE', 'ROLLBACK_NOTHING_EARLIER', 'ROLLBACK_NOOP']);

export function statusOf(e: unknown): number {
  if (e instanceof ValidationError) return 422;
  if (!(e instanceof BerthError)) return (e as { statusCode?: number }).statusCode ?? 500;
  if (NOT_FOUND.has(e.code)) return 404;
  if (CONFLICT.has(e.code) || e.kind === 'conflict') return 409;
  if (e.kind === 'unreachable') return 503;
  return e.kind === 'user' ? 400 : 500;
}

export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const status = statusOf(e);
  if (status >= 500 && !(e instanceof BerthError)) return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  const err = e as BerthError;
  const body: Record<string, unknown> = { code: err.code ?? 'ERROR', message: err.message.split('\n', 1)[0] };
  if (err.hint) body.hint = err.hint;
  if (e instanceof ValidationError) body.problems = e.problems.map((p) => ({ field: p.field, message: p.message }));
  return reply.code(status).send(body);
}

/** Runs a handler, answering its errors as above. */
export async function answer<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (e) {
    return sendError(reply, e);
  }
}
