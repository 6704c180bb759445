/**
 * One interface over the forges Berth opens merge requests on, one implementation per forge, picked from a
 * typed registry by berth.yml's `forge.type`. Verbs are plain calls; the idempotent `ensure…` logic that decides
 * which to make lives in propose.ts, once for all forges (validation and errors: forge-check.ts).
 */
import { UserError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { ForgeConfig, ForgeType } from './config.ts';
import { createGithubForge } from './github.ts';
import { createGitlabForge } from './gitlab.ts';
import { createLocalForge } from './local.ts';

/** A merge request (GitLab) or pull request (GitHub), as much of it as Berth reads. */
export interface MergeRequest {
  /** GitLab's iid, GitHub's number: what the web UI shows after `!` or `#`. */
  id: number;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  draft: boolean;
  url: string;
}

export interface CreateMergeRequestInput {
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string;
  draft: boolean;
}

export interface UpdateMergeRequestInput {
  title?: string;
  description?: string;
  draft?: boolean;
}

export interface Forge {
  readonly type: ForgeType;
  findOpenMergeRequest(sourceBranch: string): Promise<MergeRequest | undefined>;
  createMergeRequest(input: CreateMergeRequestInput): Promise<MergeRequest>;
  /** `title` is the plain title: a forge that marks drafts in the title adds or strips the marker itself. */
  updateMergeRequest(id: number, input: UpdateMergeRequestInput): Promise<MergeRequest>;
  /** Comments first, then closes, so the reason is there when the close notification arrives. */
  closeMergeRequest(id: number, comment: string): Promise<void>;
  /** Berth's own open merge requests: those whose source branch starts with `prefix`. */
  listOpenMergeRequests(prefix: string): Promise<MergeRequest[]>;
}

export interface ForgeOptions {
  log?: Logger;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /** The environment repository: where the `local` forge keeps its proposals. */
  repoDir?: string;
}

export type ForgeFactory = (config: ForgeConfig, token: string, opts: ForgeOptions) => Forge;

/** Arrow functions so the registry never reads an import before the module graph has finished loading. */
export const FORGES: Record<ForgeType, ForgeFactory> = {
  gitlab: (config, token, opts) => createGitlabForge(config, token, opts),
  github: (config, token, opts) => createGithubForge(config, token, opts),
  local: (config, _token, opts) => {
    if (!opts.repoDir) throw new Error('the local forge needs the environment repository\'s folder');
    return createLocalForge(config, opts.repoDir);
  },
};

/** The forge of an environment, with its token read from the variable berth.yml names. */
export function createForge(config: ForgeConfig, processEnv: Record<string, string | undefined>, opts: ForgeOptions = {}): Forge {
  if (config.type === 'local') return FORGES.local(config, '', opts);
  const token = processEnv[config.tokenEnv];
  if (!token) {
    throw new UserError('FORGE_TOKEN_MISSING', `the environment variable ${config.tokenEnv} (forge.token_env in berth.yml) is not set`, {
      data: { tokenEnv: config.tokenEnv },
      hint: `Set ${config.tokenEnv} to a ${config.type === 'gitlab' ? 'GitLab token with the api scope' : 'GitHub token allowed to write pull requests and contents'} where Berth runs.`,
    });
  }
  return FORGES[config.type](config, token, opts);
}
