/**
 * Brings a local copy of a repository up to date: clone once into the cache, then fetch incrementally and
 * force the work tree to the remote branch head. Local paths are used in place (see local.ts).
 */
import { join } from 'node:path';
import git, { type HttpClient } from 'isomorphic-git';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { cacheName, describeSource, isUrlSource, scrubCredentials, type RepoSource, type UrlSource } from './source.ts';
import { defaultFs, replaceDir, tempSibling, type GitFs } from './fs.ts';
import { prepareRemote, toRemoteError, withDeadline, type Remote } from './transport.ts';
import { BerthError } from '../errors.ts';
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
  /** The cache clone was damaged (why) and was cloned again from the remote; local-only commits in it are gone. */
  rebuilt?: string;
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
  if (previous === null) {
    await clone(fs, remote, dir, source.branch, opts.depth);
    return settle(fs, dir, source.branch, previous, undefined);
  }
  try {
    // The first sync of a process reads what it inherited: a clone damaged by a crash or a disk must not
    // deploy (or record) from objects it cannot read back.
    if (opts.checkedOut === undefined) await verifyClone(fs, dir);
    try {
      await withDeadline(remote, () => fetchInto(fs, remote, dir, source.branch, opts.depth));
    } catch (err) {
      throw toRemoteError(err, remote, 'fetching');
    }
    return await settle(fs, dir, source.branch, previous, opts.checkedOut);
  } catch (err) {
    // The remote's own failures (down, refused, no such branch) leave the clone as it is: it is the last known state.
    if (err instanceof BerthError && err.kind !== 'internal') throw err;
    // Anything else is this clone's own damage (a torn pack, index or ref): it is a cache, so it is made again.
    const why = scrubCredentials(damage(err), remote.secrets);
    await clone(fs, remote, dir, source.branch, opts.depth);
    return { ...(await settle(fs, dir, source.branch, null, undefined)), rebuilt: why };
  }
}

async function clone(fs: GitFs, remote: Remote, dir: string, branch: string, depth?: number): Promise<void> {
  try {
    await cloneInto(fs, remote, dir, branch, depth);
  } catch (err) {
    throw toRemoteError(err, remote, 'cloning');
  }
}

/** Points the branch at what was fetched and checks it out unless this process already did. */
async function settle(fs: GitFs, dir: string, branch: string, previous: string | null, checkedOut: string | undefined): Promise<SyncResult> {
  const commit = await git.resolveRef({ fs, dir, ref: `refs/remotes/origin/${branch}` });
  await git.writeRef({ fs, dir, ref: `refs/heads/${branch}`, value: commit, force: true });
  // A forced checkout (the hard reset that undoes stray edits) whenever this process has not checked this commit
  // out itself: the first sync after a start, which may follow a crash in the middle of a checkout, and every move.
  if (commit !== previous || checkedOut !== commit) await git.checkout({ fs, dir, ref: branch, force: true });
  return { dir, commit, changed: commit !== previous };
}

/**
 * Reads back the head commit and every object of its tree on each local branch (the environment's and the
 * ledger's): isomorphic-git inflates each, so a torn pack or loose object throws here, not in a later deploy.
 * The index is read too (a torn one fails every checkout). History beyond the heads is not walked.
 */
async function verifyClone(fs: GitFs, dir: string): Promise<void> {
  for (const ref of await git.listBranches({ fs, dir })) {
    const oid = await git.resolveRef({ fs, dir, ref });
    const { commit } = await git.readCommit({ fs, dir, oid });
    // Blobs only: a submodule's commit is not in this repository.
    await git.walk({ fs, dir, trees: [git.TREE({ ref: commit.tree })], map: async (_path, [entry]) => void ((await entry?.type()) === 'blob' && (await entry!.content())) });
  }
  await git.statusMatrix({ fs, dir, filepaths: ['.berth-index-check'] });
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

/** isomorphic-git's InternalError says only "An internal error caused this command to fail"; its data says what. */
function damage(err: unknown): string {
  const e = err as { code?: string; message?: string; data?: { message?: string } };
  const detail = typeof e?.data?.message === 'string' ? e.data.message : String(e?.message ?? err);
  return e?.code && !(err instanceof BerthError) ? `${e.code}: ${detail}` : detail;
}
