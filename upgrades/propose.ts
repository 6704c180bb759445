/**
 * Proposing upgrades: for each stack on the target branch with a newer version in its catalog, make sure one
 * merge request proposes exactly that (branch pushed, title and description current), and close Berth's merge
 * requests nothing proposes any more. Every step is an idempotent `ensure`: a second run with nothing new
 * pushes nothing and writes nothing to the forge, which is what lets `berth serve` run it on every tick.
 */
import path from 'node:path';
import { findVersion } from '../catalog/resolve.ts';
import { compareVersions } from '../catalog/load.ts';
import type { Catalog } from '../catalog/types.ts';
import type { Environment } from '../environment/environment.ts';
import { BerthError, UserError } from '../lib/errors.ts';
import type { Author } from '../lib/git/index.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { catalogForStack, upgradeForStack, type AvailableUpgrade } from './available.ts';
import { BRANCH_PREFIX, branchState, commitMessage, openEnvRepo, pushUpgrade, recipientsAt, stackFilesAtHead, stackOfBranch, upgradeBranch, type EnvRepo, type RemoteSpec } from './branch.ts';
import type { ForgeConfig } from './config.ts';
import { parseStackText, proposalContent, type StackAtHead } from './content.ts';
import { createForge, type Forge, type MergeRequest } from './forge.ts';
import { closeComment, readFingerprint, readMarker } from './text.ts';

export interface ProposeOptions {
  /** Berth's cache folder; the environment repository is cloned under `<cacheDir>/upgrades`. */
  cacheDir: string;
  /** Where to push; default derived from `forge:` (GitLab `<api_url>/<project>.git`, GitHub `https://github.com/<owner>/<repo>.git`). */
  remote?: RemoteSpec;
  processEnv?: Record<string, string | undefined>;
  log?: Logger;
  /** A forge client to use instead of the one `forge:` describes (tests; a caller that keeps one). */
  forge?: Forge;
  author?: Author;
  /** age identities, so stacks with encrypted answers can be rendered for the description. */
  identities?: string[];
  catalogs?: Map<string, Catalog>;
  timeoutMs?: number;
}

export type ProposalAction = 'created' | 'updated' | 'unchanged' | 'closed' | 'skipped' | 'failed';

export interface ProposalResult {
  stack: string;
  action: ProposalAction;
  upgrade?: { template: string; from: string; to: string; draft: boolean };
  mergeRequest?: { id: number; url: string };
  /** Why it was closed or skipped. */
  reason?: string;
  error?: { code: string; message: string };
}

interface Run {
  env: Environment;
  config: ForgeConfig;
  forge: Forge;
  repo: EnvRepo;
  catalogs: Map<string, Catalog>;
  opts: ProposeOptions;
  log: Logger;
}

/** Where upgrade branches are pushed, with the forge token: `url` if given, else the forge's HTTPS clone URL. */
export function defaultRemote(config: ForgeConfig, token: string | undefined, url?: string): RemoteSpec {
  const auth = { ...(token ? { token } : {}), username: config.type === 'gitlab' ? 'oauth2' : 'x-access-token' };
  if (url) return { url, ...auth };
  if (config.type === 'gitlab' && /^\d+$/.test(config.project)) {
    throw new UserError('FORGE_REMOTE_UNKNOWN', `forge.project is the numeric id ${config.project}, which does not say where to push the upgrade branches`, {
      hint: 'Write forge.project as group/project, or give the repository URL (berth upgrades --remote URL).',
    });
  }
  const web = config.type === 'gitlab' ? config.apiUrl : config.apiUrl === 'https://api.github.com' ? 'https://github.com' : config.apiUrl.replace(/\/api\/v3$/, '');
  return { url: `${web}/${config.project}.git`, ...auth };
}

/** Runs per clone folder, one at a time: a catalog change and a timer tick may ask at once, and share the clone. */
const running = new Map<string, Promise<unknown>>();

