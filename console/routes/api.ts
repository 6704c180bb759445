/**
 * The console's JSON API, part of the documented `/api`: the catalog, previews and writes of stack files,
 * history, diffs, rollback, containers and logs. Reads need any role; writes a role that may deploy or propose.
 */
import type { FastifyInstance } from 'fastify';
import { isEncrypted } from '../../lib/secrets.ts';
import { CatalogView } from '../catalogs.ts';
import type { ConsoleContext } from '../plugin.ts';
import type { StackRequest } from '../service.ts';
import { answer } from './errors.ts';

type Named = { Params: { name: string } };
type Write = Named & { Body: StackRequest & { mode?: 'create' | 'edit' } };

const BODY = {
  type: 'object', required: ['template', 'answers'], additionalProperties: false,
  properties: {
    template: { type: 'string', maxLength: 200 }, version: { type: 'string', maxLength: 100 }, catalog: { type: 'string', maxLength: 200 },
    answers: { type: 'object', maxProperties: 500 }, hosts: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 200 } },
    swarm: { type: 'string', maxLength: 200 },
    mode: { enum: ['create', 'edit'] },
  },
} as const;

export function registerApiRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { access, svc, ops } = ctx;
  const read = { preHandler: access.guard('read') };
  const write = { preHandler: access.guard('propose'), schema: { body: BODY }, bodyLimit: 1024 * 1024 };
  const deploy = { preHandler: access.guard('deploy') };

  app.get('/api/catalog', read, async (_req, reply) => answer(reply, () => svc.catalogs.templates(svc.snapshot())));

  app.get<{ Params: { template: string }; Querystring: { catalog?: string; version?: string } }>('/api/catalog/:template', read, async (req, reply) => answer(reply, async () => {
    const entry = await svc.catalogs.find(svc.snapshot(), req.params.template, req.query.catalog);
    const version = CatalogView.version(entry.template, req.query.version);
    return { ...CatalogView.form(entry, version), description: entry.template.config.description, readme: entry.template.readme ?? null, releaseNotes: version.releaseNotes ?? null };
  }));

  /** The stack file's settings for the edit form; a secret answer only says that it is set. */
  app.get<Named>('/api/stacks/:name/file', read, async (req, reply) => answer(reply, async () => {
    const f = await svc.stackFile(req.params.name);
    if (!f) return reply.code(404).send({ code: 'STACK_NOT_FOUND', message: `no stack "${req.params.name}" in the environment` });
    const answers: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f.answers)) answers[k] = isEncrypted(v) ? { set: true } : v;
    return { template: f.spec.template, version: f.spec.version, catalog: f.spec.catalog ?? null, hosts: f.spec.hosts, swarm: f.spec.swarm ?? null, answers };
  }));

  app.post<Write>('/api/stacks/:name/preview', write, async (req, reply) => answer(reply, () => svc.preview(req.params.name, req.body, req.body.mode ?? 'create')));
  app.post<Write>('/api/stacks/:name', write, async (req, reply) => answer(reply, async () => {
    const r = await svc.submit(req.params.name, req.body, 'create', req.principal!);
    return reply.code(201).send(r);
  }));
  app.put<Write>('/api/stacks/:name', write, async (req, reply) => answer(reply, () => svc.submit(req.params.name, req.body, 'edit', req.principal!)));

  app.get<Named>('/api/stacks/:name/containers', read, async (req, reply) => answer(reply, () => ops.containers(req.params.name)));
  app.get<Named>('/api/stacks/:name/history', read, async (req, reply) => answer(reply, () => ops.history(req.params.name)));
  app.get<Named & { Params: { commit: string } }>('/api/stacks/:name/history/:commit/diff', read, async (req, reply) => answer(reply, async () => ({ diff: await ops.diff(req.params.name, req.params.commit) })));
  app.post<Named & { Body: { to?: string; withData?: boolean } | undefined }>('/api/stacks/:name/rollback', deploy, async (req, reply) => answer(reply, () => ops.rollback(req.params.name, req.principal!, req.body?.to, req.body?.withData === true)));
  app.get<Named & { Querystring: { service?: string; tail?: string } }>('/api/stacks/:name/logs', read, async (req, reply) => answer(reply, async () => {
    const tail = Math.min(Math.max(Number(req.query.tail) || 200, 1), 5000);
    return ops.logs(req.params.name, String(req.query.service ?? ''), tail);
  }));
}
