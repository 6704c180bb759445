/**
 * The controller of `berth serve`. Sources are synced, then every stack is reconciled: once at startup
 * (nothing assumes the previous process exited cleanly), on every timer tick (that is what heals drift), and
 * on every webhook for the watched branch. Each reconcile knows why it ran, and its status is written in a
 * finally, so a reconcile that throws or hangs past its deadline still leaves a truthful status behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import cron from 'node-cron';
import type { Catalog } from '../catalog/types.ts';
import { BerthError } from '../lib/errors.ts';
import type { RepoSource } from '../lib/git/source.ts';
import type { Logger } from '../lib/log.ts';
import type { Trigger } from '../webhooks/types.ts';
import { formatEvent, type EventSink } from '../engines/events.ts';
import { Metrics } from './metrics.ts';
import { ReconcileQueue, type Job, type Reason, type TriggerKind } from './queue.ts';
import { Engines } from '../engines/registry.ts';
import type { StackEngine } from '../engines/engine.ts';
import type { SwarmEngine } from '../engines/swarm/engine.ts';
import type { EngineDriver } from '../engines/standalone/driver.ts';
import { Sources, type Snapshot } from '../environment/sources.ts';
import { StackBook, revisionOf, type StackState } from './stack-state.ts';
import { StackBackoff } from './backoff.ts';
import type { BackoffOptions } from '../lib/git/watcher.ts';
import { deployStack, type DeployFn, type DeployOutcome } from './deploy.ts';
import { pruneStack, removedStacks } from './prune.ts';
import { openLedger } from '../ledger/open.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Environment } from '../environment/environment.ts';
import { availableUpgrades } from '../upgrades/available.ts';
import { builtinCatalogRoot } from '../lib/version.ts';
import { catalogKeys, inputsKey, observedKey, readRecorder, StackMemo } from './memo.ts';
import { DriftWatch } from './drift-watch.ts';
import { desiredImages } from './reconcile.ts';
import type { StackSpec } from '../environment/types.ts';

export type { StackState } from './stack-state.ts';

export interface ControllerOptions {
  env: RepoSource;
  cacheDir: string;
  /** Default `berth/deployed`. */
  ledgerBranch?: string;
  /** A cron expression (node-cron, 5 or 6 fields) … */
  cron?: string;
  /** … or a plain interval, for tests and demos. */
  intervalMs?: number;
  /** Per reconcile; default 10 minutes. */
  deadlineMs?: number;
  concurrency?: number;
  log: Logger;
  metrics?: Metrics;
  /** The per-stack reconcile; default deployStack (render or roll back, apply, record in the ledger). */
  deploy?: DeployFn;
  processEnv?: Record<string, string | undefined>;
  /** Per-stack backoff of failed reconciles (default 10 s doubling to 10 min). */
  backoff?: BackoffOptions;
}

/** A stack absent from an environment read whole and fresh: its file was removed, so it is pruned. */
function removable(snap: Snapshot, stack: string): boolean {
  return snap.env !== undefined && !snap.error && !snap.stale && !snap.env.stacks.some((s) => s.name === stack);
}

/** The order in which a folded run names its trigger: what a person did beats what a timer did. */
const KIND_RANK: TriggerKind[] = ['merge', 'push', 'revert', 'cli', 'webhook', 'startup', 'drift', 'timer'];

