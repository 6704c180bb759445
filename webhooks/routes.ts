/**
 * `POST /hooks/gitlab` and `POST /hooks/github` for `berth serve`. The order of checks is the security
 * boundary: size (413) → secret (401) → JSON (400) → payload (400 / 202 ignored) → accept → 202. Nothing is
 * parsed, logged in full or handed to `accept` before the secret has been verified over the exact bytes.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BerthError, UserError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { GitHubReceiver } from './github.ts';
import { GitLabReceiver } from './gitlab.ts';
import { isIgnored, type Forge, type ForgeReceiver, type Trigger } from './types.ts';

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface AcceptResult {
  accepted: boolean;
  reason?: string;
}

export interface WebhookRoutesOptions {
  gitlab?: { secret: string };
  github?: { secret: string };
  /** Decides whether the repository and branch are watched and queues the trigger; may be async. */
  accept: (t: Trigger) => AcceptResult | Promise<AcceptResult>;
  log: Logger;
}

/** Form-encoded delivery is a documented GitHub option (`payload=<json>`); GitLab only ever sends JSON. */
const MEDIA_TYPES: Record<Forge, string[]> = {
  gitlab: ['application/json'],
  github: ['application/json', 'application/x-www-form-urlencoded'],
};

export function registerWebhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): void {
  const receivers: Record<Forge, ForgeReceiver | undefined> = {
    gitlab: opts.gitlab?.secret ? new GitLabReceiver(opts.gitlab.secret) : undefined,
    github: opts.github?.secret ? new GitHubReceiver(opts.github.secret) : undefined,
  };
  for (const forge of ['gitlab', 'github'] as const) {
    // Each forge gets its own encapsulated scope, so the raw-body parsers never touch the app's other routes.
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(MEDIA_TYPES[forge], { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
      scope.setErrorHandler(errorHandler(forge, opts.log));
      const receiver = receivers[forge];
      if (receiver) scope.post(`/hooks/${forge}`, { bodyLimit: WEBHOOK_BODY_LIMIT }, (req, reply) => handle(receiver, opts, req, reply));
      else scope.post(`/hooks/${forge}`, { onRequest: notConfigured(forge, opts.log) }, async () => undefined);
    });
  }
}

async function handle(receiver: ForgeReceiver, opts: WebhookRoutesOptions, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { forge } = receiver;
  const { event, deliveryId } = receiver.describe(req.headers);
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!(await receiver.verify(req.headers, raw))) {
    opts.log.warn({ forge, event, deliveryId, ip: req.ip }, 'webhook rejected: missing or wrong secret');
    return reply.code(401).send(failure('WEBHOOK_UNAUTHORIZED', `the ${forge} webhook secret is missing or does not match`));
  }
  const result = receiver.parse(req.headers, decodeBody(raw, req.headers['content-type']));
  if (isIgnored(result)) {
    opts.log.info({ forge, event, deliveryId, reason: result.ignored }, 'webhook ignored');
    return reply.code(202).send({ ignored: result.ignored });
  }
  const where = { forge, event, deliveryId, repository: result.repository, ref: result.ref };
  const verdict = await opts.accept(result);
  if (!verdict.accepted) {
    const reason = verdict.reason ?? 'not accepted';
    opts.log.info({ ...where, reason }, 'webhook ignored');
    return reply.code(202).send({ ignored: reason });
  }
  opts.log.info(where, 'webhook accepted');
  return reply.code(202).send({ accepted: true, deliveryId: result.deliveryId });
}

function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  let text = raw.toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new UserError('WEBHOOK_PAYLOAD_INVALID', 'the form-encoded body has no payload field');
    text = payload;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('WEBHOOK_PAYLOAD_INVALID', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

function notConfigured(forge: Forge, log: Logger) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    log.warn({ forge, ip: req.ip }, `webhook received on /hooks/${forge} but no ${forge} webhook secret is configured`);
    return reply.code(404).send(failure('WEBHOOK_NOT_CONFIGURED', `webhook not configured: Berth has no ${forge} webhook secret`));
  };
}

function errorHandler(forge: Forge, log: Logger) {
  return (err: FastifyError | BerthError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (err instanceof BerthError && err.code === 'WEBHOOK_PAYLOAD_INVALID') {
      log.warn({ forge, reason: err.message }, 'webhook rejected: invalid payload');
      return reply.code(400).send(failure(err.code, err.message));
    }
    const status = 'statusCode' in err ? err.statusCode : undefined;
    if (status === 413) {
      log.warn({ forge, contentLength: req.headers['content-length'] }, 'webhook rejected: body too large');
      return reply.code(413).send(failure('WEBHOOK_BODY_TOO_LARGE', `the body is larger than ${WEBHOOK_BODY_LIMIT} bytes`));
    }
    if (status === 415) {
      const type = String(req.headers['content-type'] ?? '(none)').slice(0, 100);
      return reply.code(415).send(failure('WEBHOOK_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not accepted: send ${MEDIA_TYPES[forge].join(' or ')}`));
    }
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send(failure(err.code, err.message));
    log.error({ forge, err }, 'webhook handler failed');
    return reply.code(500).send(failure('WEBHOOK_INTERNAL', 'internal error while handling the webhook'));
  };
}

function failure(code: string, message: string): { code: string; message: string } {
  return { code, message };
}
