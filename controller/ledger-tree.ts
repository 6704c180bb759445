/**
 * Reading the ledger branch stack by stack: which commits changed `stacks/<stack>/`, who made them (Berth, or a
 * person reverting), and which earlier deploy a restored state came from. Reads only; ledger.ts writes.
 */
import git from 'isomorphic-git';
import { listCommits, isRevertOf, type CommitInfo } from '../lib/git/index.ts';
import type { GitFs } from '../lib/git/fs.ts';
import { readTrailers } from './ledger-record.ts';

export const stackDir = (stack: string) => `stacks/${stack}`;

/** The branch as seen by one caller: tree lookups are cached, since every query walks the same commits. */
export class LedgerView {
  private readonly oids = new Map<string, Promise<string | null>>();

  constructor(private readonly fs: GitFs, private readonly dir: string, private readonly branch: string) {}

  /** The object id of `stacks/<stack>` at `commit`, null when the folder is absent. */
  stackOid(commit: string | undefined, stack: string): Promise<string | null> {
    if (!commit) return Promise.resolve(null);
    const key = `${commit}:${stack}`;
    let found = this.oids.get(key);
    if (!found) {
      found = git.readTree({ fs: this.fs, dir: this.dir, oid: commit, filepath: stackDir(stack) }).then((t) => t.oid, () => null);
      this.oids.set(key, found);
    }
    return found;
  }

  /** Commits that changed the stack's folder, newest first (first-parent changes, as `git log -- stacks/x` shows them). */
  async touching(stack: string, limit = Infinity): Promise<CommitInfo[]> {
    // The log is read in growing pages: the newest change to a stack is usually near the head of a long ledger.
    for (let depth = Number.isFinite(limit) ? Math.max(64, limit * 8) : undefined; ; depth = depth! * 8) {
      const log = await listCommits(this.dir, this.branch, { fs: this.fs, limit: depth });
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
