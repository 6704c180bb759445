/** Signing in and out: a form (CSRF-checked, rate-limited per address) that puts the user in a fresh session. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, page } from '../html.ts';
import { verify } from '../users.ts';
import type { ConsoleContext } from '../plugin.ts';

/** Only a path on this site: `//evil.example` or `https://…` would make the login an open redirect. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\\\s]*$/.test(next) ? next : '/stacks';
}

function loginPage(reply: FastifyReply, next: string, error?: string, name = ''): string {
  const body = html`
  <section class="login">
    <div class="login-card">
      <div class="brand big"><span class="logo" aria-hidden="true"></span>Berth</div>
      <p class="muted">Sign in to deploy and follow your stacks.</p>
      ${error ? html`<p class="alert" role="alert" data-testid="login-error">${error}</p>` : ''}
      <form method="post" action="/login" class="stack-form">
        <input type="hidden" name="_csrf" value="${reply.generateCsrf()}">
        <input type="hidden" name="next" value="${next}">
        <label>User <input name="username" autocomplete="username" required value="${name}" autofocus></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button class="primary" type="submit">Sign in</button>
      </form>
    </div>
  </section>`;
  return page({ title: 'Sign in', body });
}

export function registerAuthRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => {
    reply.type('text/html; charset=utf-8');
    return loginPage(reply, safeNext(req.query.next));
  });

  app.post<{ Body: { username?: string; password?: string; next?: string } }>('/login', {
    config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
    preHandler: app.csrfProtection,
  }, async (req, reply) => {
    const { username = '', password = '' } = req.body ?? {};
    const next = safeNext(req.body?.next);
    const user = username && password ? await verify(ctx.users, String(username), String(password)) : undefined;
    if (!user) {
      req.log.info({ user: String(username).slice(0, 64) }, 'console: sign-in refused');
      reply.code(401).type('text/html; charset=utf-8');
      return loginPage(reply, next, 'Wrong user name or password.', String(username).slice(0, 64));
    }
    await req.session.regenerate();
    req.session.set('user', { name: user.name, email: user.email, role: user.role });
    return reply.redirect(next, 303);
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (req: FastifyRequest, reply) => {
    await req.session.destroy();
    return reply.redirect('/login', 303);
  });
}
