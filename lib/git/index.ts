/** Berth's git layer: every git operation the product does goes through here, on isomorphic-git. */
export { type RepoSource, describeSource, scrubCredentials } from './source.ts';
export { syncRepo, type SyncOptions, type SyncResult } from './sync.ts';
export { WORKING_TREE } from './local.ts';
export { RepoWatcher, backoffDelay, type WatchedState, type WatcherOptions, type BackoffOptions } from './watcher.ts';
export { commitFiles, commitChanges, type Author, type CommitFilesOptions } from './commit.ts';
export { pushBranch, fetchBranch, type FetchBranchResult } from './push.ts';
export { readFilesAt, listCommits, parseTrailers, isRevertOf, type CommitInfo } from './read.ts';
export { revertCommit, revertMessage, type RevertOptions } from './revert.ts';
