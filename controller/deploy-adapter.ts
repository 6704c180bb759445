/**
 * The seam between the serve loop and the per-stack deploy: the loop only needs "reconcile this stack, tell me
 * the outcome and the ledger commit", so tests inject a fake and production uses deployStack with the ledger
 * on the environment repository. A plain folder (no git) has no ledger: it is reconciled without a record,
 * exactly as `berth apply` does there.
 */
import git from 'isomorphic-git';
import { defaultFs } from '../lib/git/fs.ts';
import { isUrlSource, type RepoSource } from '../lib/git/source.ts';
import { WORKING_TREE } from '../lib/git/local.ts';
import type { Logger } from '../lib/log.ts';
import { deployStack, type DeployContext as LedgerDeployContext, type DeployOutcome } from './deploy.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { Trigger } from '../ledger/record.ts';
import { reconcileStack } from './reconcile.ts';
import type { StackSpec } from '../environment/types.ts';

export type DeployTrigger = Trigger & { kind: 'push' | 'merge' | 'timer' | 'cli' | 'revert' | 'webhook' };

/** deployStack's context, with the ledger optional (a plain folder has none). */
export type DeployContext = Omit<LedgerDeployContext, 'ledger' | 'log'> & { ledger?: Ledger; log: Logger };

export type DeployResult = Omit<DeployOutcome, 'mode'> & { mode?: DeployOutcome['mode'] };

export type DeployFn = (ctx: DeployContext, spec: StackSpec, trigger: DeployTrigger) => Promise<DeployResult>;

/** reconcileStack without a ledger record. */
export const reconcileOnly: DeployFn = async (ctx, spec, trigger) => ({
  ...(await reconcileStack(ctx.env, spec, { why: trigger.why, drivers: ctx.drivers, events: ctx.events, log: ctx.log, signal: ctx.signal, catalogs: ctx.catalogs })),
  ledgerCommit: null,
  mode: 'render',
});

export const defaultDeploy: DeployFn = (ctx, spec, trigger) => (ctx.ledger ? deployStack({ ...ctx, ledger: ctx.ledger }, spec, trigger) : reconcileOnly(ctx, spec, trigger));

export interface LedgerPlace {
  /** Work tree of the synced environment. */
  dir: string;
  commit: string;
  branch: string;
  source: RepoSource;
  log: Logger;
}

/**
 * The ledger lives in the environment repository: for a URL, in the clone, pushed back to that URL with the same
 * token; for a local repository, in it, pushed to its http(s) `origin` if it has one (same token).
 */
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
  return new Ledger({ dir: place.dir, branch: place.branch, log: place.log, ...(remote ? { remote } : {}) });
}
