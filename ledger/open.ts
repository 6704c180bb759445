/**
 * Where serve keeps the ledger: in the environment repository — for a URL, in the clone, pushed back to that URL
 * with the same token; for a local repository, in it, pushed to its http(s) `origin` if it has one (same token).
 * A work tree used in place (uncommitted states) has no ledger.
 */
import git from 'isomorphic-git';
import { defaultFs } from '../lib/git/fs.ts';
import { isUrlSource, type RepoSource } from '../lib/git/source.ts';
import { WORKING_TREE } from '../lib/git/local.ts';
import type { Logger } from '../lib/log.ts';
import { Ledger } from './ledger.ts';

export interface LedgerPlace {
  /** Work tree of the synced environment. */
  dir: string;
  commit: string;
  branch: string;
  source: RepoSource;
  log: Logger;
}

export async function openLedger(place: LedgerPlace): Promise<Ledger | undefined> {
  if (place.commit === WORKING_TREE) return undefined;
  const { source } = place;
  const token = isUrlSource(source) ? source.token : undefined;
  let remote: { url: string; token?: string; username?: string } | undefined;
  if (isUrlSource(source)) remote = { url: source.url, ...(token ? { token, username: source.username } : {}) };
  else {
    const origin = await git.getConfig({ fs: defaultFs, dir: place.dir, path: 'remote.origin.url' }).catch(() => undefined);
    if (typeof origin === 'string' && /^https?:\/\//i.test(origin)) remote = { url: origin };
  }
  // serve records a thousand deploys at start-up: the pushes go in the background, each carrying all made meanwhile.
  return new Ledger({ dir: place.dir, branch: place.branch, log: place.log, deferPush: true, ...(remote ? { remote } : {}) });
}
