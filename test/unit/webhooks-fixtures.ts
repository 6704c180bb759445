import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import { matchesRepository } from '../../webhooks/match.ts';
import { registerWebhookRoutes } from '../../webhooks/routes.ts';
import type { Trigger } from '../../webhooks/types.ts';

/** A real server on 127.0.0.1:0 watching `watched`; `calls` records every trigger that reached accept. */
export async function serveWebhooks(watched: { url?: string; path?: string; branch: string }, opts: { gitlab?: { secret: string }; github?: { secret: string } }) {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const calls: Trigger[] = [];
  const app = Fastify();
  registerWebhookRoutes(app, { ...opts, log, accept: (t) => (calls.push(t), matchesRepository(t, watched)) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, calls, logs: () => lines.join(''), close: () => app.close() };
}
