// GitHub REST pull requests and issue comments, and the GraphQL draft mutations, for the fake forge (see
// fake-forge.ts). Authentication is `Authorization: token X` or `Bearer X`, and a User-Agent is required, as on
// GitHub. Errors use GitHub's shapes: 401 Bad credentials, 404 Not Found, 422 Validation Failed with `errors`.
// As on GitHub, PATCH ignores `draft`: only the GraphQL mutations change it.
import { json, paginate, type Ctx, type Reply } from './fake-forge.ts';

export interface FakePull {
  number: number;
  nodeId: string;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  comments: string[];
}

const DOCS = 'https://docs.github.com/rest';

function authorized(ctx: Ctx): boolean {
  const auth = String(ctx.headers.authorization ?? '');
  return auth === `token ${ctx.opts.token}` || auth === `Bearer ${ctx.opts.token}`;
}

function present(p: FakePull, ctx: Ctx) {
  const repo = ctx.opts.github!.repo;
  const owner = repo.split('/')[0];
  const repoJson = { full_name: repo, name: repo.split('/')[1], owner: { login: owner } };
  return {
    id: 7000 + p.number,
    node_id: p.nodeId,
    number: p.number,
    state: p.state,
    title: p.title,
    body: p.body === '' ? null : p.body,
    draft: p.draft,
    merged: p.merged,
    html_url: `${ctx.baseUrl}/${repo}/pull/${p.number}`,
    head: { ref: p.head, label: `${owner}:${p.head}`, repo: repoJson },
    base: { ref: p.base, label: `${owner}:${p.base}`, repo: repoJson },
  };
}

const invalid = (errors: unknown[]): Reply => json(422, { message: 'Validation Failed', errors, documentation_url: DOCS });

export function githubRoutes(pulls: FakePull[]) {
  return async function route(ctx: Ctx): Promise<Reply> {
    if (!ctx.headers['user-agent']) return json(403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' });
    if (!authorized(ctx)) return json(401, { message: 'Bad credentials', documentation_url: DOCS });
    if (ctx.segments[0] === 'graphql' && ctx.method === 'POST') return graphql(ctx, pulls);
    const [repos, owner, name, kind, numberText, sub, ...rest] = ctx.segments;
    if (repos !== 'repos' || !ctx.opts.github || `${owner}/${name}` !== ctx.opts.github.repo || rest.length) return json(404, { message: 'Not Found', documentation_url: DOCS });
    const pull = numberText === undefined ? undefined : pulls.find((p) => String(p.number) === numberText);
    if (kind === 'pulls' && numberText === undefined) {
      if (ctx.method === 'GET') return list(ctx, pulls);
      if (ctx.method === 'POST') return create(ctx, pulls);
    }
    if (!pull) return json(404, { message: 'Not Found', documentation_url: DOCS });
    if (kind === 'pulls' && sub === undefined && ctx.method === 'GET') return json(200, present(pull, ctx));
    if (kind === 'pulls' && sub === undefined && ctx.method === 'PATCH') return update(ctx, pull);
    if (kind === 'issues' && sub === 'comments' && ctx.method === 'POST') return comment(ctx, pull);
    return json(404, { message: 'Not Found', documentation_url: DOCS });
  };
}

function list(ctx: Ctx, pulls: FakePull[]): Reply {
  const state = ctx.query.get('state') ?? 'open';
  if (!['open', 'closed', 'all'].includes(state)) return invalid([{ resource: 'PullRequest', field: 'state', code: 'invalid' }]);
  const owner = ctx.opts.github!.repo.split('/')[0];
  const head = ctx.query.get('head');
  const found = pulls.filter((p) => (state === 'all' || p.state === state) && (head === null || head === `${owner}:${p.head}`));
  return paginate([...found].reverse().map((p) => present(p, ctx)), ctx, { perPage: 30, gitlabHeaders: false });
}

async function create(ctx: Ctx, pulls: FakePull[]): Promise<Reply> {
  const b = ctx.body;
  for (const field of ['title', 'head', 'base']) if (typeof b[field] !== 'string' || b[field] === '') return invalid([{ resource: 'PullRequest', code: 'missing_field', field }]);
  const [head, base] = [String(b.head), String(b.base)];
  if (!(await ctx.branchExists(head))) return invalid([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
  if (!(await ctx.branchExists(base))) return invalid([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
  if (pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
    return invalid([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${ctx.opts.github!.repo.split('/')[0]}:${head}.` }]);
  }
  const number = pulls.length + 1;
  const pull: FakePull = { number, nodeId: `PR_kwfake${number}`, title: String(b.title), body: typeof b.body === 'string' ? b.body : '', head, base, state: 'open', draft: b.draft === true, merged: false, comments: [] };
  pulls.push(pull);
  return json(201, present(pull, ctx));
}

function update(ctx: Ctx, pull: FakePull): Reply {
  const b = ctx.body;
  if (b.state !== undefined && b.state !== 'open' && b.state !== 'closed') return invalid([{ resource: 'PullRequest', field: 'state', code: 'invalid' }]);
  if (b.title !== undefined && typeof b.title !== 'string') return invalid([{ resource: 'PullRequest', field: 'title', code: 'invalid' }]);
  if (typeof b.title === 'string') pull.title = b.title;
  if (typeof b.body === 'string') pull.body = b.body;
  if (b.state === 'closed' || b.state === 'open') pull.state = b.state;
  return json(200, present(pull, ctx));
}

function comment(ctx: Ctx, pull: FakePull): Reply {
  const body = ctx.body.body;
  if (typeof body !== 'string' || body === '') return invalid([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
  pull.comments.push(body);
  return json(201, { id: 9000 + pull.comments.length, body, html_url: `${ctx.baseUrl}/${ctx.opts.github!.repo}/pull/${pull.number}#issuecomment-${pull.comments.length}` });
}

/** Only the two mutations Berth sends; anything else gets GraphQL's error shape (HTTP 200, `errors`). */
function graphql(ctx: Ctx, pulls: FakePull[]): Reply {
  const query = String(ctx.body.query ?? '');
  const id = (ctx.body.variables as Record<string, unknown> | undefined)?.id;
  const mutation = /\b(convertPullRequestToDraft|markPullRequestReadyForReview)\s*\(/.exec(query)?.[1];
  if (!mutation) return json(200, { errors: [{ message: 'Berth\'s fake GitHub only knows convertPullRequestToDraft and markPullRequestReadyForReview' }] });
  const pull = pulls.find((p) => p.nodeId === id);
  if (!pull) return json(200, { data: { [mutation]: null }, errors: [{ type: 'NOT_FOUND', path: [mutation], message: `Could not resolve to a node with the global id of '${String(id)}'` }] });
  if (pull.state !== 'open') return json(200, { data: { [mutation]: null }, errors: [{ type: 'UNPROCESSABLE', path: [mutation], message: 'Pull request is closed' }] });
  pull.draft = mutation === 'convertPullRequestToDraft';
  return json(200, { data: { [mutation]: { pullRequest: { isDraft: pull.draft } } } });
}
