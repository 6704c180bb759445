/** What `berth history` and `berth rollback` do, and the ledger of `berth apply`; cli/ledger.ts declares the commands. */
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { UserError } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { berthVersion, builtinCatalogRoot } from '../lib/version.ts';
import type { Environment } from '../environment/environment.ts';
import { DEFAULT_LEDGER_BRANCH, Ledger, type HistoryEntry } from '../ledger/ledger.ts';
import type { Sources } from '../ledger/record.ts';
import { dataLeftNote, snapshotsRecordedAt } from '../ledger/snapshots.ts';
import { table } from './table.ts';

async function repoOf(dir: string): Promise<string | undefined> {
  return git.findRoot({ fs, filepath: path.resolve(dir) }).catch(() => undefined);
}

/**
 * The ledger of the environment repository holding `envDir`, or undefined for a plain folder. An http(s)
 * `origin` is its remote (token: $BERTH_GIT_TOKEN, or the URL's own credentials); the branch is
 * $BERTH_LEDGER_BRANCH or berth/deployed.
 */
export async function openLedger(envDir: string, log?: Logger): Promise<Ledger | undefined> {
  const repo = await repoOf(envDir);
  if (!repo) return undefined;
  const url = (await git.getConfig({ fs, dir: repo, path: 'remote.origin.url' }).catch(() => undefined)) as string | undefined;
  const remote = url && /^https?:\/\//.test(url) ? { url, ...(process.env.BERTH_GIT_TOKEN ? { token: process.env.BERTH_GIT_TOKEN } : {}) } : undefined;
  return new Ledger({ dir: repo, branch: process.env.BERTH_LEDGER_BRANCH || DEFAULT_LEDGER_BRANCH, ...(remote ? { remote } : {}), log });
}

/** The commits the CLI deploys from: the environment's HEAD, and the HEAD of each catalog kept in git. */
export async function localSources(env: Environment): Promise<Sources> {
  const head = async (dir: string) => {
    const repo = await repoOf(dir);
    return repo ? git.resolveRef({ fs, dir: repo, ref: 'HEAD' }).catch(() => undefined) : undefined;
  };
  const catalogs: Record<string, string> = {};
  for (const c of env.catalogs) {
    if (c.unavailable) continue;
    const sha = path.resolve(c.root) === path.resolve(builtinCatalogRoot()) ? `berth-${berthVersion()}` : await head(c.root);
    if (sha) catalogs[c.name] = sha;
  }
  return { environment: (await head(env.root)) ?? 'working-tree', catalogs };
}

async function ledgerAt(envDir: string): Promise<Ledger> {
  const ledger = await openLedger(envDir, createLogger());
  if (!ledger) {
    throw new UserError('LEDGER_NO_REPOSITORY', `${path.resolve(envDir)} is not in a git repository, so it has no deploy ledger`, {
      hint: 'The ledger is the branch berth/deployed of the environment repository: run `git init` there and deploy with berth apply or berth serve.',
    });
  }
  return ledger;
}

function historyTable(rows: HistoryEntry[]): string {
  const t = table(['WHEN', 'COMMIT', 'WHAT', 'TRIGGER', 'OUTCOME']);
  for (const r of rows) t.push([r.when.replace('T', ' ').slice(0, 16), r.commit.slice(0, 7), r.subject, r.trigger ?? '', r.outcome ?? (r.mode === 'rollback' ? 'by a person' : '')]);
  return t.toString();
}

export async function historyAction(stack: string, opts: { env: string; json?: boolean; limit: string }): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UserError('LIMIT_INVALID', `--limit ${opts.limit} is not a positive whole number`);
  const ledger = await ledgerAt(opts.env);
  await ledger.refresh().catch((e) => process.stderr.write(`warning: cannot fetch the ledger (${(e as Error).message}); showing the local copy\n`));
  const rows = await ledger.history(stack, limit);
  if (opts.json) return print(JSON.stringify(rows, null, 2));
  print(rows.length ? historyTable(rows) : `no deploys of stack ${stack} on ${ledger.branch}`);
}

export async function rollbackAction(stack: string, opts: { env: string; to?: string; withData?: boolean }): Promise<void> {
  const ledger = await ledgerAt(opts.env);
  const withData = opts.withData === true;
  const r = await ledger.rollback(stack, opts.to ? { to: opts.to, withData } : { withData });
  const what = r.kind === 'revert' ? `reverted ${r.of.slice(0, 7)}` : `restored the state of ${r.of.slice(0, 7)}`;
  print(`${stack}: ${what} on ${ledger.branch} (commit ${r.commit.slice(0, 7)})${r.pushed ? ', pushed' : ''}.`);
  // If the deploy undone was an upgrade that snapshotted data (for --to: the upgrade away from that state), say
  // what becomes of the data.
  const from = r.kind === 'revert' ? r.of : r.dataFrom;
  const taken = from ? await snapshotsRecordedAt(ledger.dir, from, stack).catch(() => undefined) : undefined;
  if (taken && withData) print(`The deploy of this rollback restores the data ${stack} had before ${taken.version}${r.kind === 'restore' ? ` (snapshots of ${from!.slice(0, 7)})` : ''}: it stops the services using the volumes, restores the snapshots, then runs the older version on them.`);
  else if (taken) print(dataLeftNote(stack, taken));
  if (r.pushed || !ledger.hasRemote()) return print(`berth serve converges the hosts to it on its next run (or run \`berth apply ${stack}\` here).`);
  print('The push failed (see the warning above); the commit is kept locally and goes out with the next rollback or deploy from here.');
  process.exitCode = 1;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
