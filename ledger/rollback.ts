/**
 * The commits `berth rollback` makes on the ledger branch. Both record a person's intent — a plain git revert,
 * or a restore marked `Berth-Rollback-To` — and carry no `Berth-Stack` trailer, so the next deploy treats them
 * exactly like a `git revert` pushed by hand.
 */
import git from 'isomorphic-git';
import { UserError } from '../lib/errors.ts';
import { commitFiles, readFilesAt, revertCommit, type Author } from '../lib/git/index.ts';
import type { GitFs } from '../lib/git/fs.ts';
import { readTrailers, recordFromYaml } from './record.ts';
import { snapshotsRecordedAt } from './snapshots.ts';
import { isBerthCommit, LedgerView, stackDir } from './tree.ts';

export interface RollbackResult {
  commit: string;
  kind: 'revert' | 'restore';
  /** The commit reverted, or the one whose state was restored. */
  of: string;
  /** A restore with the data: the deploy whose snapshots its deploy restores. */
  dataFrom?: string;
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

/**
 * A commit setting `stacks/<stack>/` to its content at `to`. `withData`: the data too, as `to`'s version left it —
 * the snapshots taken by the deploy that later upgraded away from that version (dataOfState).
 */
export async function restoreTo(p: Place, stack: string, to: string, opts: { withData?: boolean } = {}): Promise<Omit<RollbackResult, 'pushed'>> {
  const target = await resolve(p, to);
  const files = await readFilesAt(p.dir, target, stackDir(stack), { fs: p.fs });
  if (!files['deploy.yml']) throw new UserError('ROLLBACK_TARGET_INVALID', `commit ${to} holds no deploy of stack ${stack}`, { hint: `Pick one from berth history ${stack}.` });
  const head = await git.resolveRef({ fs: p.fs, dir: p.dir, ref: `refs/heads/${p.branch}` }).catch(() => null);
  const current = head ? await readFilesAt(p.dir, head, stackDir(stack), { fs: p.fs }) : {};
  const changes: Record<string, string | null> = Object.fromEntries(Object.keys(current).map((f) => [`${stackDir(stack)}/${f}`, null]));
  for (const [f, text] of Object.entries(files)) changes[`${stackDir(stack)}/${f}`] = text;
  const { commit } = await git.readCommit({ fs: p.fs, dir: p.dir, oid: target });
  const short = target.slice(0, 7);
  const dataFrom = opts.withData ? await dataOfState(p, stack, target) : undefined;
  const data = dataFrom ? `Berth-Restore-Data: true\nBerth-Restore-Data-From: ${dataFrom}\n` : '';
  const message = `Roll back ${stack} to ${short}\n\nRestores stacks/${stack}/ as it was at ${short} (${commit.message.split('\n', 1)[0]}).\n\nBerth-Rollback-To: ${target}\n${data}`;
  const sha = await commitFiles(p.dir, { branch: p.branch, parent: head, files: changes, message, author: p.author, fs: p.fs });
  if (!sha) throw new UserError('ROLLBACK_NOOP', `stack ${stack} is in the state of ${short} already`);
  return { commit: sha, kind: 'restore', of: target, ...(dataFrom ? { dataFrom } : {}) };
}

/**
 * The deploy whose snapshots hold the data as the state at `target` left it: the first deploy after it that moved
 * the stack off `target`'s template version (every deploy in between ran that version on the same volumes).
 * Refused when that upgrade took no snapshots, or none came after `target`.
 */
async function dataOfState(p: Place, stack: string, target: string): Promise<string> {
  const recordAt = async (sha: string) => {
    const text = (await readFilesAt(p.dir, sha, stackDir(stack), { fs: p.fs }))['deploy.yml'];
    return text ? recordFromYaml(text) : undefined;
  };
  const base = (await recordAt(target))!;
  const short = target.slice(0, 7);
  const touching = await new LedgerView(p.fs, p.dir, p.branch).touching(stack);
  const at = touching.findIndex((c) => c.sha === target);
  if (at < 0) throw new UserError('ROLLBACK_TARGET_INVALID', `${short} is not a deploy of ${stack}: --with-data needs one to find the data it left`, { hint: `Pick one from berth history ${stack}.` });
  for (let i = at - 1; i >= 0; i--) {
    const c = touching[i]!;
    const r = await recordAt(c.sha);
    if (!r || (r.template === base.template && r.version === base.version)) continue;
    if (r.snapshots && isBerthCommit(c, stack)) return c.sha;
    throw new UserError('ROLLBACK_NO_SNAPSHOTS', `${c.sha.slice(0, 7)}, the deploy that moved ${stack} from ${base.version} to ${r.version}, took no data snapshots: the data ${short} left is gone`, {
      hint: `Roll back without --with-data: berth rollback ${stack} --to ${short}`,
    });
  }
  throw new UserError('ROLLBACK_NO_SNAPSHOTS', `${stack} still runs ${base.template} ${base.version}, the version of ${short}: no upgrade since took the data away to restore`, {
    hint: `Roll back without --with-data: berth rollback ${stack} --to ${short}`,
  });
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
