/**
 * Brings a local copy of a repository up to date: clone once into the cache, then fetch incrementally and
 * force the work tree to the remote branch head. Local paths are used in place (see local.ts).
 */
import { join } from 'node:path';
import git, { type HttpClient } from 'isomorphic-git';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { cacheName, describeSource, isUrlSource, type RepoSource, type UrlSource } from './source.ts';
import { defaultFs, replaceDir, tempSibling, type GitFs } from './fs.ts';
import { prepareRemote, toRemoteError, withDeadline, type Remote } from './transport.ts';
import { syncLocal } from './local.ts';

export interface SyncOptions {
  cacheDir: string;
  log?: Logger;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Shallow clone depth. Leave unset for the environment repository: the ledger needs full history. */
  depth?: number;
  fs?: GitFs;
  http?: HttpClient;
  /**
   * The commit this process last checked out into the cache folder. When the branch is still there, the work
   * tree is left alone: nothing but this process writes it, and an idle poll should not walk every file.
   */
  checkedOut?: string;
}

export interface SyncResult {
  /** Folder holding the work tree at `commit`. */
  dir: string;
  /** Commit sha, or 'working-tree' for a plain folder. */
  commit: string;
  /** Whether `commit` differs from what the previous sync saw (always true for a plain folder). */
  changed: boolean;
}

export async function syncRepo(source: RepoSource, opts: SyncOptions): Promise<SyncResult> {
  const log = opts.log ?? silentLogger;
  const result = isUrlSource(source) ? await syncRemote(source, opts) : await syncLocal(source, { ...opts, fs: opts.fs ?? defaultFs });
  log.debug({ repo: describeSource(source), commit: result.commit, changed: result.changed }, 'repository synced');
  return result;
}

async function syncRemote(source: UrlSource, opts: SyncOptions): Promise<SyncResult> {
  const fs = opts.fs ?? defaultFs;
  const remote = prepareRemote({ ...source, http: opts.http, signal: opts.signal, timeoutMs: opts.timeoutMs });
  const dir = join(opts.cacheDir, cacheName(source.url, source.branch));
  const branchRef = `refs/heads/${source.branch}`;
  const previous = await git.resolveRef({ fs, dir, ref: branchRef }).catch(() => null);
  try {
    if (previous === null) await cloneInto(fs, remote, dir, source.branch, opts.depth);
    else await withDeadline(remote, () => fetchInto(fs, remote, dir, source.branch, opts.depth));
  } catch (err) {
    throw toRemoteError(err, remote, previous === null ? 'cloning' : 'fetching');
  }
  const commit = await git.resolveRef({ fs, dir, ref: `refs/remotes/origin/${source.branch}` });
  await git.writeRef({ fs, dir, ref: branchRef, value: commit, force: true });
  // A forced checkout (the hard reset that undoes stray edits) whenever this process has not checked this commit
  // out itself: the first sync after a start, which may follow a crash in the middle of a checkout, and every move.
  if (commit !== previous || opts.checkedOut !== commit) await git.checkout({ fs, dir, ref: source.branch, force: true });
  return { dir, commit, changed: commit !== previous };
}

/** Clones beside the final folder and renames, so an interrupted clone never looks like a cache. */
async function cloneInto(fs: GitFs, remote: Remote, dir: string, branch: string, depth?: number): Promise<void> {
  const tmp = tempSibling(dir);
  await fs.promises.mkdir(tmp, { recursive: true });
  try {
    await withDeadline(remote, () =>
      git.clone({ fs, http: remote.http, onAuth: remote.onAuth, dir: tmp, url: remote.url, ref: branch, singleBranch: true, noTags: true, noCheckout: true, depth }),
    );
    await replaceDir(fs, tmp, dir);
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

function fetchInto(fs: GitFs, remote: Remote, dir: string, branch: string, depth?: number) {
  return git.fetch({ fs, http: remote.http, onAuth: remote.onAuth, dir, url: remote.url, remote: 'origin', ref: branch, remoteRef: branch, singleBranch: true, tags: false, depth });
}
