/**
 * Reading the ledger branch stack by stack: which commits changed `stacks/<stack>/`, who made them (Berth, or a
 * person reverting), and which earlier deploy a restored state came from. Reads only; ledger.ts writes.
 */
import git from 'isomorphic-git';
import { listCommits, isRevertOf, type CommitInfo } from '../lib/git/index.ts';
import type { GitFs } from '../lib/git/fs.ts';
import { readTrailers } from './record.ts';

export const stackDir = (stack: string) => `stacks/${stack}`;

/**
 * A stack folder's tree id at a commit never changes: one cache of them can serve every view of the branch,
 * which matters because each question about a stack walks the same commits. Bounded by dropping it whole.
 */
export class FolderOids {
  private readonly oids = new Map<string, Promise<string | null>>();

  constructor(private readonly fs: GitFs, private readonly dir: string, private readonly limit = 50_000) {}

  /** The object id of `stacks/<stack>` at `commit`, null when the folder is absent. */
  get(commit: string | undefined, stack: string): Promise<string | null> {
    if (!commit) return Promise.resolve(null);
    const key = `${commit}:${stack}`;
    let found = this.oids.get(key);
    if (!found) {
      if (this.oids.size >= this.limit) this.oids.clear();
      found = git.readTree({ fs: this.fs, dir: this.dir, oid: commit, filepath: stackDir(stack) }).then((t) => t.oid, (e: unknown) => {
        // Only "no such folder" is a fact about the commit; a failed read (EMFILE, say) is asked again next time.
        if ((e as { code?: string }).code !== 'NotFoundError') this.oids.delete(key);
        return null;
      });
      this.oids.set(key, found);
    }
    return found;
  }
}

/** The branch as seen by one caller, at `ref` (a branch name, or a commit to pin the view to one head). */
export class LedgerView {
  private readonly logs = new Map<number | undefined, Promise<CommitInfo[]>>();
  private readonly oids: FolderOids;

  constructor(private readonly fs: GitFs, private readonly dir: string, private readonly ref: string, oids?: FolderOids) {
    this.oids = oids ?? new FolderOids(fs, dir);
  }

  stackOid(commit: string | undefined, stack: string): Promise<string | null> {
    return this.oids.get(commit, stack);
  }

  private log(depth: number | undefined): Promise<CommitInfo[]> {
    let found = this.logs.get(depth);
    if (!found) {
      found = listCommits(this.dir, this.ref, { fs: this.fs, limit: depth });
      this.logs.set(depth, found);
    }
    return found;
  }

  /** Commits that changed the stack's folder, newest first (first-parent changes, as `git log -- stacks/x` shows them). */
  async touching(stack: string, limit = Infinity): Promise<CommitInfo[]> {
    // The log is read in growing pages: the newest change to a stack is usually near the head of a long ledger.
    for (let depth = Number.isFinite(limit) ? Math.max(64, limit * 8) : undefined; ; depth = depth! * 8) {
      const log = await this.log(depth);
      const out: CommitInfo[] = [];
      for (const c of log) {
        if ((await this.stackOid(c.sha, stack)) !== (await this.stackOid(c.parents[0], stack))) out.push(c);
        if (out.length >= limit) return out;
      }
      if (depth === undefined || log.length < depth) return out;
    }
  }

  /**
   * The newest Berth deploy older than `head` whose stack folder is exactly the one at `head`: the deploy a revert
   * (or a `berth rollback --to`) brought back. Undefined when the state matches no deploy (a hand edit).
   */
  async restoredFrom(stack: string, head: CommitInfo): Promise<string | undefined> {
    const want = await this.stackOid(head.sha, stack);
    let past = false;
    for (const c of await this.touching(stack)) {
      if (c.sha === head.sha) past = true;
      else if (past && isBerthCommit(c, stack) && (await this.stackOid(c.sha, stack)) === want) return c.sha;
    }
    return undefined;
  }
}

/** Made by Berth's deploy (not by a person, and not by `berth rollback`, which records a person's intent). */
export function isBerthCommit(c: CommitInfo, stack: string): boolean {
  const t = readTrailers(c.message);
  return t.stack === stack && t.rollbackTo === undefined;
}

/** The commit a person's change undid or restored: git's revert line, `Berth-Rollback-To`, else the change itself. */
export function personTarget(c: CommitInfo): string {
  return isRevertOf(c.message) ?? readTrailers(c.message).rollbackTo ?? c.sha;
}