/**
 * Opens, updates and closes the environment's upgrade merge requests so they match the catalogs; one result
 * per stack acted on. Throws only when nothing can be done at all (no forge, unreachable repository or forge).
 */
export function proposeUpgrades(env: Environment, opts: ProposeOptions): Promise<ProposalResult[]> {
  const key = path.resolve(opts.cacheDir);
  const next = (running.get(key) ?? Promise.resolve()).catch(() => {}).then(() => propose(env, opts));
  running.set(key, next);
  return next.finally(() => running.get(key) === next && running.delete(key));
}

async function propose(env: Environment, opts: ProposeOptions): Promise<ProposalResult[]> {
  const config = env.forge;
  if (!config) {
    throw new UserError('FORGE_NOT_CONFIGURED', `the environment at ${env.root} names no forge to open merge requests on`, {
      hint: 'Add a forge: block to berth.yml (type, project, token_env; see docs/upgrades.md), or keep the environment in a git repository for local upgrade branches.',
    });
  }
  const processEnv = opts.processEnv ?? process.env;
  const log = opts.log ?? silentLogger;
  const forge = opts.forge ?? createForge(config, processEnv, { log, timeoutMs: opts.timeoutMs, repoDir: env.root });
  // The local forge's repository is the environment folder itself.
  const remote = opts.remote ?? (config.type === 'local' ? { url: env.root } : defaultRemote(config, processEnv[config.tokenEnv]));
  const repo = await openEnvRepo(remote, config.branch, { cacheDir: opts.cacheDir, author: opts.author, log, timeoutMs: opts.timeoutMs });
  const run: Run = { env, config, forge, repo, catalogs: opts.catalogs ?? new Map(), opts, log };
  const open = await forge.listOpenMergeRequests(BRANCH_PREFIX);
  const { results, stacks } = await proposeEach(run, new Map(open.map((mr) => [mr.sourceBranch, mr])));
  const proposed = new Set(results.map((r) => r.stack));
  for (const mr of open) {
    const stack = stackOfBranch(mr.sourceBranch);
    // A stack whose file or catalog failed keeps its merge request: a broken file is no reason to close it.
    if (!stack || proposed.has(stack) || mr.targetBranch !== config.branch) continue;
    results.push(await closeObsolete(run, mr, stack, stacks.get(stack)).catch((err: unknown) => failed(stack, err, log)));
  }
  return results;
}

/** One result per stack on the target branch that has an upgrade (or failed), and the stacks as parsed. */
async function proposeEach(run: Run, open: Map<string, MergeRequest>) {
  const results: ProposalResult[] = [];
  const stacks = new Map<string, StackAtHead>();
  for (const [name, { file, text }] of await stackFilesAtHead(run.repo)) {
    try {
      const stack = parseStackText(name, file, text);
      stacks.set(name, stack);
      const upgrade = await upgradeForStack(run.env, stack, { catalogs: run.catalogs });
      if (upgrade) results.push(await ensureProposal(run, stack, text, upgrade, open.get(upgradeBranch(name))));
    } catch (err) {
      results.push(failed(name, err, run.log));
    }
  }
  return { results, stacks };
}

function failed(stack: string, err: unknown, log: Logger): ProposalResult {
  const error = err instanceof BerthError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String((err as Error)?.message ?? err) };
  log.warn({ stack, err: error }, 'upgrade proposal failed');
  return { stack, action: 'failed', error };
}

function summary(u: AvailableUpgrade, draft: boolean) {
  return { template: u.template, from: u.from, to: u.to, draft };
}

