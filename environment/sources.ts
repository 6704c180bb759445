/**
 * The sources `berth serve` reconciles from: the environment repository and every `url:` catalog it names,
 * each behind a RepoWatcher so an unreachable remote leaves the last known state in force. A refresh asked
 * for while one runs is folded into one more refresh after it, so a webhook for a push that landed mid-fetch
 * is never answered with the state from before the push.
 */
import path from 'node:path';
import git from 'isomorphic-git';
import { defaultFs } from '../lib/git/fs.ts';
import { BerthError } from '../lib/errors.ts';
import { berthVersion, builtinCatalogRoot } from '../lib/version.ts';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import { RepoWatcher, type WatchedState } from '../lib/git/watcher.ts';
import { cacheName, describeSource, isUrlSource, type RepoSource } from '../lib/git/source.ts';
import { WORKING_TREE } from '../lib/git/local.ts';
import { loadEnvironment, type Environment } from './environment.ts';
import type { Metrics } from '../controller/metrics.ts';

export interface Snapshot {
  /** The environment at `commit`; undefined until one has loaded. */
  env?: Environment;
  /** Work tree of the environment repository (the ledger lives in the same repository). */
  dir?: string;
  /** Environment commit, or 'working-tree' for a plain folder. */
  commit?: string;
  /** Catalog name → commit (`url:` catalogs, folders in a repository) or `berth-<version>` (built-in), as the ledger records them. */
  catalogs: Record<string, string>;
  /** Why the latest load failed: the environment at the newest commit is invalid, or was never reachable. */
  error?: Error;
  /** The remote could not be reached; the state is the last one synced. */
  stale: boolean;
  /** Why the environment repository could not be synced, while `stale`. */
  syncError?: string;
  /** The last refresh that found the sources (reachable or not); `env` itself is read again only when they moved. */
  loadedAt?: string;
}

interface LoadedFrom {
  commit: string;
  /** Each `url:` catalog the environment named, with the commit it synced to (none: it could not be synced). */
  urlCatalogs: Array<{ name: string; url: string; branch: string; commit?: string }>;
  /** Folder catalogs by name: the HEAD of the repository holding each (none for a plain folder). */
  folderLabels: Record<string, string>;
}

export interface SourcesOptions {
  env: RepoSource;
  cacheDir: string;
  log?: Logger;
  metrics?: Metrics;
  processEnv?: Record<string, string | undefined>;
}

export class Sources {
  private readonly envWatcher: RepoWatcher;
  private readonly catalogWatchers = new Map<string, RepoWatcher>();
  private readonly cacheDirs = new Map<RepoWatcher, string>();
  /** Per watched repository: the failure already counted and logged, so a streak is logged once. */
  private readonly seenErrors = new Map<string, unknown>();
  private snap: Snapshot = { catalogs: {}, stale: false };
  /** The environment commit last reported invalid, so a broken commit is logged once, not on every tick. */
  private invalidCommit?: string;
  private running?: Promise<Snapshot>;
  private again?: Promise<Snapshot>;
  private forceAgain = false;
  /** The uncommitted state of a local work tree last warned about. */
  private dirtyNoted?: string;
  /** What the last load read, to tell whether anything moved since. */
  private loadedFrom?: LoadedFrom;

  constructor(private readonly opts: SourcesOptions) {
    // The watcher would warn on every failed attempt; this class logs once per failure streak instead.
    this.envWatcher = this.watcher(opts.env, 'env');
  }

  current(): Snapshot {
    return this.snap;
  }

  /** Until the environment repository's backoff ends (0: now). */
  retryInMs(): number {
    return this.envWatcher.retryInMs();
  }

  /** Syncs everything and reloads the environment; `force` skips the backoff (a webhook said there is news). */
  refresh(opts: { force?: boolean } = {}): Promise<Snapshot> {
    if (!this.running) {
      this.running = this.load(opts.force === true).finally(() => (this.running = undefined));
      return this.running;
    }
    this.forceAgain ||= opts.force === true;
    this.again ??= this.running.then(() => {
      const force = this.forceAgain;
      this.again = undefined;
      this.forceAgain = false;
      return this.refresh({ force });
    });
    return this.again;
  }

