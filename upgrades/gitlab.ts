/**
 * Merge requests on GitLab (API v4) through @gitbeaker/rest. GitLab has no draft flag to set: a title starting
 * with `Draft:` makes a draft, so drafts are a matter of the title prefix, both ways.
 */
import { GitbeakerRequestError, GitbeakerTimeoutError, MergeRequestNotes, MergeRequests } from '@gitbeaker/rest';
import type { ForgeConfig } from './config.ts';
import type { CreateMergeRequestInput, Forge, ForgeOptions, MergeRequest, UpdateMergeRequestInput } from './forge.ts';
import { compileCheck, forgeError, validated } from './forge-check.ts';

/** The prefixes GitLab itself recognises as draft markers. */
const DRAFT_PREFIX = /^\s*(\[draft\]|\(draft\)|draft:|draft\s+-|\[wip\]|wip:)\s*/i;

interface GitlabMr {
  iid: number;
  title: string;
  description: string | null;
  source_branch: string;
  target_branch: string;
  state: string;
  web_url: string;
  draft?: boolean;
}

const MR_SCHEMA = {
  type: 'object',
  required: ['iid', 'title', 'source_branch', 'target_branch', 'state', 'web_url'],
  properties: {
    iid: { type: 'integer', minimum: 1 },
    title: { type: 'string' },
    description: { type: ['string', 'null'] },
    source_branch: { type: 'string' },
    target_branch: { type: 'string' },
    state: { type: 'string' },
    web_url: { type: 'string' },
    draft: { type: 'boolean' },
  },
};
const checkMr = compileCheck(MR_SCHEMA);
const checkList = compileCheck({ type: 'array', items: MR_SCHEMA });
const checkNote = compileCheck({ type: 'object', required: ['id'], properties: { id: { type: 'integer' } } });

export function gitlabTitle(title: string, draft: boolean): string {
  const plain = title.replace(DRAFT_PREFIX, '');
  return draft ? `Draft: ${plain}` : plain;
}

function toMergeRequest(mr: GitlabMr): MergeRequest {
  return {
    id: mr.iid,
    title: mr.title.replace(DRAFT_PREFIX, ''),
    description: mr.description ?? '',
    sourceBranch: mr.source_branch,
    targetBranch: mr.target_branch,
    draft: mr.draft ?? DRAFT_PREFIX.test(mr.title),
    url: mr.web_url,
  };
}

export function createGitlabForge(config: ForgeConfig, token: string, opts: ForgeOptions = {}): Forge {
  const settings = { host: config.apiUrl, token, queryTimeout: opts.timeoutMs ?? 30_000 };
  const mrs = new MergeRequests(settings);
  const notes = new MergeRequestNotes(settings);
  const project = /^\d+$/.test(config.project) ? Number(config.project) : config.project;

  /** Runs one API call; failures become Berth errors without the token, answers are checked before use. */
  async function call<T>(what: string, check: ReturnType<typeof compileCheck>, run: () => Promise<unknown>): Promise<T> {
    let raw: unknown;
    try {
      raw = await run();
    } catch (err) {
      if (err instanceof GitbeakerRequestError) {
        const status = (err.cause as { response?: { status?: number } } | undefined)?.response?.status;
        throw forgeError('gitlab', what, status, err.message, token);
      }
      throw forgeError('gitlab', what, undefined, err instanceof GitbeakerTimeoutError ? 'no answer in time' : String((err as Error)?.message ?? err), token);
    }
    return validated<T>(check, raw, what, 'gitlab');
  }

  const show = (iid: number) => call<GitlabMr>(`reading merge request !${iid}`, checkMr, () => mrs.show(project, iid));

  return {
    type: 'gitlab',
    async findOpenMergeRequest(sourceBranch) {
      const list = await call<GitlabMr[]>(`listing merge requests from ${sourceBranch}`, checkList, () => mrs.all({ projectId: project, state: 'opened', sourceBranch, perPage: 100 }));
      const mr = list.find((m) => m.source_branch === sourceBranch);
      return mr && toMergeRequest(mr);
    },
    async createMergeRequest(input: CreateMergeRequestInput) {
      const title = gitlabTitle(input.title, input.draft);
      const mr = await call<GitlabMr>(`opening a merge request from ${input.sourceBranch}`, checkMr, () =>
        // The branch is Berth's scratch space: deleting it on merge leaves nothing behind.
        mrs.create(project, input.sourceBranch, input.targetBranch, title, { description: input.description, removeSourceBranch: true }),
      );
      return toMergeRequest(mr);
    },
    async updateMergeRequest(iid: number, input: UpdateMergeRequestInput) {
      const changes: { title?: string; description?: string } = {};
      if (input.title !== undefined || input.draft !== undefined) {
        const current = input.title === undefined || input.draft === undefined ? toMergeRequest(await show(iid)) : undefined;
        changes.title = gitlabTitle(input.title ?? current!.title, input.draft ?? current!.draft);
      }
      if (input.description !== undefined) changes.description = input.description;
      return toMergeRequest(await call<GitlabMr>(`updating merge request !${iid}`, checkMr, () => mrs.edit(project, iid, changes)));
    },
    async closeMergeRequest(iid: number, comment: string) {
      await call(`commenting on merge request !${iid}`, checkNote, () => notes.create(project, iid, comment));
      await call(`closing merge request !${iid}`, checkMr, () => mrs.edit(project, iid, { stateEvent: 'close' }));
    },
    async listOpenMergeRequests(prefix: string) {
      const list = await call<GitlabMr[]>('listing open merge requests', checkList, () => mrs.all({ projectId: project, state: 'opened', perPage: 100 }));
      return list.filter((m) => m.source_branch.startsWith(prefix)).map(toMergeRequest);
    },
  };
}