/** The branch and the merge request for one upgrade, each written only when it differs from what is there. */
async function ensureProposal(run: Run, stack: StackAtHead, text: string, upgrade: AvailableUpgrade, listed: MergeRequest | undefined): Promise<ProposalResult> {
  const { repo, forge, log } = run;
  const catalog = (await catalogForStack(run.env, stack, run.catalogs))!;
  const branch = upgradeBranch(stack.name);
  const state = await branchState(repo, stack.name, stack.file);
  if (state.kind === 'foreign') {
    log.info({ stack: stack.name, branch, author: state.author }, 'upgrade branch has commits by someone else; leaving it alone');
    return { stack: stack.name, upgrade: summary(upgrade, upgrade.needsAnswers.length > 0), action: 'skipped', reason: `${branch} has a commit by ${state.author}; Berth does not overwrite it` };
  }
  // A generated answer lives on in Berth's branch from the run that made it: generated once, never again.
  const recipients = upgrade.generated.length ? await recipientsAt(repo) : [];
  const content = await proposalContent({
    catalog, upgrade, file: stack.file, text, answers: stack.answers, identities: run.opts.identities, recipients, ...(state.kind === 'berth' && state.text !== undefined ? { previous: state.text } : {}),
  });
  const base = { stack: stack.name, upgrade: summary(upgrade, content.draft) };
  let pushed = false;
  if (state.kind === 'missing' || state.text !== content.stackText) {
    const marker = `${upgrade.template} ${upgrade.from} -> ${upgrade.to}`;
    await pushUpgrade(repo, stack.name, stack.file, content.stackText, commitMessage(content.title, stack.name, marker));
    pushed = true;
  }
  // Asking again before creating costs one call per new proposal and never opens a second one for a branch.
  const existing = listed ?? (await forge.findOpenMergeRequest(branch));
  if (!existing) {
    const mr = await forge.createMergeRequest({ sourceBranch: branch, targetBranch: repo.target, title: content.title, description: content.description, draft: content.draft });
    log.info({ stack: stack.name, mr: mr.id, to: upgrade.to }, 'upgrade merge request opened');
    return { ...base, action: 'created', mergeRequest: { id: mr.id, url: mr.url } };
  }
  const same = readFingerprint(existing.description) === readFingerprint(content.description) && existing.title === content.title && existing.draft === content.draft;
  if (!same) {
    await forge.updateMergeRequest(existing.id, { title: content.title, description: content.description, draft: content.draft });
    log.info({ stack: stack.name, mr: existing.id, to: upgrade.to }, 'upgrade merge request updated');
  }
  return { ...base, action: same && !pushed ? 'unchanged' : 'updated', mergeRequest: { id: existing.id, url: existing.url } };
}

/** Why a merge request no longer proposes anything worth merging. */
async function obsoleteReason(run: Run, mr: MergeRequest, stackName: string, stack: StackAtHead | undefined): Promise<string> {
  const target = run.config.branch;
  if (!stack) return `stacks/${stackName}.yml is no longer on ${target}`;
  const marker = readMarker(mr.description);
  const template = (await catalogForStack(run.env, stack, run.catalogs))?.templates.get(stack.template);
  if (!marker) return `no upgrade of ${stack.template} ${stack.version} is available any more`;
  if (marker.template !== stack.template) return `${stackName} now uses template ${stack.template}, not ${marker.template}`;
  const proposed = template && findVersion(template, marker.to);
  if (!proposed) return `${marker.template} ${marker.to} is no longer in the catalog`;
  const installed = findVersion(template, stack.version) ?? { folder: stack.version, version: stack.version };
  if (compareVersions(installed, proposed) >= 0) return `${stackName} is already on ${stack.version} on ${target}, upgraded another way`;
  return `${marker.template} ${marker.to} can no longer be upgraded to from ${stack.version} (its upgrade_from or minimum_berth_version)`;
}

async function closeObsolete(run: Run, mr: MergeRequest, stackName: string, stack: StackAtHead | undefined): Promise<ProposalResult> {
  const reason = await obsoleteReason(run, mr, stackName, stack);
  await run.forge.closeMergeRequest(mr.id, closeComment(reason));
  run.log.info({ stack: stackName, mr: mr.id, reason }, 'obsolete upgrade merge request closed');
  return { stack: stackName, action: 'closed', reason, mergeRequest: { id: mr.id, url: mr.url } };
}
