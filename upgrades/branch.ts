/**
 * The git side of a proposal: a private clone of the environment repository (never the operator's work tree),
 * and per stack a branch `berth/upgrade/<stack>` holding exactly one Berth commit on top of the target branch.
 * The branch belongs to Berth and is force-pushed when the proposal changes; one that someone else has
 * committed to is left alone, so a person finishing a draft never has their work overwritten.
 */
import path from 'node:path';
import git from 'isomorphic-git';
import fs from 'node:fs';
import { UserError } from '../lib/errors.ts';
import { parseRecipients, RECIPIENTS_FILE } from '../lib/secrets.ts';
import { commitFiles, fetchBranch, listCommits, pushBranch, readFilesAt, syncRepo, type Author } from '../lib/git/index.ts';
import type { Logger } from '../lib/log.ts';

export const BRANCH_PREFIX = 'berth/upgrade/';
export const DEFAULT_AUTHOR: Author = { name: 'Berth', email: 'berth@localhost' };
const TRAILER = 'Berth-Upgrade';

export interface RemoteSpec {
  url: string;
  token?: string;
  /** HTTP Basic user sent with the token: 'oauth2' suits GitLab, 'x-access-token' GitHub. */
  username?: string;
}

export interface EnvRepo {
  dir: string;
  /** The target branch's head: every proposal is built on it. */
  head: string;
  target: string;
  remote: RemoteSpec;
  author: Author;
  timeoutMs?: number;
  /** The repository is the environment folder itself (the `local` forge): branches are made there, never pushed. */
  local?: boolean;
}

export type BranchState =
  | { kind: 'missing' }
  /** Berth's own commit; `text` is the stack file on it (undefined when the commit lacks it). */
  | { kind: 'berth'; commit: string; parent?: string; text?: string }
  | { kind: 'foreign'; commit: string; author: string };

export function upgradeBranch(stack: string): string {
  return `${BRANCH_PREFIX}${stack}`;
}

export function stackOfBranch(branch: string): string | undefined {
  return branch.startsWith(BRANCH_PREFIX) ? branch.slice(BRANCH_PREFIX.length) || undefined : undefined;
}

/** Clones (first time) or fetches the target branch into `<cacheDir>/upgrades`. */
export async function openEnvRepo(remote: RemoteSpec, target: string, opts: { cacheDir: string; author?: Author; log?: Logger; timeoutMs?: number }): Promise<EnvRepo> {
  if (!/^https?:\/\//.test(remote.url)) return openLocalRepo(remote, target, opts.author);
  const source = { url: remote.url, branch: target, ...(remote.token ? { token: remote.token } : {}), ...(remote.username ? { username: remote.username } : {}) };
  const synced = await syncRepo(source, { cacheDir: path.join(opts.cacheDir, 'upgrades'), log: opts.log, timeoutMs: opts.timeoutMs });
  return { dir: synced.dir, head: synced.commit, target, remote, author: opts.author ?? DEFAULT_AUTHOR, timeoutMs: opts.timeoutMs };
}

/** The environment folder as the repository: proposals are built on its own `target` branch. */
async function openLocalRepo(remote: RemoteSpec, target: string, author?: Author): Promise<EnvRepo> {
  const head = await git.resolveRef({ fs, dir: remote.url, ref: `refs/heads/${target}` }).catch(() => undefined);
  if (!head) {
    throw new UserError('UPGRADES_NO_BRANCH', `the environment repository ${remote.url} has no branch ${target} to propose upgrades on`, {
      hint: 'Commit the environment (git add -A && git commit), or set forge.branch in berth.yml to the branch Berth deploys from.',
    });
  }
  return { dir: remote.url, head, target, remote, author: author ?? DEFAULT_AUTHOR, local: true };
}

/** `stacks/*.yml` at the target head, keyed by stack name (the file name without extension). */
export async function stackFilesAtHead(repo: EnvRepo): Promise<Map<string, { file: string; text: string }>> {
  const files = await readFilesAt(repo.dir, repo.head, 'stacks');
  const out = new Map<string, { file: string; text: string }>();
  for (const [name, text] of Object.entries(files)) {
    const m = /^([^/]+)\.ya?ml$/.exec(name);
    if (m && !out.has(m[1])) out.set(m[1], { file: `stacks/${name}`, text });
  }
  return out;
}

/** The environment's age recipients as the target head lists them: generated answers are encrypted for these. */
export async function recipientsAt(repo: EnvRepo): Promise<string[]> {
  const blob = await git.readBlob({ fs, dir: repo.dir, oid: repo.head, filepath: RECIPIENTS_FILE }).catch(() => undefined);
  return blob ? parseRecipients(Buffer.from(blob.blob).toString('utf8')) : [];
}

function remoteOpts(repo: EnvRepo, branch: string) {
  return { url: repo.remote.url, branch, ...(repo.remote.token ? { token: repo.remote.token } : {}), ...(repo.remote.username ? { username: repo.remote.username } : {}), ...(repo.timeoutMs ? { timeoutMs: repo.timeoutMs } : {}) };
}

/** What the remote holds on the stack's branch now. */
export async function branchState(repo: EnvRepo, stack: string, file: string): Promise<BranchState> {
  const commit = repo.local
    ? await git.resolveRef({ fs, dir: repo.dir, ref: `refs/heads/${upgradeBranch(stack)}` }).catch(() => null)
    : (await fetchBranch(repo.dir, remoteOpts(repo, upgradeBranch(stack)))).commit;
  if (!commit) return { kind: 'missing' };
  const [info] = await listCommits(repo.dir, commit, { limit: 1 });
  if (!info || info.author.email !== repo.author.email || info.trailers[TRAILER] === undefined) {
    return { kind: 'foreign', commit, author: info ? `${info.author.name} <${info.author.email}>` : 'unknown' };
  }
  const files = await readFilesAt(repo.dir, commit, path.posix.dirname(file));
  const text = files[path.posix.basename(file)];
  return { kind: 'berth', commit, ...(info.parents[0] ? { parent: info.parents[0] } : {}), ...(text !== undefined ? { text } : {}) };
}

export function commitMessage(title: string, stack: string, marker: string): string {
  return `${title}\n\nProposed by Berth: the stack's version bumped, its answers migrated as the new version asks, new answers\ngenerated (encrypted) or set to their defaults.\nThe merge request says what else changes.\n\n${TRAILER}: ${stack} ${marker}\n`;
}

/** One commit on the target head with the new stack file, force-pushed over whatever the branch held. */
export async function pushUpgrade(repo: EnvRepo, stack: string, file: string, text: string, message: string): Promise<string> {
  const branch = upgradeBranch(stack);
  const sha = await commitFiles(repo.dir, { branch, base: repo.head, files: { [file]: text }, message, author: repo.author });
  if (sha === null) throw new Error(`the upgrade of ${stack} changes nothing in ${file}`);
  if (!repo.local) await pushBranch(repo.dir, { ...remoteOpts(repo, branch), force: true });
  return sha;
}