  private async load(force: boolean): Promise<Snapshot> {
    const state = await this.watch(this.envWatcher, { force });
    if (!state) {
      this.snap = { ...this.snap, stale: true, error: this.seenErrors.get(this.key(this.envWatcher)) as Error };
      return this.snap;
    }
    // A local repository's own work tree; a bare one is mirrored into the cache and checked out clean.
    const source = this.opts.env;
    const workTree = !isUrlSource(source) && state.commit !== WORKING_TREE && state.dir === path.resolve(source.path);
    // A work tree used in place is read from disk: only a committed state may deploy, or a tick landing
    // between an edit and its commit would deploy (and record under the old commit) what nobody committed.
    const dirty = workTree && (await this.uncommitted(state.dir, state.commit));
    if (dirty && this.snap.env) return this.snap;
    if (!dirty) this.dirtyNoted = undefined;
    if (!dirty && (await this.unmoved(state))) {
      // The same environment object: what was derived from it (rendered stacks, loaded catalogs) still holds.
      this.snap = { ...this.snap, ...staleness(state), loadedAt: new Date().toISOString() };
      return this.snap;
    }
    const catalogs: Record<string, string> = {};
    const urlCatalogs: LoadedFrom['urlCatalogs'] = [];
    try {
      const env = await loadEnvironment(state.dir, {
        processEnv: this.opts.processEnv,
        resolveCatalog: async (c) => {
          const branch = c.branch ?? 'main';
          const entry: LoadedFrom['urlCatalogs'][number] = { name: c.name, url: c.url, branch };
          urlCatalogs.push(entry);
          const watched = await this.catalog(c.url, branch);
          entry.commit = catalogs[c.name] = watched.commit;
          return watched.dir;
        },
      });
      Object.assign(catalogs, await folderLabels(env, urlCatalogs));
      if (dirty) (this.opts.log ?? silentLogger).warn({ dir: state.dir }, `uncommitted changes in ${state.dir}: deploying them because no committed state has been loaded yet`);
      this.snap = { env, dir: state.dir, commit: state.commit, catalogs, ...staleness(state), loadedAt: new Date().toISOString() };
      this.invalidCommit = undefined;
    } catch (e) {
      // The newest environment is broken: keep the last good one for status, but say why nothing deploys.
      this.snap = { ...this.snap, dir: state.dir, commit: state.commit, ...staleness(state), error: e as Error, loadedAt: new Date().toISOString() };
      if (this.invalidCommit !== state.commit) (this.opts.log ?? silentLogger).error({ commit: state.commit, err: (e as Error).message }, 'the environment is invalid; nothing deploys until it is fixed');
      this.invalidCommit = state.commit;
    }
    // A dirty first load is not a committed state: the next refresh loads again.
    this.loadedFrom = dirty ? undefined : { commit: state.commit, urlCatalogs, folderLabels: this.snap.env ? await folderLabels(this.snap.env, urlCatalogs) : {} };
    return this.snap;
  }

  /**
   * Nothing the environment was loaded from has moved: the same commit (a plain folder has none, so it always
   * counts as moved), every `url:` catalog at the commit it had (or as unreachable as it was), every folder
   * catalog's repository at the same HEAD. Then the environment is not read again: an idle poll costs a fetch.
   */
  private async unmoved(state: WatchedState): Promise<boolean> {
    const last = this.loadedFrom;
    if (!last || state.commit === WORKING_TREE || state.commit !== last.commit) return false;
    for (const c of last.urlCatalogs) {
      const commit = await this.catalog(c.url, c.branch).then((w) => w.commit, () => undefined);
      if (commit !== c.commit) return false;
    }
    if (!this.snap.env) return true;
    const folders = await folderLabels(this.snap.env, last.urlCatalogs);
    return JSON.stringify(folders) === JSON.stringify(last.folderLabels);
  }

  /**
   * Whether berth.yml or stacks/ differ from `commit` on disk (edited, added or deleted, ignored files aside), or
   * the branch moved on while they were read. Said once per streak, with what to do.
   */
  private async uncommitted(dir: string, commit: string): Promise<boolean> {
    const head = await git.resolveRef({ fs: defaultFs, dir, ref: 'HEAD' }).catch(() => undefined);
    const rows = await git.statusMatrix({ fs: defaultFs, dir, filepaths: ['berth.yml', 'stacks'] }).catch(() => []);
    // statusMatrix: HEAD 1 = in the commit; workdir 1 = as committed, 2 = different or new, 0 = absent.
    const files = rows.filter(([, inHead, inWorkdir]) => (inHead === 1 ? inWorkdir !== 1 : inWorkdir !== 0)).map(([file]) => file);
    if (head === commit && !files.length) return false;
    const key = `${head}:${files.join(',')}`;
    if (files.length && this.dirtyNoted !== key) {
      (this.opts.log ?? silentLogger).warn({ dir, files }, `uncommitted changes in ${dir} (${files.join(', ')}) are not deployed until they are committed`);
    }
    this.dirtyNoted = key;
    return true;
  }

  private async catalog(url: string, branch: string): Promise<WatchedState> {
    const key = `${url}#${branch}`;
    let w = this.catalogWatchers.get(key);
    if (!w) {
      w = this.watcher({ url, branch, ...this.credentialsFor(url) }, 'catalogs');
      this.catalogWatchers.set(key, w);
    }
    const state = await this.watch(w, {});
    if (!state) throw this.seenErrors.get(this.key(w)) as Error;
    return state;
  }

