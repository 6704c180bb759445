/**
 * Reading history without a work tree: files as they were at a commit, and the commit log with the
 * trailers Berth writes (and reads back) to make each deploy commit self-describing.
 */
import git from 'isomorphic-git';
import { defaultFs, type GitFs } from './fs.ts';
import { flattenTree, readText, treeOf } from './tree.ts';

export { revertCommit } from './revert.ts';

/**
 * Every regular file under `prefix` (a folder; '' = the whole tree) at `commit` (a sha or ref), keyed by path
 * relative to `prefix`. A missing folder reads as empty; symlinks and submodules are skipped.
 */
export async function readFilesAt(dir: string, commit: string, prefix: string, opts: { fs?: GitFs } = {}): Promise<Record<string, string>> {
  const fs = opts.fs ?? defaultFs;
  const oid = await git.resolveRef({ fs, dir, ref: commit });
  const entries = await flattenTree(fs, dir, await treeOf(fs, dir, oid), prefix);
  const out: Record<string, string> = {};
  for (const [path, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (e.mode === '100644' || e.mode === '100755') out[path] = await readText(fs, dir, e.oid);
  }
  return out;
}

export interface CommitInfo {
  sha: string;
  message: string;
  /** First line of the message. */
  subject: string;
  author: { name: string; email: string };
  /** Author time, seconds since the epoch (git's unit). */
  timestamp: number;
  parents: string[];
  trailers: Record<string, string>;
}

/** Newest first, following first parents and merges as `git log` does. A missing branch has no commits. */
export async function listCommits(dir: string, branch: string, opts: { limit?: number; fs?: GitFs } = {}): Promise<CommitInfo[]> {
  const fs = opts.fs ?? defaultFs;
  let log: Awaited<ReturnType<typeof git.log>>;
  try {
    log = await git.log({ fs, dir, ref: branch, depth: opts.limit });
  } catch (err) {
    if ((err as { code?: string })?.code === 'NotFoundError') return [];
    throw err;
  }
  return log.map(({ oid, commit }) => ({
    sha: oid,
    message: commit.message,
    subject: commit.message.split('\n', 1)[0] ?? '',
    author: { name: commit.author.name, email: commit.author.email },
    timestamp: commit.author.timestamp,
    parents: commit.parent,
    trailers: parseTrailers(commit.message),
  }));
}

/**
 * `Key: value` lines of the message's last paragraph, as git-interpret-trailers reads them: the paragraph must
 * not be the subject, every line must be a trailer (or an indented continuation). A repeated key keeps its last value.
 */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.replace(/\r\n/g, '\n').trim().split(/\n[ \t]*\n/);
  if (paragraphs.length < 2) return {};
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of paragraphs[paragraphs.length - 1]!.split('\n')) {
    if (/^[ \t]/.test(line) && last) {
      out[last] = `${out[last]} ${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*(.*)$/.exec(line);
    if (!m) return {};
    last = m[1]!;
    out[last] = m[2]!.trim();
  }
  return out;
}

/** The sha a revert commit undoes, from git's `This reverts commit <sha>.` line; null if not a revert. */
export function isRevertOf(message: string): string | null {
  return /^This reverts commit ([0-9a-f]{7,64})\b/m.exec(message)?.[1] ?? null;
}
