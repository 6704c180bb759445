/**
 * The HTTP face of `berth serve`: webhooks in, health, metrics and per-stack status out. Fastify's own logger
 * is off (a Prometheus scrape every 15 s is not news); the webhook routes log what they decide, and
 * nothing here ever logs a body, a signature or a secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { UserError } from '../lib/errors.ts';
import { mask } from '../lib/mask.ts';
import type { Logger } from '../lib/log.ts';
import { matchesRepository, registerWebhookRoutes, type WatchedRepository } from '../webhooks/index.ts';
import type { Trigger } from '../webhooks/types.ts';
import type { Metrics, WebhookResult } from '../controller/metrics.ts';
import type { StackState } from '../controller/stack-state.ts';
import { Access } from './access.ts';
import type { ConsoleOptions } from '../console/plugin.ts';

/** What the server needs of the controller; the Controller implements it, tests may fake it. */
export interface ServedController {
  readonly started: boolean;
  readonly metrics: Metrics;
  trigger(t: Trigger): void;
  stacks(): StackState[];
  stack(name: string): StackState | undefined;
  environment(): Record<string, unknown>;
}

export interface ServerOptions {
  controller: ServedController;
  /** The environment repository and branch webhooks must name to be accepted. */
  watched: WatchedRepository;
  gitlabSecret?: string;
  githubSecret?: string;
  log: Logger;
  /** When set, `/api/*` and `/metrics` need `Authorization: Bearer <apiToken>` (docs/security.md#the-http-listener). */
  apiToken?: string;
  /** The web console and sign-in (a users file given); without it `/api` is open for reading, as before. */
  console?: Omit<ConsoleOptions, 'log'>;
}

export async function createServer(opts: ServerOptions): Promise<FastifyInstance> {
  const { controller, log } = opts;
  // An unauthenticated listener must not be held open: bounded headers, request, idle time, body and connections.
  const app = Fastify({ logger: false, return503OnClosing: true, connectionTimeout: 60_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, bodyLimit: 1024 * 1024 });
  app.server.headersTimeout = 10_000;
  app.server.maxConnections = 256;
  // The console (and its plugins) load only when people sign in: a serve without them stays as small as it was.
  const access = opts.console
    ? await (await import('../console/plugin.ts')).registerConsole(app, { ...opts.console, log: log.child({ component: 'console' }) })
    : new Access({ signIn: false });
  const token = tokenGuard(opts.apiToken);
  const read = { preHandler: [token, access.guard('read')] };
  countWebhooks(app, controller.metrics);
  // The one masking step (lib/mask.ts) for every reply: a stack's lastError or a plan may quote a secret.
  app.addHook('onSend', async (_req, _reply, payload: unknown) => (typeof payload === 'string' ? mask(payload) : payload));
  registerWebhookRoutes(app, {
    gitlab: opts.gitlabSecret ? { secret: opts.gitlabSecret } : undefined,
    github: opts.githubSecret ? { secret: opts.githubSecret } : undefined,
    log: log.child({ component: 'webhooks' }),
    accept: (t) => {
      const verdict = matchesRepository(t, opts.watched);
      if (verdict.accepted) controller.trigger(t);
      return verdict;
    },
  });

  app.get('/healthz', async (_req, reply) => {
    if (!controller.started) return reply.code(503).send({ ok: false, reason: 'starting: the environment has not been synced yet' });
    return { ok: true };
  });
  app.get('/metrics', { preHandler: token }, async (_req, reply) => reply.type(controller.metrics.contentType).send(await controller.metrics.text()));
  app.get('/api/stacks', read, async () => controller.stacks());
  app.get<{ Params: { name: string } }>('/api/stacks/:name', read, async (req, reply) => {
    const s = controller.stack(req.params.name);
    return s ?? reply.code(404).send({ code: 'STACK_NOT_FOUND', message: `no stack "${req.params.name}" in the environment` });
  });
  app.get('/api/environment', read, async () => controller.environment());
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log.error({ err: err.message, url: req.url }, 'request failed');
    const code = (err as { code?: unknown }).code;
    return reply.code(status).send({ code: status >= 500 ? 'INTERNAL' : typeof code === 'string' ? code : 'BAD_REQUEST', message: status >= 500 ? 'internal error' : err.message });
  });
  return app;
}

/**
 * The optional bearer token for `/api/*` and `/metrics`: the one check those routes share, compared in constant
 * time. Without a token they are open to whoever reaches the listener (docs/security.md).
 */
function tokenGuard(apiToken: string | undefined) {
  const expected = apiToken ? createHash('sha256').update(apiToken).digest() : undefined;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!expected) return;
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (timingSafeEqual(createHash('sha256').update(given).digest(), expected)) return;
    return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'this endpoint needs Authorization: Bearer <token> (the value of --api-token-env)' });
  };
}

/**
 * Counts every delivery on /hooks/* by the answer it got. The routes decide; this only reads the status (and,
 * for a 202, whether the body says accepted), so the count can never disagree with what the forge saw.
 */
function countWebhooks(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const forge = /^\/hooks\/(gitlab|github)\/?(?:\?|$)/.exec(req.url)?.[1];
    if (!forge) return payload;
    const result = webhookResult(reply.statusCode, payload);
    if (result) metrics.webhook(forge, result);
    return payload;
  });
}

function webhookResult(status: number, payload: unknown): WebhookResult | undefined {
  switch (status) {
    case 202:
      return typeof payload === 'string' && payload.includes('"accepted":true') ? 'accepted' : 'ignored';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_configured';
    case 413:
      return 'too_large';
    case 400:
    case 415:
      return 'invalid';
    default:
      return undefined;
  }
}

/** `0.0.0.0:7480`, `127.0.0.1:0`, `[::]:7480` or a bare port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim()) ?? /^()()(\d+)$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new UserError('LISTEN_INVALID', `--listen ${JSON.stringify(text)} is not HOST:PORT`, { hint: 'e.g. 0.0.0.0:7480 or 127.0.0.1:0' });
  return { host: m[1] || m[2] || '0.0.0.0', port };
}