  private watcher(source: RepoSource, sub: string): RepoWatcher {
    const cacheDir = path.join(this.opts.cacheDir, sub);
    const w = new RepoWatcher(source, { cacheDir, log: silentLogger });
    this.cacheDirs.set(w, cacheDir);
    return w;
  }

  /**
   * A catalog on the same forge as the environment (same scheme, host and port) is fetched with the environment's
   * token; a token is never sent to any other host.
   */
  private credentialsFor(url: string): { token?: string; username?: string } {
    const env = this.opts.env;
    if (!isUrlSource(env) || !env.token) return {};
    const origin = (u: string) => URL.canParse(u) ? new URL(u).origin : undefined;
    return origin(url) !== undefined && origin(url) === origin(env.url) ? { token: env.token, username: env.username } : {};
  }

  /** One refresh with streak-aware logging and counting; undefined when there is no state at all yet. */
  private async watch(w: RepoWatcher, opts: { force?: boolean }): Promise<WatchedState | undefined> {
    const key = this.key(w);
    const log = this.opts.log ?? silentLogger;
    let state: WatchedState | undefined;
    let error: unknown;
    try {
      state = await w.refresh(opts);
      if (state.stale) error = state.error;
      if (state.rebuilt) {
        log.warn({ repo: key, err: state.rebuilt }, `the cache clone of ${key} was damaged (${state.rebuilt}); it was cloned again from the remote, and records only it held are written again by the next reconcile of their stacks`);
        this.opts.metrics?.sourceSyncFailed(isUrlSource(w.source) ? w.source.url : w.source.path);
      }
    } catch (e) {
      error = e;
      state = await cachedClone(w, this.cacheDirs.get(w)!, e);
    }
    const before = this.seenErrors.get(key);
    if (error && error !== before) {
      // A new error object means a new failed attempt (a stale answer during backoff repeats the old one).
      this.opts.metrics?.sourceSyncFailed(isUrlSource(w.source) ? w.source.url : w.source.path);
      if (before === undefined) {
        log.warn({ repo: key, err: (error as Error).message, retryInMs: w.retryInMs(), usingLastKnown: state !== undefined }, `cannot sync ${key}: ${(error as Error).message}; ${state ? 'the last known state stays in force' : 'no state yet'}`);
      }
      this.seenErrors.set(key, error);
    } else if (!error && before !== undefined) {
      log.info({ repo: key }, `${key} is reachable again`);
      this.seenErrors.delete(key);
    }
    return state;
  }

  private key(w: RepoWatcher): string {
    return describeSource(w.source);
  }
}

function staleness(state: WatchedState): Pick<Snapshot, 'stale' | 'syncError'> {
  return state.stale ? { stale: true, syncError: state.error.message } : { stale: false };
}

/** Labels of the environment's folder catalogs (not its `url:` ones, labelled by their sync). */
async function folderLabels(env: Environment, urlCatalogs: Array<{ name: string }>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of env.catalogs) {
    if (urlCatalogs.some((u) => u.name === c.name) || !c.root) continue;
    const label = await folderLabel(c.root);
    if (label) out[c.name] = label;
  }
  return out;
}

/**
 * What the ledger records as the version of a folder catalog (the same labels `berth apply` uses): Berth's own
 * version for the built-in one, the HEAD of the repository holding a folder, nothing for a plain folder.
 */
async function folderLabel(root: string): Promise<string | undefined> {
  if (path.resolve(root) === path.resolve(builtinCatalogRoot())) return `berth-${berthVersion()}`;
  const repo = await git.findRoot({ fs: defaultFs, filepath: path.resolve(root) }).catch(() => undefined);
  const head = repo && (await git.resolveRef({ fs: defaultFs, dir: repo, ref: 'HEAD' }).catch(() => undefined));
  return head || undefined;
}

/**
 * After a restart with the remote down, the clone a previous process left in the cache is the last known state
 * (checked out again, in case that process died between moving the branch and updating the files). Only for an
 * unreachable remote: a refused credential or a missing repository must not be papered over.
 */
async function cachedClone(w: RepoWatcher, cacheDir: string, error: unknown): Promise<WatchedState | undefined> {
  const { source } = w;
  if (!isUrlSource(source) || !(error instanceof BerthError) || error.kind !== 'unreachable') return undefined;
  const dir = path.join(cacheDir, cacheName(source.url, source.branch));
  try {
    const commit = await git.resolveRef({ fs: defaultFs, dir, ref: `refs/heads/${source.branch}` });
    await git.checkout({ fs: defaultFs, dir, ref: source.branch, force: true });
    return { dir, commit, changed: false, stale: true, syncedAt: new Date(0), error, retryAt: new Date(Date.now() + w.retryInMs()) };
  } catch {
    return undefined;
  }
}
