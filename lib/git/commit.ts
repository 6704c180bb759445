/**
 * Commits straight into the object database: the new tree is built from the branch's current tree, the
 * branch ref moves with a compare-and-swap, and neither the work tree, the index nor HEAD is touched. That is
 * what lets the controller append to the ledger branch `berth/deployed` while another branch is checked out.
 */
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { ConflictError } from '../errors.ts';
import { failpoint } from '../failpoint.ts';
import { defaultFs, type GitFs } from './fs.ts';
import { applyChanges, EMPTY_TREE, normalizePath, treeOf, type TreeChanges } from './tree.ts';

export interface Author {
  name: string;
  email: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Minutes, JS sign convention (Date#getTimezoneOffset); default the local zone. */
  timezoneOffset?: number;
}

interface CommitBase {
  branch: string;
  message: string;
  author: Author;
  committer?: Author;
  /** The commit the branch must still be at; null = the branch must not exist yet. Default: whatever it is now. */
  parent?: string | null;
  /**
   * Build on this commit instead of the branch's head, replacing whatever the branch held (still compare-and-swap
   * on `parent`): how a proposal branch is rewritten on top of a moved target branch.
   */
  base?: string;
  fs?: GitFs;
  /** Told of a lock a dead process left, taken over (this layer has no logger). */
  onStaleLock?: StaleLockHandler;
}

export type StaleLockHandler = (lock: string, ageMs: number) => void;

export interface CommitFilesOptions extends CommitBase {
  /** path → new text, or null to delete the file. */
  files: Record<string, string | null>;
}

/** One commit on `branch` (created as an orphan if missing). Returns its sha, or null when nothing changed. */
export async function commitFiles(dir: string, opts: CommitFilesOptions): Promise<string | null> {
  const fs = opts.fs ?? defaultFs;
  const changes: TreeChanges = new Map();
  for (const [path, text] of Object.entries(opts.files)) {
    changes.set(normalizePath(path), text === null ? null : { oid: await git.writeBlob({ fs, dir, blob: Buffer.from(text, 'utf8') }) });
  }
  return commitChanges(dir, { ...opts, fs, changes });
}

/** The blob-level form of commitFiles, for callers (like revert) that already have objects and modes. */
export async function commitChanges(dir: string, opts: CommitBase & { changes: TreeChanges }): Promise<string | null> {
  const fs = opts.fs ?? defaultFs;
  const ref = `refs/heads/${opts.branch}`;
  const head = await readRef(fs, dir, ref);
  const expected = opts.parent === undefined ? head : opts.parent;
  if (head !== expected) throw refMoved(opts.branch, expected, head);
  const from = opts.base ?? head;
  const baseTree = from ? await treeOf(fs, dir, from) : null;
  const tree = await applyChanges(fs, dir, baseTree, opts.changes);
  if (tree === (baseTree ?? EMPTY_TREE)) return null;
  const author = signature(opts.author);
  const sha = await git.writeCommit({
    fs,
    dir,
    commit: { tree, parent: from ? [from] : [], author, committer: opts.committer ? signature(opts.committer) : author, message: withFinalNewline(opts.message) },
  });
  await failpoint('objects-written');
  await casRef(fs, dir, ref, head, sha, opts.branch, opts.onStaleLock);
  return sha;
}

export async function readRef(fs: GitFs, dir: string, ref: string): Promise<string | null> {
  return git.resolveRef({ fs, dir, ref }).catch(() => null);
}

/**
 * A ref lock lives for the milliseconds between its creation and its rename, in Berth as in git. One that is
 * still there after this long was left by a process that died holding it (a crash, a SIGKILL): waiting longer
 * would only leave every later deploy unrecorded.
 */
export const STALE_LOCK_MS = 2_000;
const LOCK_POLL_MS = 100;

/**
 * Moves `ref` from `expected` to `value` under git's own lock protocol (`<ref>.lock`, created exclusively,
 * renamed into place), so a concurrent `git` CLI or a second Berth process cannot interleave.
 */
async function casRef(fs: GitFs, dir: string, ref: string, expected: string | null, value: string, branch: string, onStale?: StaleLockHandler): Promise<void> {
  const file = join(dir, '.git', ref);
  const lock = `${file}.lock`;
  await fs.promises.mkdir(dirname(file), { recursive: true });
  const handle = await takeLock(fs, lock, branch, onStale);
  let renamed = false;
  let open = true;
  try {
    await failpoint('ref-locked');
    const now = await readRef(fs, dir, ref);
    if (now !== expected) throw refMoved(branch, expected, now);
    await handle.writeFile(`${value}\n`);
    await handle.close();
    open = false;
    await failpoint('ref-lock-written');
    await fs.promises.rename(lock, file);
    renamed = true;
    await failpoint('ref-updated');
  } finally {
    if (open) await handle.close();
    // Once renamed, a lock at that path belongs to the next writer.
    if (!renamed) await fs.promises.rm(lock, { force: true });
  }
}

type LockHandle = Awaited<ReturnType<GitFs['promises']['open']>>;

/** Creates the lock; a lock someone holds is waited for, one older than STALE_LOCK_MS is taken over. */
async function takeLock(fs: GitFs, lock: string, branch: string, onStale?: StaleLockHandler): Promise<LockHandle> {
  const until = Date.now() + STALE_LOCK_MS + LOCK_POLL_MS;
  for (;;) {
    try {
      return await fs.promises.open(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = await fs.promises.stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age >= STALE_LOCK_MS) {
      // rm then an exclusive create: of two processes taking over at once, only one gets the lock.
      await fs.promises.rm(lock, { force: true });
      onStale?.(lock, age);
      continue;
    }
    if (Date.now() > until) {
      throw new ConflictError('REF_MOVED', `branch ${branch} is being updated by someone else (${lock} exists)`, {
        data: { branch, locked: true },
        hint: `Retry shortly; if no git process is running, remove ${lock}.`,
      });
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

function refMoved(branch: string, expected: string | null, actual: string | null): ConflictError {
  return new ConflictError('REF_MOVED', `branch ${branch} moved: expected ${expected ?? '(no branch)'}, found ${actual ?? '(no branch)'}`, {
    data: { branch, expected, actual },
    hint: 'Re-read the branch and rebuild the commit on top of it.',
  });
}

function signature(a: Author) {
  return { name: a.name, email: a.email, timestamp: a.timestamp ?? Math.floor(Date.now() / 1000), timezoneOffset: a.timezoneOffset ?? new Date().getTimezoneOffset() };
}

/** Git stores messages with a final newline; matching it keeps CLI- and Berth-made commits alike. */
function withFinalNewline(message: string): string {
  return message.endsWith('\n') ? message : `${message}\n`;
}
