/**
 * The commits `berth rollback` makes on the ledger branch. Both record a person's intent — a plain git revert,
 * or a restore marked `Berth-Rollback-To` — and carry no `Berth-Stack` trailer, so the next deploy treats them
 * exactly like a `git revert` pushed by hand.
 */
import git from 'isomorphic-git';
import { UserError } from '../lib/errors.ts';
import { commitFiles, readFilesAt, revertCommit, type Author } from '../lib/git/index.ts';
import type { GitFs } from '../lib/git/fs.ts';
import { readTrailers } from './record.ts';
import { snapshotsRecordedAt } from './snapshots.ts';
import { isBerthCommit, LedgerView, stackDir } from './tree.ts';

export interface RollbackResult {
  commit: string;
  kind: 'revert' | 'restore';
  /** The commit reverted, or the one whose state was restored. */
  of: string;
  pushed: boolean;
}

export interface Place {
  fs: GitFs;
  dir: string;
  branch: string;
  author: Author;
}

/** `git revert` of the stack's latest deploy; refused when that would stack a revert on a rollback. */
export async function revertLatest(p: Place, stack: string, opts: { withData?: boolean } = {}): Promise<Omit<RollbackResult, 'pushed'>> {
  const touching = await new LedgerView(p.fs, p.dir, p.branch).touching(stack);
  const head = touching[0];
  if (!head) throw new UserError('LEDGER_EMPTY', `the ledger branch ${p.branch} has no deploy of stack ${stack}`, { hint: 'Deploy it first (berth apply, or berth serve).' });
  if (!isBerthCommit(head, stack) || readTrailers(head.message).mode === 'rollback') {
    throw new UserError('ROLLBACK_IN_FORCE', `stack ${stack} is rolled back already (${head.sha.slice(0, 7)} ${head.subject})`, {
      hint: `Say which state to go to: berth rollback ${stack} --to COMMIT (berth history ${stack} lists them).`,
    });
  }
  if (touching.length < 2) throw new UserError('ROLLBACK_NOTHING_EARLIER', `${head.sha.slice(0, 7)} is the first deploy of stack ${stack}: there is no earlier state to roll back to`);
  if (opts.withData) await snapshotsOf(p, head.sha, stack);
  const trailers = opts.withData ? { 'Berth-Restore-Data': 'true' } : undefined;
  const sha = await revertCommit(p.dir, { branch: p.branch, commit: head.sha, author: p.author, fs: p.fs, ...(trailers ? { trailers } : {}) });
  if (!sha) throw new UserError('ROLLBACK_NOOP', `the ledger already holds the state before ${head.sha.slice(0, 7)}`);
  return { commit: sha, kind: 'revert', of: head.sha };
}

/** A commit setting `stacks/<stack>/` to its content at `to`. */
export async function restoreTo(p: Place, stack: string, to: string): Promise<Omit<RollbackResult, 'pushed'>> {
  const target = await resolve(p, to);
  const files = await readFilesAt(p.dir, target, stackDir(stack), { fs: p.fs });
  if (!files['deploy.yml']) throw new UserError('ROLLBACK_TARGET_INVALID', `commit ${to} holds no deploy of stack ${stack}`, { hint: `Pick one from berth history ${stack}.` });
  const head = await git.resolveRef({ fs: p.fs, dir: p.dir, ref: `refs/heads/${p.branch}` }).catch(() => null);
  const current = head ? await readFilesAt(p.dir, head, stackDir(stack), { fs: p.fs }) : {};
  const changes: Record<string, string | null> = Object.fromEntries(Object.keys(current).map((f) => [`${stackDir(stack)}/${f}`, null]));
  for (const [f, text] of Object.entries(files)) changes[`${stackDir(stack)}/${f}`] = text;
  const { commit } = await git.readCommit({ fs: p.fs, dir: p.dir, oid: target });
  const short = target.slice(0, 7);
  const message = `Roll back ${stack} to ${short}\n\nRestores stacks/${stack}/ as it was at ${short} (${commit.message.split('\n', 1)[0]}).\n\nBerth-Rollback-To: ${target}\n`;
  const sha = await commitFiles(p.dir, { branch: p.branch, parent: head, files: changes, message, author: p.author, fs: p.fs });
  if (!sha) throw new UserError('ROLLBACK_NOOP', `stack ${stack} is in the state of ${short} already`);
  return { commit: sha, kind: 'restore', of: target };
}

/** --with-data needs the deploy it reverts to have snapshotted the data it changed. */
async function snapshotsOf(p: Place, commit: string, stack: string): Promise<void> {
  if (await snapshotsRecordedAt(p.dir, commit, stack, p.fs)) return;
  throw new UserError('ROLLBACK_NO_SNAPSHOTS', `${commit.slice(0, 7)}, the deploy of ${stack} to undo, took no data snapshots: there is no data to restore`, {
    hint: `Snapshots are taken before an upgrade (a template version change) of a stack with named volumes. Roll back without --with-data: berth rollback ${stack}`,
  });
}

async function resolve(p: Place, ref: string): Promise<string> {
  try {
    return /^[0-9a-f]{4,39}$/.test(ref) ? await git.expandOid({ fs: p.fs, dir: p.dir, oid: ref }) : await git.resolveRef({ fs: p.fs, dir: p.dir, ref });
  } catch {
    throw new UserError('ROLLBACK_TARGET_INVALID', `no commit ${ref} on the ledger`, { hint: `Pick one from berth history (the ledger branch is ${p.branch}).` });
  }
}