export class Controller {
  readonly metrics: Metrics;
  private readonly sources: Sources;
  private readonly queue: ReconcileQueue;
  private readonly book = new StackBook();
  private readonly backoff: StackBackoff;
  private readonly log: Logger;
  private readonly deploy: DeployFn;
  private registry?: { key: string; engines: Engines };
  /** Opened once, on the first synced environment; undefined for a plain folder (no git, no ledger). */
  private ledger?: Promise<Ledger | undefined>;
  private catalogs = new Map<string, Catalog>();
  /** What each stack's last quiet reconcile saw, as hashes: a pass renders only the stacks whose inputs or state moved. */
  private readonly memo = new StackMemo();
  /** Per catalog name, its version for the memo (catalogKeys), taken once per pass. */
  private catalogVersions = new Map<string, string | undefined>();
  /** The environment and catalog versions at which no stack lacked a generated answer. */
  private nothingToGenerate?: { env: Environment; catalogs: string };
  /** The environment and revision upgrades were last looked for at: the same again finds the same. */
  private upgradesFor?: { env: Environment; revision: string };
  private timer?: { stop(): void };
  private ticking = false;
  private checkingUpgrades = false;
  /** The newest environment a refresh asked to check while a check ran: checked right after it, not dropped. */
  private upgradesAgain?: Environment;
  private running = false;
  private stopping = new AbortController();
  /** Drift seen as it happens: the engines' event streams, followed while this registry of engines is in use. */
  private readonly drift: DriftWatch;
  private watching?: AbortController;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.log;
    this.metrics = opts.metrics ?? new Metrics();
    this.deploy = opts.deploy ?? deployStack;
    this.backoff = new StackBackoff(opts.backoff);
    this.sources = new Sources({ env: opts.env, cacheDir: opts.cacheDir, log: opts.log, metrics: this.metrics, processEnv: opts.processEnv });
    this.queue = new ReconcileQueue({ work: (job) => this.reconcile(job), concurrency: opts.concurrency, deadlineMs: opts.deadlineMs, log: opts.log });
    this.drift = new DriftWatch({
      log: this.log, metrics: this.metrics, stacks: () => this.book.names(),
      enqueue: (stack, why) => void this.queue.enqueue(stack, { kind: 'drift', why }),
      invalidate: (stack) => this.engineOf(stack)?.invalidate?.(stack),
      resync: (target, why) => this.resync(target, why),
    });
  }

  /** True once the environment has been synced and the loop is running. */
  get started(): boolean {
    return this.running;
  }

  /**
   * Syncs the sources (retrying with backoff while the environment has never been reachable; a wrong URL,
   * branch or credential fails at once), queues a reconcile of every stack and arms the timer.
   */
  async start(): Promise<void> {
    let snap = await this.sources.refresh();
    while (!snap.dir) {
      if (snap.error instanceof BerthError && snap.error.kind === 'user') throw snap.error;
      const stopped = await sleep(Math.max(1_000, this.sources.retryInMs()), false, { signal: this.stopping.signal }).catch(() => true);
      if (stopped) return;
      snap = await this.sources.refresh();
    }
    snap = await this.adoptGenerating(snap);
    await this.preparePass(snap);
    this.enqueueAll({ kind: 'startup', why: 'startup' });
    void this.enqueueRemoved({ kind: 'startup', why: 'startup' });
    if (snap.env) void this.upgrades(snap.env);
    this.armTimer();
    this.running = true;
    this.log.info({ commit: snap.commit, stacks: this.book.names().length }, 'controller started');
  }

  /** A webhook: fetch now (skipping any backoff), then reconcile every stack. Returns at once. */
  trigger(t: Trigger): void {
    if (this.stopping.signal.aborted) return;
    const why = `${t.kind}${t.after ? ` ${t.after.slice(0, 7)}` : ''}`;
    const reason = { kind: t.kind, why, deliveryId: t.deliveryId };
    this.refreshThen(reason, true).catch((e) => this.log.error({ err: (e as Error).message }, 'webhook trigger failed'));
  }

  stacks(): StackState[] {
    return this.book.list();
  }

  stack(name: string): StackState | undefined {
    return this.book.get(name);
  }

  /** The environment source as last synced: for `/api/environment` and healthz. */
  environment(): { commit?: string; catalogs: Record<string, string>; stale: boolean; syncError?: string; error?: string; loadedAt?: string } {
    const s = this.sources.current();
    return { commit: s.commit, catalogs: s.catalogs, stale: s.stale, syncError: s.syncError, error: s.error?.message, loadedAt: s.loadedAt };
  }

  /** The environment as last synced, for the console's pages (its `env` holds no decrypted secret). */
  snapshot(): Snapshot {
    return this.sources.current();
  }

  /** The ledger of the environment repository; undefined for a plain folder or before the first sync. */
  ledgerNow(): Promise<Ledger | undefined> {
    return this.ledger ?? Promise.resolve(undefined);
  }

  /** The engines of the environment's hosts, by host name (the ones reconciles use). */
  swarmEngine(name: string): SwarmEngine | undefined {
    try {
      return this.registry?.engines.swarm(name);
    } catch {
      return undefined;
    }
  }

  engines(): Record<string, EngineDriver> {
    return this.registry?.engines.standalone.drivers ?? {};
  }

  /** A person changed the environment or the ledger through the console: fetch now and reconcile every stack. */
  changed(kind: 'push' | 'revert', why: string): void {
    if (this.stopping.signal.aborted) return;
    this.refreshThen({ kind, why }, true).catch((e) => this.log.error({ err: (e as Error).message }, 'refresh after a console change failed'));
  }

  /** Stops the timer, lets running reconciles finish (aborting them past `drainMs`) and drops queued ones. */
  async stop(drainMs = 60_000): Promise<void> {
    this.stopping.abort();
    this.timer?.stop();
    this.watching?.abort();
    this.drift.stop();
    this.running = false;
    await this.queue.drain(drainMs);
    // Deploys recorded in the last moments go out before the process ends (the next start would push them too).
    await (await this.ledger)?.flush();
  }

  private armTimer(): void {
    const tick = () => void this.tick();
    if (this.opts.intervalMs) {
      const handle = setInterval(tick, this.opts.intervalMs);
      this.timer = { stop: () => clearInterval(handle) };
    } else {
      const task = cron.schedule(this.opts.cron ?? '* * * * *', tick, { name: 'berth-reconcile', noOverlap: true });
      this.timer = { stop: () => void task.destroy() };
    }
  }

  /** A tick that finds the previous one still fetching is skipped: the queue would fold it anyway. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.drift.timerPass();
      await this.refreshThen({ kind: 'timer', why: 'timer' }, false);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'timer tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private async refreshThen(reason: Omit<Reason, 'at'>, force: boolean): Promise<void> {
    let snap = await this.sources.refresh({ force });
    if (this.stopping.signal.aborted) return;
    snap = await this.adoptGenerating(snap);
    await this.preparePass(snap);
    this.enqueueAll(reason);
    void this.enqueueRemoved(reason);
    // Upgrades are looked for beside the deploys, never in their way: a slow forge must not delay a reconcile.
    if (snap.env) void this.upgrades(snap.env);
  }

  /**
   * Marks each stack with the newer catalog version it could take and, when berth.yml names a forge, opens or
   * updates the merge requests — after every catalog change and on the timer, as the upgrade checker does.
   */
  private async upgrades(env: Environment): Promise<void> {
    if (this.checkingUpgrades) return void (this.upgradesAgain = env);
    // Without a forge the result is a function of the environment and the catalogs: the same again finds the same.
    const revision = JSON.stringify([...this.catalogVersions]);
    if (!env.forge && this.upgradesFor?.env === env && this.upgradesFor.revision === revision) return;
    this.checkingUpgrades = true;
    try {
      const found = new Map((await availableUpgrades(env, { catalogs: this.catalogs })).map((u) => [u.stack, u]));
      for (const name of this.book.names()) {
        const u = found.get(name);
        this.book.upgradeAvailable(name, u ? `${u.from} → ${u.to}` : undefined);
      }
      this.upgradesFor = { env, revision };
      // Even with nothing to propose, the run closes merge requests that became obsolete.
      if (!env.forge) return;
      // The forge clients (octokit, gitbeaker) load only for an environment that names a forge: ~27 MiB otherwise.
      const { defaultRemote, proposeUpgrades } = await import('../upgrades/propose.ts');
      // Pushed where serve pulls from, with its credentials (they push the ledger already); without any, the forge token.
      const source = this.opts.env;
      const remote = !('url' in source) ? undefined
        : source.token ? { url: source.url, token: source.token, username: source.username }
        : defaultRemote(env.forge, (this.opts.processEnv ?? process.env)[env.forge.tokenEnv], source.url);
      const results = await proposeUpgrades(env, { cacheDir: this.opts.cacheDir, remote, log: this.log, catalogs: this.catalogs, processEnv: this.opts.processEnv });
      for (const r of results) {
        if (r.action === 'closed' || (r.mergeRequest && r.action !== 'failed')) this.book.upgradeProposed(r.stack, r.action === 'closed' ? undefined : r.mergeRequest?.url);
      }
      for (const r of results.filter((x) => x.action !== 'unchanged' && x.action !== 'skipped')) {
        this.log.info({ stack: r.stack, action: r.action, mergeRequest: r.mergeRequest?.url, reason: r.reason }, `upgrade of ${r.stack}: ${r.action}`);
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'looking for upgrades failed; trying again on the next tick');
    } finally {
      this.checkingUpgrades = false;
      const again = this.upgradesAgain;
      this.upgradesAgain = undefined;
      if (again && !this.stopping.signal.aborted) void this.upgrades(again);
    }
  }

  /**
   * adopt, and when a stack lacks answers its template has Berth generate, a commit writing them (upgrades/
   * generated.ts) and the environment synced again: the stacks deploy from that commit, never from values in memory.
   */
  private async adoptGenerating(snap: Snapshot): Promise<Snapshot> {
    await this.adopt(snap);
    if (!snap.env || snap.error) return snap;
    // Which answers are missing is a function of the stack files and the catalogs: unchanged, nothing to look at.
    const versions = JSON.stringify([...this.catalogVersions]);
    if (this.nothingToGenerate?.env === snap.env && this.nothingToGenerate.catalogs === versions) return snap;
    const { fillGeneratedAnswers, stacksToGenerate } = await import('../upgrades/generated.ts');
    if (!(await stacksToGenerate(snap.env, this.catalogs)).length) {
      this.nothingToGenerate = { env: snap.env, catalogs: versions };
      return snap;
    }
    const { commit } = await fillGeneratedAnswers(snap.env, { source: this.opts.env, cacheDir: this.opts.cacheDir, log: this.log, catalogs: this.catalogs });
    if (!commit) return snap;
    const next = await this.sources.refresh({ force: true });
    await this.adopt(next);
    return next;
  }

  /**
   * Takes in a fresh snapshot: stacks added and gone, new engines when the hosts or swarms changed, the ledger once,
   * each catalog's version (for the memo).
   */
  private async adopt(snap: Snapshot): Promise<void> {
    // Catalogs are reloaded per refresh: a path catalog can change without any commit to notice.
    this.catalogs = new Map();
    if (snap.dir && snap.commit && !this.ledger) {
      const place = { dir: snap.dir, commit: snap.commit, branch: this.opts.ledgerBranch ?? 'berth/deployed', source: this.opts.env, log: this.log };
      this.ledger = openLedger(place).catch((e: Error) => {
        this.log.error({ err: e.message }, 'cannot open the ledger; deploying without records');
        return undefined;
      });
    }
    const ledger = await this.ledger;
    if (!snap.env) return;
    this.catalogVersions = await catalogKeys(snap.env, snap.catalogs, { cacheDir: this.opts.cacheDir, builtinRoot: builtinCatalogRoot() }).catch(() => new Map());
    const key = Engines.key(snap.env);
    if (this.registry?.key !== key) {
      this.registry = { key, engines: new Engines(snap.env) };
      this.follow(this.registry.engines);
    }
    const { added, gone } = this.book.sync(snap.env.stacks.map((s) => s.name));
    for (const name of gone) {
      this.metrics.forgetStack(name);
      this.backoff.forget(name);
      this.memo.forget(name);
    }
    // After a restart the status still names the last recorded deploy.
    for (const name of added) void ledger?.latest(name).then((l) => l && this.book.recorded(name, l.commit), () => undefined);
  }

  /**
   * Before a pass over every stack: the ledger fetched once (a person's revert there is an input of the stack it
   * touches) and each engine starts an observation round so the stacks of the pass share one list per host or Swarm.
   */
  private async preparePass(snap: Snapshot): Promise<void> {
    await (await this.ledger)?.refresh().catch(() => undefined);
    for (const engine of this.registry?.engines.all() ?? []) engine.newRound?.();
  }

  /** Follows the event streams of these engines (and stops following the previous ones). */
  private follow(engines: Engines): void {
    this.watching?.abort();
    if (this.stopping.signal.aborted) return;
    this.watching = new AbortController();
    for (const engine of engines.all()) engine.watch?.(this.drift, this.watching.signal);
  }

  /** The engine running a stack of the current environment. */
  private engineOf(stack: string): StackEngine | undefined {
    const spec = this.sources.current().env?.stacks.find((s) => s.name === stack);
    return spec && this.registry?.engines.for(spec);
  }

  /** A target's events came back after a gap: its stacks are checked in one pass (a fresh observation round). */
  private resync(target: string, why: string): void {
    const env = this.sources.current().env;
    if (!env || !this.registry || this.stopping.signal.aborted) return;
    const onSwarm = env.swarms?.some((s) => s.name === target);
    const stacks = env.stacks.filter((s) => (onSwarm ? s.swarm === target : s.swarm === undefined));
    if (!stacks.length) return;
    this.registry.engines.for(stacks[0]).newRound?.();
    const revision = revisionOf(this.sources.current());
    for (const s of stacks) if (!this.backoff.holds(s.name, revision)) this.queue.enqueue(s.name, { kind: 'drift', why });
  }

  /** A timer run leaves a stack alone while its backoff holds; anything else (a commit, a webhook) retries at once. */
  private enqueueAll(reason: Omit<Reason, 'at'>): void {
    const revision = revisionOf(this.sources.current());
    for (const name of this.book.names()) {
      if (reason.kind === 'timer' && this.backoff.holds(name, revision)) continue;
      this.queue.enqueue(name, reason);
    }
  }

  /**
   * Queues the stacks this environment deployed whose files are gone (controller/prune.ts) — only from an
   * environment read whole from a reachable repository: a broken or unreachable one prunes nothing.
   */
  private async enqueueRemoved(reason: Omit<Reason, 'at'>): Promise<void> {
    const snap = this.sources.current();
    if (!snap.env || snap.error || snap.stale || !this.registry || this.stopping.signal.aborted) return;
    try {
      for (const name of await removedStacks(snap.env, this.registry.engines, await this.ledger)) this.queue.enqueue(name, reason);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot look for removed stacks; trying again on the next pass');
    }
  }

  /** One reconcile of one stack. Whatever happens, the finally writes its status and metrics. */
  private async reconcile(job: Job): Promise<void> {
    const snap = this.sources.current();
    const spec = snap.env?.stacks.find((s) => s.name === job.key);
    const run = this.book.begin(job, snap);
    let result: DeployOutcome | undefined;
    let thrown: unknown;
    try {
      // A broken newest environment deploys nothing (not even the last good one): the operator's intent is the new commit.
      if (snap.error) throw snap.error;
      const kind = KIND_RANK.find((k) => job.reasons.some((r) => r.kind === k)) ?? 'timer';
      const trigger = { kind: kind === 'startup' ? ('timer' as const) : kind, why: run.why, deliveryId: run.deliveryIds[0] };
      if (!spec && !removable(snap, job.key)) return void this.book.forget(job.key);
      if (!snap.env || !this.registry) throw new BerthError('NOT_READY', 'internal', 'reconcile before the environment was adopted');
      const ledger = await this.ledger;
      if (!spec) {
        result = await pruneStack({
          env: snap.env, sources: { environment: snap.commit ?? 'unknown', catalogs: snap.catalogs }, engines: this.registry.engines,
          ledger, log: this.log, events: this.events(job.key), signal: job.signal, catalogs: this.catalogs, ledgerFetched: true,
        }, job.key, trigger);
        return;
      }
      const inputs = await this.inputsOf(spec, snap, ledger);
      result = inputs ? await this.unchangedSince(spec, inputs, snap, run.started, trigger.why) : undefined;
      if (result) return;
      const recorder = readRecorder();
      result = await this.deploy({
        env: snap.env, sources: { environment: snap.commit ?? 'unknown', catalogs: snap.catalogs }, engines: this.registry.engines,
        ledger, log: this.log, events: this.events(job.key), signal: job.signal, catalogs: this.catalogs,
        shared: true, ledgerFetched: true, onRead: recorder.onRead, onRender: () => this.metrics.rendered(),
      }, spec, trigger);
      await this.remember(spec, snap, ledger, result, recorder.reads);
    } catch (e) {
      thrown = e;
    } finally {
      const ended = this.book.end(run, result, thrown, job.signal);
      if (ended) {
        this.backOff(ended.state, run.revision);
        this.observe(ended.state, ended.drift);
      }
    }
  }

  /** The inputs key of a stack now; undefined when it cannot be memoised (its catalog cannot be keyed, its file is broken). */
  private async inputsOf(spec: StackSpec, snap: Snapshot, ledger: Ledger | undefined): Promise<string | undefined> {
    if (!snap.env) return undefined;
    const catalog = this.catalogVersions.get(spec.catalog ?? snap.env.catalogs[0]?.name ?? '');
    const ledgerFolder = ledger ? await ledger.stackVersion(spec.name).catch(() => undefined) : null;
    if (ledgerFolder === undefined) return undefined;
    return inputsKey({ env: snap.env, spec, catalog, ledgerFolder });
  }

  /**
   * A stack whose inputs and observed state hash as at its last quiet reconcile is unchanged without a render, a
   * plan or a record: the plan would be the same no-op. The observation comes from the engine's round.
   */
  private async unchangedSince(spec: StackSpec, inputs: string, snap: Snapshot, started: number, why: string): Promise<DeployOutcome | undefined> {
    const entry = await this.memo.valid(spec.name, inputs, snap.env!, snap.commit);
    if (!entry) return undefined;
    const observed = await this.registry!.engines.for(spec).observe(spec.name, entry.images, { shared: true });
    if (observedKey(observed) !== entry.observed) return undefined;
    this.log.debug({ stack: spec.name, why }, `stack ${spec.name} unchanged: its inputs and what runs are as at its last reconcile`);
    return { stack: spec.name, why, outcome: 'unchanged', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, mode: 'render' };
  }

  /** A quiet, recorded render is remembered (as hashes); anything else makes the next run a full one. */
  private async remember(spec: StackSpec, snap: Snapshot, ledger: Ledger | undefined, r: DeployOutcome, reads: Record<string, string | null>): Promise<void> {
    // The record may have moved the stack's ledger folder: the key is taken after it.
    const inputs = r.outcome === 'unchanged' && !r.error && r.unrecorded === undefined && r.mode === 'render' && r.desired && r.observed ? await this.inputsOf(spec, snap, ledger) : undefined;
    if (!inputs || !r.desired || !r.observed) return this.memo.forget(spec.name);
    this.memo.set(spec.name, { inputs, commit: snap.commit ?? '', reads, images: desiredImages(r.desired), observed: observedKey(r.observed) });
  }

  /** A failed run backs the stack off (said in its status); a good one clears it. A user error waits for a fix anyway. */
  private backOff(state: StackState, revision: string): void {
    if (state.status !== 'Failed') {
      this.backoff.succeeded(state.stack);
      return this.book.backingOff(state.stack, undefined);
    }
    const b = this.backoff.failed(state.stack, revision);
    this.book.backingOff(state.stack, b);
    this.log.warn({ stack: state.stack, failures: b.failures, retryAt: b.retryAt }, `stack ${state.stack}: failed ${b.failures} time(s) in a row; the timer retries it after ${b.retryAt}, a new commit at once`);
  }

  private observe(state: StackState, drift: boolean): void {
    const last = state.lastReconcile!;
    this.metrics.reconciled(state.stack, last.outcome, last.durationMs / 1000);
    if (drift) {
      this.metrics.driftHealed(state.stack);
      this.log.warn({ stack: state.stack, changes: last.changes }, `stack ${state.stack}: drift undone: ${last.changes.join('; ')}`);
    }
  }

  /** Progress goes to the log: finished steps at info, the rest at debug. */
  private events(stack: string): EventSink {
    return (e) => {
      const line = formatEvent(e);
      if (e.status === 'started') this.log.debug({ stack, host: e.host }, line);
      else this.log.info({ stack, host: e.host, action: e.action, status: e.status }, line);
    };
  }
}
