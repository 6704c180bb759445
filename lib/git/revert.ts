/**
 * `git revert` for the case without conflicts, done on objects: every file the reverted commit touched goes
 * back to its content in that commit's parent. Where git would fall back to a line-level three-way merge, this
 * refuses instead (a deploy ledger should never be merged by guesswork).
 */
import git from 'isomorphic-git';
import { ConflictError, UserError } from '../errors.ts';
import { defaultFs, type GitFs } from './fs.ts';
import { commitChanges, readRef, type Author } from './commit.ts';
import { EMPTY_TREE, flattenTree, treeOf, type FileEntry, type TreeChanges } from './tree.ts';

export interface RevertOptions {
  branch: string;
  /** The commit to undo (full or abbreviated sha). */
  commit: string;
  author: Author;
  /** Replaces git's message entirely; prefer `trailers`, which keeps the message git-compatible. */
  message?: string;
  /** Appended as a final `Key: value` paragraph. */
  trailers?: Record<string, string>;
  fs?: GitFs;
}

/** Returns the revert commit's sha, or null when the branch already has the parent's content for every file. */
export async function revertCommit(dir: string, opts: RevertOptions): Promise<string | null> {
  const fs = opts.fs ?? defaultFs;
  const sha = opts.commit.length < 40 ? await git.expandOid({ fs, dir, oid: opts.commit }) : opts.commit;
  const { commit } = await git.readCommit({ fs, dir, oid: sha });
  if (commit.parent.length > 1) {
    throw new UserError('REVERT_MERGE_COMMIT', `commit ${sha} is a merge; say which side to keep by reverting one of its parents' changes instead`, { data: { commit: sha } });
  }
  const head = await readRef(fs, dir, `refs/heads/${opts.branch}`);
  if (head === null) throw new UserError('BRANCH_NOT_FOUND', `there is no branch ${opts.branch} to revert on`, { data: { branch: opts.branch } });
  const before = await flattenTree(fs, dir, commit.parent[0] ? await treeOf(fs, dir, commit.parent[0]) : EMPTY_TREE);
  const after = await flattenTree(fs, dir, commit.tree);
  const now = await flattenTree(fs, dir, await treeOf(fs, dir, head));

  const changes: TreeChanges = new Map();
  const conflicts: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(path);
    const became = after.get(path);
    if (same(was, became)) continue;
    const current = now.get(path);
    if (same(current, became)) changes.set(path, was ? { oid: was.oid, mode: was.mode } : null);
    else if (!same(current, was)) conflicts.push(path);
  }
  if (conflicts.length > 0) {
    throw new ConflictError('REVERT_CONFLICT', `cannot revert ${sha.slice(0, 12)}: changed since on ${opts.branch}: ${conflicts.sort().join(', ')}`, {
      data: { commit: sha, branch: opts.branch, files: conflicts },
      hint: 'Edit those files by hand, or revert the later commits first.',
    });
  }
  return commitChanges(dir, { fs, branch: opts.branch, parent: head, changes, author: opts.author, message: opts.message ?? revertMessage(commit.message, sha, opts.trailers) });
}

/** Exactly what `git revert --no-edit` writes (the subject is the message's first line). */
export function revertMessage(message: string, sha: string, trailers: Record<string, string> = {}): string {
  const subject = message.split('\n', 1)[0] ?? '';
  const extra = Object.entries(trailers).map(([k, v]) => `${k}: ${v}`);
  return `Revert "${subject}"\n\nThis reverts commit ${sha}.\n${extra.length ? `\n${extra.join('\n')}\n` : ''}`;
}

function same(a: FileEntry | undefined, b: FileEntry | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.oid === b.oid && a.mode === b.mode);
}
