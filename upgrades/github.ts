/**
 * Pull requests on GitHub through octokit. The REST API can open a pull request as a draft but cannot change
 * that afterwards (PATCH ignores `draft`), so turning a draft ready or back goes through the two GraphQL
 * mutations made for it, by the pull request's node id.
 */
import { Octokit, RequestError } from 'octokit';
import type { Logger } from '../lib/log.ts';
import type { ForgeConfig } from './config.ts';
import type { CreateMergeRequestInput, Forge, ForgeOptions, MergeRequest, UpdateMergeRequestInput } from './forge.ts';
import { compileCheck, forgeError, validated } from './forge-check.ts';

interface GithubPull {
  number: number;
  node_id: string;
  title: string;
  body: string | null;
  state: string;
  html_url: string;
  draft?: boolean;
  head: { ref: string; repo: { full_name: string } | null };
  base: { ref: string };
}

const PULL_SCHEMA = {
  type: 'object',
  required: ['number', 'node_id', 'title', 'state', 'html_url', 'head', 'base'],
  properties: {
    number: { type: 'integer', minimum: 1 },
    node_id: { type: 'string', minLength: 1 },
    title: { type: 'string' },
    body: { type: ['string', 'null'] },
    state: { type: 'string' },
    html_url: { type: 'string' },
    draft: { type: 'boolean' },
    head: { type: 'object', required: ['ref'], properties: { ref: { type: 'string' }, repo: { type: ['object', 'null'], properties: { full_name: { type: 'string' } } } } },
    base: { type: 'object', required: ['ref'], properties: { ref: { type: 'string' } } },
  },
};
const checkPull = compileCheck(PULL_SCHEMA);
const checkList = compileCheck({ type: 'array', items: PULL_SCHEMA });
const checkComment = compileCheck({ type: 'object', required: ['id'], properties: { id: { type: 'integer' } } });
const checkDraftToggle = compileCheck({
  type: 'object',
  minProperties: 1,
  additionalProperties: { type: 'object', required: ['pullRequest'], properties: { pullRequest: { type: 'object', required: ['isDraft'], properties: { isDraft: { type: 'boolean' } } } } },
});

const TO_DRAFT = 'mutation($id: ID!) { convertPullRequestToDraft(input: { pullRequestId: $id }) { pullRequest { isDraft } } }';
const TO_READY = 'mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft } } }';

function toMergeRequest(p: GithubPull): MergeRequest {
  return { id: p.number, title: p.title, description: p.body ?? '', sourceBranch: p.head.ref, targetBranch: p.base.ref, draft: p.draft === true, url: p.html_url };
}

/** octokit's own logging goes to Berth's logger at debug, so its warnings never interleave with CLI output. */
function octokitLog(log: Logger | undefined) {
  const to = (level: 'debug' | 'warn') => (message: string) => log?.[level]({ forge: 'github' }, message);
  return { debug: to('debug'), info: to('debug'), warn: to('warn'), error: to('warn') };
}

export function createGithubForge(config: ForgeConfig, token: string, opts: ForgeOptions = {}): Forge {
  const [owner, repo] = config.project.split('/');
  const octokit = new Octokit({ auth: token, baseUrl: config.apiUrl, log: octokitLog(opts.log) });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const request = () => ({ signal: AbortSignal.timeout(timeoutMs) });
  const nodeIds = new Map<number, string>();

  async function call<T>(what: string, check: ReturnType<typeof compileCheck>, run: () => Promise<unknown>): Promise<T> {
    let raw: unknown;
    try {
      raw = await run();
    } catch (err) {
      const status = err instanceof RequestError ? err.status : undefined;
      throw forgeError('github', what, status, String((err as Error)?.message ?? err), token);
    }
    return validated<T>(check, raw, what, 'github');
  }

  const remember = (p: GithubPull) => (nodeIds.set(p.number, p.node_id), toMergeRequest(p));
  const ours = (p: GithubPull) => p.head.repo?.full_name.toLowerCase() === config.project.toLowerCase();

  async function setDraft(number: number, draft: boolean): Promise<void> {
    let id = nodeIds.get(number);
    if (!id) id = (await call<GithubPull>(`reading pull request #${number}`, checkPull, async () => (await octokit.rest.pulls.get({ owner, repo, pull_number: number, request: request() })).data)).node_id;
    await call(`marking pull request #${number} ${draft ? 'as a draft' : 'ready for review'}`, checkDraftToggle, () => octokit.graphql(draft ? TO_DRAFT : TO_READY, { id, request: request() }));
  }

  return {
    type: 'github',
    async findOpenMergeRequest(sourceBranch) {
      const list = await call<GithubPull[]>(`listing pull requests from ${sourceBranch}`, checkList, async () =>
        (await octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${sourceBranch}`, per_page: 100, request: request() })).data);
      const pull = list.find((p) => p.head.ref === sourceBranch && ours(p));
      return pull && remember(pull);
    },
    async createMergeRequest(input: CreateMergeRequestInput) {
      const pull = await call<GithubPull>(`opening a pull request from ${input.sourceBranch}`, checkPull, async () =>
        (await octokit.rest.pulls.create({ owner, repo, head: input.sourceBranch, base: input.targetBranch, title: input.title, body: input.description, draft: input.draft, request: request() })).data);
      return remember(pull);
    },
    async updateMergeRequest(number: number, input: UpdateMergeRequestInput) {
      const fields = { ...(input.title !== undefined ? { title: input.title } : {}), ...(input.description !== undefined ? { body: input.description } : {}) };
      let pull = await call<GithubPull>(`updating pull request #${number}`, checkPull, async () => (await octokit.rest.pulls.update({ owner, repo, pull_number: number, ...fields, request: request() })).data);
      if (input.draft !== undefined && (pull.draft === true) !== input.draft) {
        await setDraft(number, input.draft);
        pull = { ...pull, draft: input.draft };
      }
      return remember(pull);
    },
    async closeMergeRequest(number: number, comment: string) {
      await call(`commenting on pull request #${number}`, checkComment, async () => (await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body: comment, request: request() })).data);
      await call(`closing pull request #${number}`, checkPull, async () => (await octokit.rest.pulls.update({ owner, repo, pull_number: number, state: 'closed', request: request() })).data);
    },
    async listOpenMergeRequests(prefix: string) {
      const list = await call<GithubPull[]>('listing open pull requests', checkList, () => octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: 'open', per_page: 100, request: request() }));
      return list.filter((p) => p.head.ref.startsWith(prefix) && ours(p)).map(remember);
    },
  };
}
