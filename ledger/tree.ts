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

/** Per stack, the newest commit that changed its folder (first-parent changes, as `touching` finds them), at one head. */
export interface LatestIndex {
  head: string;
  latest: Map<string, CommitInfo>;
}

/**
 * The latest-change index at `head`, from the one at an earlier head when `head` descends from it (a deploy or a
 * fetch adds a few commits: only those are read), else from the whole log. One 'stacks' tree per new commit,
 * instead of a walk of the log per stack: a stack that was never deployed is answered without reading the log.
 */
export async function latestIndex(fs: GitFs, dir: string, head: string, previous?: LatestIndex): Promise<LatestIndex> {
  if (previous?.head === head) return previous;
  let log: CommitInfo[] = [];
  let known = -1;
  // With an earlier index the new commits are usually one or two: read the log in growing pages until it shows up.
  for (let depth: number | undefined = previous ? 16 : undefined; ; depth = depth! * 16 > 4096 ? undefined : depth! * 16) {
    log = await listCommits(dir, head, { fs, limit: depth });
    known = previous ? log.findIndex((c) => c.sha === previous.head) : -1;
    if (known >= 0 || depth === undefined || log.length < depth) break;
  }
  const folders = new StackFolders(fs, dir);
  const changed = async (c: CommitInfo) => {
    const [mine, parent] = [await folders.at(c.sha), await folders.at(c.parents[0])];
    return [...new Set([...mine.keys(), ...parent.keys()])].filter((s) => mine.get(s) !== parent.get(s));
  };
  if (previous && known >= 0) {
    const latest = new Map(previous.latest);
    for (const c of log.slice(0, known).reverse()) for (const s of await changed(c)) latest.set(s, c);
    return { head, latest };
  }
  const latest = new Map<string, CommitInfo>();
  for (const c of log) for (const s of await changed(c)) if (!latest.has(s)) latest.set(s, c);
  return { head, latest };
}

/** `stacks/` of a commit as stack → tree id, the last two kept: a walk down the log reads each commit's once. */
class StackFolders {
  private readonly recent: Array<[string, Promise<Map<string, string>>]> = [];

  constructor(private readonly fs: GitFs, private readonly dir: string) {}

  at(commit: string | undefined): Promise<Map<string, string>> {
    if (!commit) return Promise.resolve(new Map());
    const hit = this.recent.find(([c]) => c === commit);
    if (hit) return hit[1];
    const read = git.readTree({ fs: this.fs, dir: this.dir, oid: commit, filepath: 'stacks' }).then(
      (t) => new Map(t.tree.filter((e) => e.type === 'tree').map((e) => [e.path, e.oid])),
      (e: unknown) => ((e as { code?: string }).code === 'NotFoundError' ? new Map<string, string>() : Promise.reject(e)),
    );
    this.recent.push([commit, read]);
    if (this.recent.length > 2) this.recent.shift();
    return read;
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
