/**
 * The web console on `berth serve`'s own fastify app: security plugins (helmet headers, signed HTTP-only
 * session cookies, CSRF on every write, a rate-limited login), the assets bundled at build time, the pages and
 * the JSON API they use. Loaded only when a users file is given, so a serve without people stays as small as
 * it was.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from '../lib/version.ts';
import { Access, type ApiToken, type Principal } from '../server/access.ts';
import type { ConsoleUser } from './users.ts';
import { ConsoleService, type ConsoleDeps } from './service.ts';
import { StackOps } from './stack-ops.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerApiRoutes } from './routes/api.ts';
import { registerPageRoutes } from './routes/pages.ts';
import { registerLiveRoutes } from './routes/live.ts';

export interface ConsoleOptions extends ConsoleDeps {
  users: ConsoleUser[];
  tokens?: ApiToken[];
  /** Signs session cookies; random per process when unset (everyone signs in again after a restart). */
  sessionSecret?: string;
}

export interface ConsoleContext {
  access: Access;
  svc: ConsoleService;
  ops: StackOps;
  users: ConsoleUser[];
}

declare module 'fastify' {
  interface Session {
    user?: Omit<Principal, 'via'>;
  }
}

/** The CSP keeps every script, style and image on this origin: the console must work air-gapped anyway. */
const CSP = {
  defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"],
  fontSrc: ["'self'"], objectSrc: ["'none'"], frameAncestors: ["'none'"], formAction: ["'self'"], baseUri: ["'none'"],
};

export async function registerConsole(app: FastifyInstance, opts: ConsoleOptions): Promise<Access> {
  const secret = opts.sessionSecret && opts.sessionSecret.length >= 32 ? opts.sessionSecret : randomBytes(32).toString('hex');
  if (!opts.sessionSecret) opts.log.info('BERTH_SESSION_SECRET is not set: sessions last until berth serve restarts');
  await app.register((await import('@fastify/helmet')).default, { contentSecurityPolicy: { directives: CSP }, hsts: false });
  await app.register((await import('@fastify/formbody')).default);
  await app.register((await import('@fastify/cookie')).default);
  await app.register((await import('@fastify/session')).default, {
    secret, cookieName: 'berth_session', saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', secure: 'auto', path: '/', maxAge: 12 * 3600 * 1000 },
  });
  await app.register((await import('@fastify/csrf-protection')).default, {
    sessionPlugin: '@fastify/session',
    getToken: (req: FastifyRequest) => (req.headers['x-csrf-token'] as string | undefined) ?? (req.body as { _csrf?: string } | undefined)?._csrf,
  });
  await app.register((await import('@fastify/rate-limit')).default, { global: false });
  await app.register((await import('@fastify/static')).default, {
    root: path.join(packageRoot(), 'dist', 'console'), prefix: '/console/assets/', decorateReply: false, maxAge: '1h',
  });
  const checkCsrf = (req: FastifyRequest, reply: FastifyReply) => new Promise<void>((resolve, reject) => {
    app.csrfProtection(req, reply, (err?: Error) => (err ? reject(Object.assign(err, { statusCode: 403, code: 'CSRF_INVALID' })) : resolve()));
  });
  const access = new Access({ signIn: true, tokens: opts.tokens, sessionUser: (req) => req.session?.get('user'), checkCsrf });
  const svc = new ConsoleService(opts);
  const ctx: ConsoleContext = { access, svc, ops: new StackOps(svc), users: opts.users };
  registerAuthRoutes(app, ctx);
  registerApiRoutes(app, ctx);
  registerLiveRoutes(app, ctx);
  registerPageRoutes(app, ctx);
  return access;
}
