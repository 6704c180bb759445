// A fake GitLab (API v4) and GitHub (REST + the two draft GraphQL mutations) on 127.0.0.1:0, implementing
// exactly the endpoints Berth calls, as their documentation describes them: paths, methods, JSON bodies, the
// response fields Berth reads, pagination headers, and the status codes and error bodies the real APIs use
// (401 bad token, 404 unknown project or MR, 400/409/422 for wrong requests). Every request is recorded, with
// its parsed body, so tests assert on what Berth sent. Merge requests, pull requests and notes live in memory.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gitlabRoutes, type FakeMr } from './fake-gitlab.ts';
import { githubRoutes, type FakePull } from './fake-github.ts';

export type { FakeMr } from './fake-gitlab.ts';
export type { FakePull } from './fake-github.ts';

export interface FakeForgeOptions {
  /** The one token that authenticates, on both APIs. */
  token: string;
  /** GitLab project path (`ops/env`) and its numeric id; requests may name either. */
  gitlab?: { project: string; id?: number };
  /** GitHub `owner/repo`. */
  github?: { repo: string };
  /** Whether the repository has a branch: both forges refuse a merge request from a missing one. */
  branchExists?: (branch: string) => boolean | Promise<boolean>;
}

export interface RecordedRequest {
  api: 'gitlab' | 'github';
  method: string;
  /** Decoded path without the query, e.g. `/api/v4/projects/ops/env/merge_requests`. */
  path: string;
  /** The raw path as sent (project paths stay URL-encoded). */
  rawPath: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What a route handler gets: the parsed request and the shared state. */
export interface Ctx {
  method: string;
  segments: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  baseUrl: string;
  rawPath: string;
  opts: FakeForgeOptions;
  branchExists(branch: string): Promise<boolean>;
}

export interface FakeForge {
  url: string;
  requests: RecordedRequest[];
  /** Requests that change something (not GET), optionally of one API. */
  writes(api?: 'gitlab' | 'github'): RecordedRequest[];
  mergeRequests: FakeMr[];
  pulls: FakePull[];
  /** What the forge does when someone presses "merge". */
  markMerged(api: 'gitlab' | 'github', id: number): void;
  close(): Promise<void>;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

/** `Link` and the X-Page family, as both APIs paginate (GitLab sends both, GitHub only Link). */
export function paginate<T>(items: T[], ctx: Ctx, defaults: { perPage: number; gitlabHeaders: boolean }): Reply {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page') ?? defaults.perPage) || defaults.perPage));
  const page = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1);
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(ctx.query);
    q.set('page', String(p));
    q.set('per_page', String(perPage));
    return `<${ctx.baseUrl}${ctx.rawPath}?${q}>; rel="${rel}"`;
  };
  const links = [...(page < pages ? [link(page + 1, 'next')] : []), ...(page > 1 ? [link(page - 1, 'prev')] : []), link(1, 'first'), link(pages, 'last')];
  const headers: Record<string, string> = { link: links.join(', ') };
  if (defaults.gitlabHeaders) {
    Object.assign(headers, { 'x-page': String(page), 'x-per-page': String(perPage), 'x-total': String(items.length), 'x-total-pages': String(pages), 'x-next-page': page < pages ? String(page + 1) : '', 'x-prev-page': page > 1 ? String(page - 1) : '' });
  }
  return json(200, items.slice((page - 1) * perPage, page * perPage), headers);
}

async function readBody(req: http.IncomingMessage): Promise<{ body: Record<string, unknown>; error?: string }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return { body: {} };
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/x-www-form-urlencoded')) return { body: Object.fromEntries(new URLSearchParams(text)) };
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { body: parsed as Record<string, unknown> } : { body: {}, error: 'the body must be a JSON object' };
  } catch {
    return { body: {}, error: 'Problems parsing JSON' };
  }
}

export async function startFakeForge(opts: FakeForgeOptions): Promise<FakeForge> {
  const requests: RecordedRequest[] = [];
  const mergeRequests: FakeMr[] = [];
  const pulls: FakePull[] = [];
  const gitlab = gitlabRoutes(mergeRequests);
  const github = githubRoutes(pulls);
  let baseUrl = '';

  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = u.pathname.startsWith('/api/v4/') ? 'gitlab' : 'github';
    const { body, error } = await readBody(req);
    const ctx: Ctx = {
      method: req.method ?? 'GET',
      segments: u.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s)),
      query: u.searchParams,
      headers: req.headers,
      body,
      baseUrl,
      rawPath: u.pathname,
      opts,
      branchExists: async (b) => (opts.branchExists ? await opts.branchExists(b) : true),
    };
    let reply: Reply;
    try {
      if (error) reply = api === 'gitlab' ? json(400, { error }) : json(400, { message: error });
      else reply = api === 'gitlab' ? await gitlab(ctx) : await github(ctx);
    } catch (e) {
      reply = json(500, { message: String(e) });
    }
    const decoded = `/${ctx.segments.join('/')}`;
    requests.push({ api, method: ctx.method, path: decoded, rawPath: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, body: req.method === 'GET' ? undefined : body, status: reply.status });
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    res.end(reply.status === 204 ? undefined : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    requests,
    writes: (which) => requests.filter((r) => r.method !== 'GET' && (!which || r.api === which)),
    mergeRequests,
    pulls,
    markMerged(which, id) {
      if (which === 'gitlab') mergeRequests.find((m) => m.iid === id)!.state = 'merged';
      else Object.assign(pulls.find((p) => p.number === id)!, { state: 'closed', merged: true });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
