/** What `berth upgrades` does; cli/upgrades.ts declares the command and loads this only when it runs. */
import fs, { existsSync } from 'node:fs';
import git from 'isomorphic-git';
import path from 'node:path';
import { loadEnvironment, type Environment } from '../environment/environment.ts';
import { localForgeConfig } from '../upgrades/local.ts';
import { createLogger } from '../lib/log.ts';
import { loadIdentities } from '../lib/secrets.ts';
import { availableUpgrades, draftReason, type AvailableUpgrade } from '../upgrades/available.ts';
import { defaultRemote, proposeUpgrades, type ProposalResult } from '../upgrades/propose.ts';
import { table } from './table.ts';

export interface UpgradesOpts {
  env: string;
  open?: boolean;
  json?: boolean;
  remote?: string;
  cacheDir: string;
}

export async function listUpgrades(opts: UpgradesOpts): Promise<void> {
  const env = await loadEnvironment(opts.env);
  const errors: { stack: string; error: string }[] = [];
  const ups = await availableUpgrades(env, { onError: (stack, err) => errors.push({ stack, error: (err as Error).message }) });
  if (opts.json) return print(JSON.stringify({ upgrades: ups.map(upgradeJson), errors }, null, 2));
  if (ups.length === 0) print('Every stack is on the newest version it can upgrade to.');
  else {
    const t = table(['STACK', 'TEMPLATE', 'FROM', 'TO', 'MERGE REQUEST']);
    for (const u of ups) t.push([u.stack, u.template, u.from, u.to, u.draft ? `draft: ${draftReason(u)}` : 'ready']);
    print(t.toString());
  }
  for (const e of errors) process.stderr.write(`stack ${e.stack}: ${e.error}\n`);
  if (errors.length) process.exitCode = 1;
}

function upgradeJson(u: AvailableUpgrade) {
  const vars = (qs: { variable: string }[]) => qs.map((q) => q.variable);
  return {
    stack: u.stack, template: u.template, from: u.from, to: u.to, draft: u.draft,
    needsAnswers: vars(u.needsAnswers), newQuestions: vars(u.newQuestions), removedQuestions: vars(u.removedQuestions), addedAnswers: Object.keys(u.addedAnswers),
    generated: vars(u.generated), migrations: u.migrations.map((m) => ({ version: m.version, ...m.edit, ...(m.edit.kind === 'set' && m.secret ? { value: '******' } : {}) })),
  };
}

/** Without forge:, an environment kept in git gets local proposals: branches in the repository itself. */
async function withLocalForge(env: Environment): Promise<Environment> {
  if (env.forge || !existsSync(path.join(env.root, '.git'))) return env;
  const branch = await git.currentBranch({ fs, dir: env.root }).catch(() => undefined);
  return branch ? { ...env, forge: localForgeConfig(branch) } : env;
}

export async function openUpgrades(opts: UpgradesOpts): Promise<void> {
  const env = await withLocalForge(await loadEnvironment(opts.env));
  const log = createLogger();
  const remote = opts.remote && env.forge ? defaultRemote(env.forge, process.env[env.forge.tokenEnv], opts.remote) : undefined;
  const results = await proposeUpgrades(env, { cacheDir: opts.cacheDir, log, identities: await loadIdentities(), ...(remote ? { remote } : {}) });
  if (opts.json) print(JSON.stringify(results, null, 2));
  else if (results.length === 0) print('Nothing to propose: every stack is on the newest version it can upgrade to.');
  else for (const r of results) print(describeResult(r));
  if (env.forge?.type === 'local' && results.some((r) => r.action === 'created' || r.action === 'updated')) {
    print(`Each proposal is a branch of ${env.root} with its description beside it; review it, then: git merge berth/upgrade/<stack>`);
  }
  if (results.some((r) => r.action === 'failed')) process.exitCode = 1;
}

function describeResult(r: ProposalResult): string {
  const what = r.upgrade ? ` ${r.upgrade.template} ${r.upgrade.from} → ${r.upgrade.to}${r.upgrade.draft ? ' (draft)' : ''}` : '';
  const mr = r.mergeRequest ? ` ${r.mergeRequest.url}` : '';
  const why = r.reason ? `: ${r.reason}` : r.error ? `: ${r.error.message}` : '';
  return `${r.stack}: ${r.action}${what}${mr}${why}`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
