/**
 * The deploy context of a one-shot command (`berth apply|plan|status`, `berth demo --once`): the environment's
 * engines, and — when the environment is kept in git — its ledger and the commits it deploys from. The ledger
 * (and isomorphic-git) loads only then: a plain folder has none.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DeployContext } from '../controller/deploy.ts';
import { Engines } from '../engines/registry.ts';
import type { Environment } from '../environment/environment.ts';
import type { Logger } from '../lib/log.ts';

export async function cliContext(env: Environment, log?: Logger): Promise<DeployContext> {
  const base = { env, engines: new Engines(env), log, catalogs: new Map() };
  if (!inGitRepository(env.root)) return { ...base, sources: { environment: 'working-tree', catalogs: {} } };
  const { localSources, openLedger } = await import('./ledger-actions.ts');
  const ledger = await openLedger(env.root, log);
  return { ...base, sources: await localSources(env), ...(ledger ? { ledger } : {}) };
}

function inGitRepository(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}
