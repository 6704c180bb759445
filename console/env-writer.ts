/**
 * The console's writes to the environment repository, each authored by the person who made it: a commit on
 * the deployed branch, pushed to the repository serve watches, or a branch and a merge request when the person
 * may only propose. Writes go through a private clone (never the controller's), one at a time; a push that lost a
 * race is rebuilt on the new head once, since the console's change is one file the person just saw.
 */
import path from 'node:path';
import { commitFiles, pushBranch, syncRepo, type Author } from '../lib/git/index.ts';
import { BerthError, UserError } from '../lib/errors.ts';
import type { RepoSource } from '../lib/git/source.ts';
import type { Logger } from '../lib/log.ts';
import type { ForgeConfig } from '../upgrades/config.ts';
import type { MergeRequest } from '../upgrades/forge.ts';

export interface WriteRequest {
  files: Record<string, string | null>;
  message: string;
  author: Author;
}

export interface ProposeRequest extends WriteRequest {
  branch: string;
  title: string;
  description: string;
}

export class EnvWriter {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: RepoSource, private readonly cacheDir: string, private readonly log: Logger) {}

  private remote() {
    const s = this.source;
    if (!('url' in s)) {
      throw new UserError('CONSOLE_NEEDS_REMOTE', 'the console writes to the environment repository by push, and berth serve reads a local folder', {
        hint: 'Start berth serve with --env https://…/env.git (the repository people push to), or commit by hand.',
      });
    }
    return { url: s.url, branch: s.branch, ...(s.token ? { token: s.token } : {}), ...(s.username ? { username: s.username } : {}) };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.catch(() => undefined).then(fn);
    this.tail = next;
    return next;
  }

  private async clone(): Promise<{ dir: string; head: string }> {
    const synced = await syncRepo(this.remote(), { cacheDir: path.join(this.cacheDir, 'console'), log: this.log });
    return { dir: synced.dir, head: synced.commit };
  }

  /** The head of the deployed branch now, and its work tree (for the file an edit starts from). */
  head(): Promise<{ dir: string; head: string }> {
    return this.serial(() => this.clone());
  }

  /** One commit on the deployed branch; returns its sha (null when it changes nothing). */
  commit(req: WriteRequest): Promise<string | null> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const { dir, head } = await this.clone();
        const remote = this.remote();
        const sha = await commitFiles(dir, { branch: remote.branch, parent: head, files: req.files, message: req.message, author: req.author });
        if (!sha) return null;
        try {
          await pushBranch(dir, remote);
          this.log.info({ commit: sha, author: req.author.name }, `console: ${req.message.split('\n', 1)[0]}`);
          return sha;
        } catch (e) {
          if (attempt > 0 || !(e instanceof BerthError && e.kind === 'conflict')) throw e;
        }
      }
    });
  }

  /** A branch off the deployed branch with the change, pushed, and a merge request for it. */
  propose(req: ProposeRequest, forge: ForgeConfig, processEnv: Record<string, string | undefined>): Promise<{ commit: string; mergeRequest: MergeRequest }> {
    return this.serial(async () => {
      const { dir, head } = await this.clone();
      const remote = this.remote();
      const sha = await commitFiles(dir, { branch: req.branch, base: head, parent: undefined, files: req.files, message: req.message, author: req.author });
      if (!sha) throw new UserError('PROPOSAL_EMPTY', 'the proposal changes nothing');
      await pushBranch(dir, { ...remote, branch: req.branch, force: true });
      const { createForge } = await import('../upgrades/forge.ts');
      const f = createForge(forge, processEnv, { log: this.log });
      const mergeRequest = await f.createMergeRequest({ sourceBranch: req.branch, targetBranch: forge.branch, title: req.title, description: req.description, draft: false });
      this.log.info({ commit: sha, author: req.author.name, mergeRequest: mergeRequest.url }, `console: proposed ${req.title}`);
      return { commit: sha, mergeRequest };
    });
  }
}
