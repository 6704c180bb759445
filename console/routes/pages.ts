/**
 * The console's pages, rendered on the server from the same data the API serves; the browser bundle adds the
 * live parts (form, filters, logs, status). A page needs a signed-in person; anyone else goes to /login.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CatalogView } from '../catalogs.ts';
import { html, jsonScript, page, type SafeHtml } from '../html.ts';
import { may, type Principal } from '../../server/access.ts';
import type { ConsoleContext } from '../plugin.ts';
import { sendError } from './errors.ts';
import { catalogBody, templateBody } from '../views/catalog.ts';
import { stacksBody, stackBody, upgradePanel } from '../views/stacks.ts';
import { migrated, versionChange } from '../upgrade.ts';
import { chooseVersion } from '../../upgrades/find.ts';

type Render = (who: Principal, req: FastifyRequest) => Promise<{ title: string; section: 'catalog' | 'stacks'; body: SafeHtml }>;

export function registerPageRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { svc, ops } = ctx;
  /** The deploy form offers these Swarms as targets beside standalone hosts. */
  const swarmNames = () => (svc.controller.snapshot().env?.swarms ?? []).map((s) => s.name);

  const view = (render: Render) => async (req: FastifyRequest, reply: FastifyReply) => {
    const who = ctx.access.principal(req);
    if (!who) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    try {
      const p = await render(who, req);
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      return page({ ...p, user: who, csrf: reply.generateCsrf(), scripts: ['app.js'] });
    } catch (e) {
      if (req.headers.accept?.includes('application/json')) return sendError(reply, e);
      const status = (await import('./errors.ts')).statusOf(e);
      reply.code(status).type('text/html; charset=utf-8');
      const body = html`<section class="panel"><h1>Something is not right</h1><p class="alert">${(e as Error).message.split('\n', 1)[0]}</p><p><a href="/stacks">Back to the stacks</a></p></section>`;
      return page({ title: 'Error', user: who, csrf: reply.generateCsrf(), body });
    }
  };

  /** The version an upgrade would move the stack to (the one an upgrade merge request proposes), if any. */
  const newestFor = async (spec: { template: string; catalog?: string; version: string }): Promise<string | undefined> => {
    const entry = await svc.catalogs.find(svc.snapshot(), spec.template, spec.catalog).catch(() => undefined);
    return entry ? chooseVersion(entry.template, spec.version)?.version : undefined;
  };

  app.get('/', async (_req, reply) => reply.redirect('/stacks', 302));

  app.get('/catalog', view(async (who) => ({ title: 'Catalog', section: 'catalog', body: catalogBody(await svc.catalogs.templates(svc.snapshot()), may(who.role, 'propose')) })));

  app.get<{ Params: { template: string }; Querystring: { catalog?: string } }>('/catalog/:template', view(async (who, req) => {
    const q = req.query as { catalog?: string };
    const entry = await svc.catalogs.find(svc.snapshot(), (req.params as { template: string }).template, q.catalog);
    return { title: entry.template.name, section: 'catalog', body: await templateBody(entry, may(who.role, 'propose')) };
  }));

  app.get('/catalog/:template/deploy', view(async (who, req) => {
    const q = req.query as { catalog?: string; version?: string };
    const entry = await svc.catalogs.find(svc.snapshot(), (req.params as { template: string }).template, q.catalog);
    const version = CatalogView.version(entry.template, q.version);
    const form = { mode: 'create', form: CatalogView.form(entry, version), stack: '', hosts: {}, answers: {}, canCommit: may(who.role, 'deploy'), swarms: swarmNames(), swarm: '' };
    const body = html`<section class="panel"><p class="crumbs"><a href="/catalog">Catalog</a> › <a href="/catalog/${entry.template.name}">${entry.template.name}</a> › Deploy</p>
      <h1>Deploy ${entry.template.name}</h1>${may(who.role, 'propose') ? html`<div id="deploy-form" data-testid="deploy-form"></div>` : html`<p class="alert">Your role (${who.role}) may not deploy.</p>`}</section>${jsonScript('form-data', form)}`;
    return { title: `Deploy ${entry.template.name}`, section: 'catalog', body };
  }));

  app.get('/stacks', view(async (who) => {
    const specs = new Map((svc.controller.snapshot().env?.stacks ?? []).map((s) => [s.name, s]));
    return { title: 'Stacks', section: 'stacks', body: stacksBody(svc.controller.stacks(), specs, may(who.role, 'propose')) };
  }));

  app.get('/stacks/:name', view(async (who, req) => {
    const name = (req.params as { name: string }).name;
    const state = svc.controller.stack(name);
    const spec = svc.spec(name);
    if (!state || !spec) throw Object.assign(new Error(`no stack "${name}" in the environment`), { statusCode: 404 });
    const [hosts, history, newer] = await Promise.all([ops.containers(name), ops.history(name).catch(() => []), newestFor(spec)]);
    return { title: name, section: 'stacks', body: stackBody({ state, spec, hosts, history, canEdit: may(who.role, 'propose'), canRollback: may(who.role, 'deploy'), ...(newer ? { newer } : {}) }) };
  }));

  app.get('/stacks/:name/edit', view(async (who, req) => {
    const name = (req.params as { name: string }).name;
    const f = await svc.stackFile(name);
    if (!f) throw Object.assign(new Error(`no stack "${name}" in the environment`), { statusCode: 404 });
    const entry = await svc.catalogs.find(svc.snapshot(), f.spec.template, f.spec.catalog);
    const version = CatalogView.version(entry.template, (req.query as { version?: string }).version ?? f.spec.version);
    // A newer version opens with the answers its migrations make: what the person submits is what they saw.
    const upgrade = versionChange(entry.template, { name, file: f.spec.file, version: f.spec.version, answers: f.answers, text: f.text }, version);
    const raw = upgrade ? migrated({ name, file: f.spec.file, version: f.spec.version, answers: f.answers, text: f.text }, upgrade).answers : f.answers;
    const answers: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) answers[k] = typeof v === 'object' && v !== null ? { set: true } : v;
    const form = { mode: 'edit', form: CatalogView.form(entry, version), stack: name, hosts: f.spec.hosts, answers, canCommit: may(who.role, 'deploy'), swarms: swarmNames(), swarm: f.spec.swarm ?? '', ...(upgrade ? { upgradeTo: upgrade.to } : {}) };
    const older = !upgrade && version.version !== f.spec.version;
    const verb = upgrade ? `Upgrade ${name} to ${version.version}` : `Edit ${name}`;
    const body = html`<section class="panel"><p class="crumbs"><a href="/stacks">Stacks</a> › <a href="/stacks/${name}">${name}</a> › ${upgrade ? 'Upgrade' : 'Edit'}</p>
      <h1>${verb}</h1>${upgrade ? await upgradePanel(upgrade) : ''}
      ${older ? html`<p class="alert" data-testid="older-version">${version.version} is older than ${f.spec.version}, which runs: no migration moves the answers back. To return to an earlier deploy exactly, roll back from the stack's history.</p>` : ''}
      <div id="deploy-form" data-testid="deploy-form"></div></section>${jsonScript('form-data', form)}`;
    return { title: verb, section: 'stacks', body };
  }));

  /** A template's icon, as an image only: an SVG opened directly must not run script on this origin. */
  app.get<{ Params: { catalog: string; template: string } }>('/console/icon/:catalog/:template', { preHandler: ctx.access.guard('read') }, async (req, reply) => {
    const all = await svc.catalogs.all(svc.snapshot());
    const c = all.find((x) => x.name === req.params.catalog);
    const t = c?.catalog.templates.get(req.params.template);
    if (!c || !t?.icon) return reply.code(404).send({ code: 'ICON_NOT_FOUND', message: 'no icon' });
    const data = await readFile(path.join(c.catalog.root, t.icon));
    return reply.type(t.icon.endsWith('.svg') ? 'image/svg+xml' : 'image/png')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox").header('cache-control', 'max-age=300').send(data);
  });
}
