/**
 * Server-sent events: a stack's status as it moves (the deploy page follows a commit to its outcome) and a
 * service's logs as they are written, masked. Each stream ends when the browser goes away.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maskSecrets } from '../../lib/secrets.ts';
import type { ConsoleContext } from '../plugin.ts';

const MAX_STREAM_MS = 30 * 60_000;

function openStream(req: FastifyRequest, reply: FastifyReply): { send(event: string, data: unknown): void; signal: AbortSignal } {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), MAX_STREAM_MS);
  req.raw.once('close', () => ac.abort());
  ac.signal.addEventListener('abort', () => { clearTimeout(timer); raw.end(); }, { once: true });
  return { signal: ac.signal, send: (event, data) => void (!raw.writableEnded && raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) };
}

export function registerLiveRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const read = { preHandler: ctx.access.guard('read') };

  app.get<{ Params: { name: string } }>('/api/stacks/:name/events', read, async (req, reply) => {
    const s = openStream(req, reply);
    let last = '';
    const tick = () => {
      const state = ctx.svc.controller.stack(req.params.name) ?? null;
      const text = JSON.stringify(state);
      if (text !== last) s.send('status', state);
      last = text;
    };
    tick();
    const timer = setInterval(tick, 500);
    s.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  });

  app.get<{ Params: { name: string }; Querystring: { service?: string; tail?: string } }>('/api/stacks/:name/logs/follow', read, async (req, reply) => {
    const { name } = req.params;
    const service = String(req.query.service ?? '');
    const tail = Math.min(Math.max(Number(req.query.tail) || 100, 0), 2000);
    const secrets = await ctx.ops.secrets(name);
    const s = openStream(req, reply);
    const swarm = ctx.svc.spec(name)?.swarm;
    if (swarm !== undefined) {
      // One stream for the service: Swarm gathers every task's lines, on every node, through the manager.
      const engine = ctx.svc.controller.swarmEngine(swarm);
      const [host, container] = [`swarm ${swarm}`, `${name}_${service}`];
      const lines = new LineBuffer((text) => s.send('log', { host, container, text: maskSecrets(text, secrets) }));
      if (!engine) s.send('log', { host, container, text: `(berth.yml declares no swarm "${swarm}")\n` });
      else void engine.followLogs(name, service, { tail, signal: s.signal }, (text) => lines.push(text))
        .then(() => lines.flush())
        .catch((e: Error) => s.send('log', { host, container, text: `(logs unavailable: ${maskSecrets(e.message, secrets)})\n` }));
      s.send('ready', { service });
      return;
    }
    for (const [host, driver] of Object.entries(ctx.svc.controller.engines())) {
      const seen = await driver.observe(name).catch(() => undefined);
      for (const c of seen?.containers.filter((x) => x.service === service) ?? []) {
        if (!driver.followLogs) continue;
        const send = (text: string) => s.send('log', { host, container: c.name, text: maskSecrets(text, secrets) });
        const lines = new LineBuffer(send);
        void driver.followLogs(c.id, { tail, signal: s.signal }, (text) => lines.push(text))
          .then(() => lines.flush())
          .catch((e: Error) => s.send('log', { host, container: c.name, text: `(logs unavailable: ${e.message})\n` }));
      }
    }
    s.send('ready', { service });
  });
}

/**
 * Whole lines only: Docker delivers a container's output in the pieces the process wrote, and a secret written in
 * two pieces would pass the mask in halves. A line that never ends is let through once it is long (or at the end).
 */
export class LineBuffer {
  private rest = '';

  constructor(private readonly emit: (text: string) => void, private readonly maxLine = 64 * 1024) {}

  push(text: string): void {
    const all = this.rest + text;
    const cut = all.lastIndexOf('\n') + 1;
    if (cut > 0) this.emit(all.slice(0, cut));
    this.rest = all.slice(cut);
    if (this.rest.length >= this.maxLine) this.flush();
  }

  flush(): void {
    if (this.rest) this.emit(this.rest);
    this.rest = '';
  }
}
