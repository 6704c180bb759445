/**
 * Moving one branch between a local repository and its remote: the ledger branch goes up after each deploy,
 * and comes down before one, since another controller or a person may have appended (or reverted) since.
 */
import git from 'isomorphic-git';
import { defaultFs, type GitFs } from './fs.ts';
import { readRef } from './commit.ts';
import { failpoint } from '../failpoint.ts';
import { prepareRemote, toRemoteError, withDeadline, type RemoteOptions } from './transport.ts';

export interface BranchRemoteOptions extends RemoteOptions {
  branch: string;
  fs?: GitFs;
}

/** Pushes local `branch` to the same name on `url`. A non-fast-forward is ConflictError('PUSH_REJECTED') unless `force`. */
export async function pushBranch(dir: string, opts: BranchRemoteOptions & { force?: boolean }): Promise<{ commit: string }> {
  const fs = opts.fs ?? defaultFs;
  const remote = prepareRemote(opts);
  const commit = await git.resolveRef({ fs, dir, ref: `refs/heads/${opts.branch}` });
  await failpoint('push');
  try {
    await withDeadline(remote, () =>
      git.push({ fs, http: remote.http, onAuth: remote.onAuth, dir, url: remote.url, remote: 'origin', ref: opts.branch, remoteRef: opts.branch, force: opts.force, signal: remote.signal }),
    );
  } catch (err) {
    throw toRemoteError(err, remote, `pushing ${opts.branch} to`);
  }
  return { commit };
}

export interface FetchBranchResult {
  /** The remote branch head, or null when the remote has no such branch (yet). */
  commit: string | null;
  /** The local branch head after the fetch (and the fast-forward, if asked for and possible). */
  local: string | null;
}

/**
 * Fetches `branch` into refs/remotes/origin/<branch>. With `fastForward`, also moves the local branch when it
 * is missing or strictly behind; a diverged or ahead local branch is left for the caller to reconcile.
 */
export async function fetchBranch(dir: string, opts: BranchRemoteOptions & { fastForward?: boolean }): Promise<FetchBranchResult> {
  const fs = opts.fs ?? defaultFs;
  const remote = prepareRemote(opts);
  const localRef = `refs/heads/${opts.branch}`;
  let commit: string | null;
  try {
    const res = await withDeadline(remote, () =>
      git.fetch({ fs, http: remote.http, onAuth: remote.onAuth, dir, url: remote.url, remote: 'origin', ref: opts.branch, remoteRef: opts.branch, singleBranch: true, tags: false }),
    );
    commit = res.fetchHead ?? null; // an empty repository has no refs at all
  } catch (err) {
    if ((err as { code?: string })?.code !== 'NotFoundError') throw toRemoteError(err, remote, `fetching ${opts.branch} from`);
    commit = null;
  }
  let local = await readRef(fs, dir, localRef);
  if (opts.fastForward && commit && commit !== local && (await canFastForward(fs, dir, opts.branch, local, commit))) {
    await git.writeRef({ fs, dir, ref: localRef, value: commit, force: true });
    local = commit;
  }
  return { commit, local };
}

async function canFastForward(fs: GitFs, dir: string, branch: string, local: string | null, remote: string): Promise<boolean> {
  // Moving the checked-out branch would leave the work tree describing the old commit; syncRepo owns that one.
  if ((await git.currentBranch({ fs, dir }).catch(() => undefined)) === branch) return false;
  if (local === null) return true;
  return git.isDescendent({ fs, dir, oid: remote, ancestor: local, depth: -1 });
}
