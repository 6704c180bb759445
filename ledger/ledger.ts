/**
 * The deploy ledger: a branch (default `berth/deployed`) where every deploy of a stack is one commit holding
 * what was deployed — and where `git revert` of such a commit is a rollback Berth carries out. Writes go through
 * compare-and-swap on the branch head and are serialized per instance; the remote, when there is one, wins over
 * unpushed local commits, since a person's revert pushed there is intent and a Berth record can be rewritten.
 */
import { createHash } from 'node:crypto';
import git from 'isomorphic-git';
import { BerthError, ConflictError } from '../lib/errors.ts';
import { commitFiles, fetchBranch, pushBranch, readFilesAt, type Author, type CommitInfo } from '../lib/git/index.ts';
import { defaultFs, type GitFs } from '../lib/git/fs.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import type { DesiredOptions } from '../engines/standalone/desired.ts';
import type { Environment } from '../environment/environment.ts';
import { ledgerDesired } from './pin.ts';
import { buildState, LEDGER_README, observeHosts, parseOr, type HostState, type RecordContext } from './write.ts';
import { readTrailers, recordFromYaml, removalMessage, sameSources, type DeployMode, type LedgerRecord, type Sources, type Trigger } from './record.ts';
import { restoreTo, revertLatest, type RollbackResult } from './rollback.ts';
import { FolderOids, isBerthCommit, latestIndex, LedgerView, personTarget, stackDir, type LatestIndex } from './tree.ts';
import type { StackOutcome } from '../controller/reconcile.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import type { StackSpec } from '../environment/types.ts';

export type { RecordContext } from './write.ts';
export type { RollbackResult } from './rollback.ts';

export const DEFAULT_LEDGER_BRANCH = 'berth/deployed';
const MAX_TRIES = 4;
/**
 * A background push that failed is tried again after this long, doubling up to PUSH_RETRY_MAX_MS, not at the next
 * commit: a push that timed out keeps building its pack after the deadline gave up on it, and with a thousand
 * stacks deploying, a retry per commit (each carrying every commit so far) starved the deploys of CPU.
 */
const PUSH_RETRY_MIN_MS = 15_000;
const PUSH_RETRY_MAX_MS = 5 * 60_000;
/** Stack folders' files kept per head (the record and the rollback check of one reconcile read the same ones). */
const FILES_KEPT = 32;

export interface LedgerOptions {
  /** A local clone (or the repository itself) holding the branch. */
  dir: string;
  branch?: string;
  remote?: { url: string; token?: string; username?: string };
  author?: { name: string; email: string };
  log?: Logger;
  fs?: GitFs;
  /**
   * Push after a record in the background instead of before it returns: `berth serve`, where a push (which reads
   * the whole branch tree) per deploy would make the ledger, not the engines, the limit of a thousand deploys. One
   * push at a time carries every commit made meanwhile; a failed or lost one is retried with the next commit or
   * fetch, and flush() waits for the last. One-shot commands push before they return.
   */
  deferPush?: boolean;
}

export interface RollbackInForce {
  /** `stacks/<stack>/` files of the state to run, relative to that folder. */
  files: Record<string, string>;
  record: LedgerRecord;
  /** The commit a person undid (git revert) or restored (`berth rollback --to`). */
  revertedCommit: string;
  /** The Berth deploy whose state this is, when one matches. */
  restoredFrom: string;
  /** The newest change to the stack is the person's, not yet carried out: deploying it is not drift. */
  requested: boolean;
  /** The person's rollback asks for the data the reverted upgrade snapshotted to be restored (when `requested`). */
  restoreData?: boolean;
  /** The deploy whose snapshots to restore, when not the one reverted (a rollback --to with the data). */
  dataFrom?: string;
}

export interface StackState {
  record?: LedgerRecord;
  commit?: string;
  rollback?: RollbackInForce;
}

export interface HistoryEntry {
  commit: string;
  when: string;
  subject: string;
  trigger?: string;
  outcome?: string;
  template?: string;
  /** `remove`: Berth deleted the stack's folder because its stack file left the environment. */
  mode?: DeployMode | 'remove';
  author: string;
  /** The deploy snapshotted the stack's data before it upgraded it: a rollback of it can restore that data. */
  snapshots?: true;
}

const isConflict = (e: unknown) => e instanceof BerthError && e.kind === 'conflict';

/**
 * Everything buildState reads besides the branch, hashed: the same fingerprint on the same head is the same tree.
 * Hashed (not kept as text) because the desired state carries decrypted secrets.
 */
function stateFingerprint(desired: DesiredStack, hosts: Record<string, HostState>, ctx: RecordContext): string {
  const inputs = [desired.name, desired.source, desired.rendered ?? desired.model, desired.hosts, desired.secretAnswers ?? {}, desired.secrets, desired.immutable ?? null, hosts, ctx.sources, ctx.mode, ctx.catalog ?? null, ctx.rollback ?? null, ctx.snapshots ?? null, ctx.dataRestored ?? null];
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

/**
 * What is known of the branch at one head commit. All of it holds until the head moves, and the head stays put
 * while nothing deploys: the timer's reconciles of unchanged stacks then read nothing from git at all.
 */
interface HeadFacts {
  head: string | null;
  view: LedgerView;
  /** Per stack: the newest commit that changed its folder (built from the previous head's, when it descends from it). */
  latest?: Promise<LatestIndex>;
  /** `commit:stack` → the stack folder's files at that commit: the last FILES_KEPT read, and only while the head stays. */
  files: Map<string, Promise<Record<string, string>>>;
  readme?: Promise<boolean>;
}

export class Ledger {
  readonly dir: string;
  readonly branch: string;
  private readonly remote?: LedgerOptions['remote'];
  private readonly author: Author;
  private readonly log: Logger;
  private readonly fs: GitFs;
  private tail: Promise<unknown> = Promise.resolve();
  /** The remote branch head as last seen (fetched or pushed); undefined before the first contact. */
  private remoteHead?: string | null;
  private waitingRefresh?: Promise<void>;
  /** The last fetch failed: don't try again for every no-op record until a refresh succeeds. */
  private offline = false;
  private readonly oids: FolderOids;
  private facts?: HeadFacts;
  /** Per stack: `head:fingerprint` of the last record that found the branch already holding that state. */
  private readonly recorded = new Map<string, string>();
  /** The branch head as last read: read again after anything this instance did to the branch (all of it is serial). */
  private seenHead?: Promise<string | null>;
  /** The background push in flight (deferPush), and whether another is wanted after it. */
  private pushing?: Promise<void>;
  private pushAgain = false;
  /** Failed background pushes in a row; the next waits pushRetryMs() unless flush() asks for it now. */
  private pushFailures = 0;
  /** Ends the wait before a background push retry (flush, or the process stopping). */
  private wakePush?: () => void;
  /** The stack folders' tree ids at one head. */
  private folders?: { head: string | null; oids: Promise<Map<string, string>> };

  constructor(private readonly opts: LedgerOptions) {
    this.dir = opts.dir;
    this.branch = opts.branch ?? DEFAULT_LEDGER_BRANCH;
    this.remote = opts.remote;
    this.author = opts.author ?? { name: 'Berth', email: 'berth@localhost' };
    this.log = opts.log ?? silentLogger;
    this.fs = opts.fs ?? defaultFs;
    this.oids = new FolderOids(this.fs, this.dir);
  }

  /** One writer at a time per instance; other processes are kept out by the compare-and-swap. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn).finally(() => (this.seenHead = undefined));
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * The tree id of `stacks/<stack>/` at the branch head (null: no such folder). It moves with every record, revert
   * and rollback of that stack and with nothing else, so a caller can tell whether the ledger's say on it changed;
   * while nothing is written or fetched, answering reads nothing from git.
   */
  async stackVersion(stack: string): Promise<string | null> {
    const head = await (this.seenHead ??= this.head());
    if (!this.folders || this.folders.head !== head) {
      const oids = head === null ? Promise.resolve(new Map<string, string>()) : this.stackFolders(head);
      const entry = (this.folders = { head, oids });
      oids.catch(() => this.folders === entry && (this.folders = undefined));
    }
    return (await this.folders.oids).get(stack) ?? null;
  }

  /** The stacks that have a folder at the branch head. */
  async stacks(): Promise<string[]> {
    const head = await (this.seenHead ??= this.head());
    if (head === null) return [];
    if (!this.folders || this.folders.head !== head) await this.stackVersion('');
    return [...(await this.folders!.oids).keys()].sort();
  }

  private async stackFolders(head: string): Promise<Map<string, string>> {
    try {
      const { tree } = await git.readTree({ fs: this.fs, dir: this.dir, oid: head, filepath: 'stacks' });
      return new Map(tree.filter((e) => e.type === 'tree').map((e) => [e.path, e.oid]));
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return new Map();
      throw e;
    }
  }

  private view(): LedgerView {
    return new LedgerView(this.fs, this.dir, this.branch, this.oids);
  }

  /** The facts of the current head, started afresh when it moved (by a deploy, a fetch or a person's push). */
  private async atHead(): Promise<HeadFacts> {
    return this.factsOf(await this.head());
  }

  /** The facts of a head the caller has just read. */
  private factsOf(head: string | null): HeadFacts {
    if (!this.facts || this.facts.head !== head) {
      const previous = this.facts?.latest;
      const facts: HeadFacts = { head, view: new LedgerView(this.fs, this.dir, head ?? this.branch, this.oids), files: new Map() };
      if (head !== null) {
        facts.latest = (previous ?? Promise.resolve(undefined)).catch(() => undefined).then((p) => latestIndex(this.fs, this.dir, head, p));
        // A failed read is not a fact: the next caller builds the index again.
        facts.latest.catch(() => this.facts === facts && delete facts.latest);
      }
      this.facts = facts;
    }
    return this.facts;
  }

  private static memo<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    let found = map.get(key);
    if (!found) {
      found = make();
      map.set(key, found);
      // A failed read is not a fact: the next caller tries again.
      found.catch(() => map.delete(key));
    }
    return found;
  }

  /** The newest change to the stack's folder at the head, with the view that found it. */
  private async latestChange(stack: string): Promise<{ facts: HeadFacts; commit?: CommitInfo }> {
    const facts = await this.atHead();
    const commit = facts.head === null ? undefined : (await (facts.latest ??= latestIndex(this.fs, this.dir, facts.head))).latest.get(stack);
    return { facts, commit };
  }

  /** The stack folder's files at a commit (a copy: callers may keep or change theirs). */
  private async filesAt(facts: HeadFacts, commit: string, stack: string): Promise<Record<string, string>> {
    const files = Ledger.memo(facts.files, `${commit}:${stack}`, () => readFilesAt(this.dir, commit, stackDir(stack), { fs: this.fs }));
    // A pass over a thousand stacks must not leave a thousand stacks' files behind for as long as nothing deploys.
    for (const key of facts.files.keys()) {
      if (facts.files.size <= FILES_KEPT) break;
      facts.files.delete(key);
    }
    return { ...(await files) };
  }

  private head(): Promise<string | null> {
    return git.resolveRef({ fs: this.fs, dir: this.dir, ref: `refs/heads/${this.branch}` }).catch(() => null);
  }

  /** A crash while the branch was being moved left its lock: taken over, and said so. */
  private readonly staleLock = (lock: string, ageMs: number) =>
    this.log.warn({ branch: this.branch, lock, ageMs: Math.round(ageMs) }, `ledger: removed the stale lock ${lock} a process that died while moving ${this.branch} left behind`);

  hasRemote(): boolean {
    return this.remote !== undefined;
  }

  /**
   * Stacks deploying side by side each ask for a refresh; those that ask while one is still waiting its turn
   * share it (its fetch has not started, so it is as fresh as they need), instead of fetching once each.
   */
  refresh(): Promise<void> {
    this.waitingRefresh ??= this.serial(() => {
      this.waitingRefresh = undefined;
      return this.pull().then(() => {
        if (this.offline) this.log.info({ branch: this.branch }, 'ledger: the remote is reachable again');
        this.offline = false;
      }, (e) => {
        // Said once when the remote goes away, not on every reconcile of every stack while it stays away.
        if (!this.offline) this.log.warn({ branch: this.branch, err: (e as Error).message }, 'ledger: cannot fetch the ledger branch; using the local copy until the remote is back');
        this.offline = true;
        throw e;
      });
    });
    return this.waitingRefresh;
  }

  /** Fetches the remote branch: behind → fast-forward, ahead → push what is pending, diverged → the remote wins. */
  private async pull(): Promise<void> {
    if (!this.remote) return;
    const r = await fetchBranch(this.dir, { ...this.remote, branch: this.branch, fastForward: true, fs: this.fs });
    this.remoteHead = r.commit;
    if (r.local === null || r.local === r.commit) return;
    if (r.commit === null || (await git.isDescendent({ fs: this.fs, dir: this.dir, oid: r.local, ancestor: r.commit, depth: -1 }))) {
      await this.pushOrDefer().catch((e) => this.log.warn({ err: (e as Error).message }, 'ledger: pending commits not pushed yet'));
      return;
    }
    this.log.warn({ branch: this.branch, dropped: r.local, remote: r.commit }, 'ledger: the remote branch moved on while local commits were unpushed; the remote wins, the next deploy records the state again');
    await git.writeRef({ fs: this.fs, dir: this.dir, ref: `refs/heads/${this.branch}`, value: r.commit, force: true });
  }

  /** Pushes now, or (deferPush) has the background push carry the new commits. */
  private async pushOrDefer(): Promise<void> {
    if (!this.opts.deferPush) return void (await this.push());
    if (!this.remote) return;
    this.pushAgain = true;
    this.pushing ??= this.pushLoop()
      .catch((e) => this.log.warn({ branch: this.branch, err: (e as Error).message }, 'ledger: push failed; the commits stay local and go with the next one'))
      .finally(() => (this.pushing = undefined));
  }

  /**
   * Pushes while commits keep coming. A rejected push means the remote moved on (a person's revert, another
   * controller): the remote wins as in any fetch, and the stacks whose records were dropped are recorded again
   * by their next reconcile (their folder on the branch is not what their last reconcile saw).
   */
  private async pushLoop(): Promise<void> {
    while (this.pushAgain) {
      if (this.pushFailures) await this.pushRetryWait();
      this.pushAgain = false;
      try {
        // A failure stays pending: the next commit, unchanged record or fetch asks again, and that try waits.
        await this.push();
      } catch (e) {
        if (!isConflict(e)) throw e;
        this.pushAgain = false;
        this.pushFailures = 0;
        await this.serial(() => this.pull()).catch((err) => this.log.warn({ branch: this.branch, err: (err as Error).message }, 'ledger: cannot reach the remote; pending commits wait'));
      }
    }
  }

  /** How long the background push waits after `pushFailures` failures in a row. */
  private pushRetryMs(): number {
    return Math.min(PUSH_RETRY_MAX_MS, PUSH_RETRY_MIN_MS * 2 ** Math.max(0, this.pushFailures - 1));
  }

  private pushRetryWait(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.pushRetryMs());
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakePush = () => {
        this.wakePush = undefined;
        done();
      };
    });
  }

  /** Waits for the background push (deferPush) to finish what it has: before the process exits. A retry waiting out its backoff goes now. */
  async flush(): Promise<void> {
    this.wakePush?.();
    await this.pushing?.catch(() => undefined);
  }

  /** True when pushed; a rejected push throws (the caller rebuilds on the remote), other failures wait for the next try. */
  private async push(): Promise<boolean> {
    if (!this.remote || (await this.head()) === null) return false;
    try {
      this.remoteHead = (await pushBranch(this.dir, { ...this.remote, branch: this.branch, fs: this.fs })).commit;
      this.pushFailures = 0;
      return true;
    } catch (e) {
      if (isConflict(e)) throw e;
      this.pushFailures++;
      const retry = this.opts.deferPush ? { retryInMs: this.pushRetryMs() } : {};
      this.log.warn({ branch: this.branch, err: (e as Error).message, ...retry }, `ledger: push failed; the commit stays local and is pushed with the next one${this.opts.deferPush ? ` (not before ${Math.round(this.pushRetryMs() / 1000)} s)` : ''}`);
      return false;
    }
  }

  /** The newest commit that changed the stack's folder, with its files and record. */
  async latest(stack: string): Promise<{ commit: string; subject: string; files: Record<string, string>; record?: LedgerRecord } | undefined> {
    const { facts, commit: c } = await this.latestChange(stack);
    if (!c) return undefined;
    const files = await this.filesAt(facts, c.sha, stack);
    return { commit: c.sha, subject: c.subject, files, record: files['deploy.yml'] ? recordFromYaml(files['deploy.yml']) : undefined };
  }

  /**
   * The recorded state, and whether a rollback is in force: the newest change to the stack was a person's (a
   * revert, `berth rollback`), or Berth's own rollback deploy while the sources are still the ones it saw.
   */
  async stackState(stack: string, sources: Sources): Promise<StackState> {
    const { facts, commit: head } = await this.latestChange(stack);
    if (!head) return {};
    const view = facts.view;
    const files = await this.filesAt(facts, head.sha, stack);
    if (!files['deploy.yml']) {
      // Berth's own removal of a stack whose file left the environment: nothing to roll back to, nothing to say.
      if (isBerthCommit(head, stack) && readTrailers(head.message).mode === 'remove') return {};
      this.log.warn({ stack, commit: head.sha }, `ledger: ${head.sha.slice(0, 7)} removed stacks/${stack}/; deploying from the environment (a rollback needs an earlier state to go to)`);
      return {};
    }
    const record = recordFromYaml(files['deploy.yml'], `stacks/${stack}/deploy.yml`);
    const base = { record, commit: head.sha };
    if (!isBerthCommit(head, stack)) {
      const target = personTarget(head);
      const t = readTrailers(head.message);
      const data = t.restoreData ? { restoreData: true, ...(t.restoreDataFrom ? { dataFrom: t.restoreDataFrom } : {}) } : {};
      return { ...base, rollback: { files, record, revertedCommit: target, restoredFrom: (await view.restoredFrom(stack, head)) ?? target, requested: true, ...data } };
    }
    const t = readTrailers(head.message);
    if (t.mode !== 'rollback' || !sameSources({ environment: t.environment ?? '', catalogs: t.catalogs }, sources)) return base;
    const person = (await view.touching(stack)).find((c) => !isBerthCommit(c, stack));
    const restoredFrom = record.restored_from ?? head.sha;
    return { ...base, rollback: { files, record, revertedCommit: person ? personTarget(person) : restoredFrom, restoredFrom, requested: false } };
  }

  /** The desired state of a ledger folder; `secrets` maps each secret variable to its (decrypted) value. */
  desiredFromLedger(env: Environment, spec: StackSpec, files: Record<string, string>, secrets: Record<string, string>, opts: DesiredOptions = {}): Promise<DesiredStack> {
    return ledgerDesired(env, spec, files, secrets, opts);
  }

  /**
   * Records what the reconcile left running — always, even when it changed nothing, so a crash between apply and
   * record is healed by the next reconcile; an identical state makes no commit. Returns the commit, or null.
   */
  async record(outcome: StackOutcome, ctx: RecordContext): Promise<string | null> {
    const desired = outcome.desired;
    if (!desired || !outcome.observed || outcome.outcome === 'planned') return null;
    const hosts = await observeHosts(outcome, desired, ctx.engine, this.log);
    const fingerprint = stateFingerprint(desired, hosts, ctx);
    return this.serial(() => this.retrying(async () => {
      const head = await this.ensureReadme(await this.head());
      // The usual case on a timer: the same state again, on the same head. Known without building it again.
      if (head && this.recorded.get(outcome.stack) === `${head}:${fingerprint}`) {
        await this.settlePending(head);
        return null;
      }
      const current = head ? await this.filesAt(this.factsOf(head), head, outcome.stack) : {};
      const { files, message } = buildState(desired, hosts, current, ctx);
      const same = Object.entries(files).every(([f, text]) => text !== null && current[f.slice(stackDir(outcome.stack).length + 1)] === text);
      if (same && head) this.recorded.set(outcome.stack, `${head}:${fingerprint}`);
      const sha = same ? null : await commitFiles(this.dir, { branch: this.branch, parent: head, files, message, author: this.author, fs: this.fs, onStaleLock: this.staleLock });
      if (sha) await this.pushOrDefer();
      else await this.settlePending(head);
      return sha;
    }));
  }

  /**
   * Nothing new to commit, but an earlier commit may be unpushed: push it now, or — when the remote moved on
   * meanwhile and won — have the state rebuilt on top of the remote head.
   */
  private async settlePending(head: string | null): Promise<void> {
    if (!this.remote || this.offline || head === this.remoteHead) return;
    // The background push carries them (and on a rejection lets the remote win): no fetch per unchanged record.
    if (this.opts.deferPush) return this.pushOrDefer();
    await this.pull().catch((e) => this.log.warn({ branch: this.branch, err: (e as Error).message }, 'ledger: cannot reach the remote; pending commits wait'));
    if ((await this.head()) !== head) throw new ConflictError('LEDGER_REMOTE_MOVED', `the remote ${this.branch} moved on; recording again on top of it`);
  }


  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isConflict(e) || attempt >= MAX_TRIES) throw e;
        await this.pull();
      }
    }
  }

  /**
   * Records a stack pruned because its file left the environment: one commit deleting its folder (null when there
   * is none). Reverting that commit restores the folder, which Berth then deploys as a rollback.
   */
  async recordRemoval(stack: string, ctx: { trigger: Trigger; sources: Sources; cause: string; removedFrom: string[] }): Promise<string | null> {
    return this.serial(() => this.retrying(async () => {
      const head = await this.head();
      if (head === null) return null;
      const current = await this.filesAt(this.factsOf(head), head, stack);
      if (!Object.keys(current).length) return null;
      const files = Object.fromEntries(Object.keys(current).map((f) => [`${stackDir(stack)}/${f}`, null]));
      const message = removalMessage(stack, parseOr(current['deploy.yml']), { trigger: ctx.trigger, seen: ctx.sources, cause: ctx.cause, removedFrom: ctx.removedFrom });
      const sha = await commitFiles(this.dir, { branch: this.branch, parent: head, files, message, author: this.author, fs: this.fs, onStaleLock: this.staleLock });
      if (sha) await this.pushOrDefer();
      return sha;
    }));
  }

  /** The README goes in a commit of its own, so reverting a stack's first deploy never takes it away. */
  private async ensureReadme(head: string | null): Promise<string | null> {
    if (head && (await this.hasReadme(head))) return head;
    const sha = await commitFiles(this.dir, { branch: this.branch, parent: head, files: { 'README.md': LEDGER_README }, message: 'Start the Berth deploy ledger', author: this.author, fs: this.fs, onStaleLock: this.staleLock });
    return sha ?? head;
  }

  private hasReadme(head: string): Promise<boolean> {
    const facts = this.factsOf(head);
    if (!facts.readme) {
      facts.readme = git.readTree({ fs: this.fs, dir: this.dir, oid: head }).then((t) => t.tree.some((e) => e.path === 'README.md' && e.type === 'blob'));
      facts.readme.catch(() => (facts.readme = undefined));
    }
    return facts.readme;
  }

  /** Newest first: every change to the stack, Berth's deploys and people's reverts alike. */
  async history(stack: string, limit = 20): Promise<HistoryEntry[]> {
    const commits = await this.view().touching(stack, limit);
    return Promise.all(commits.map(async (c) => {
      const t = readTrailers(c.message);
      const berth = isBerthCommit(c, stack);
      const base = { commit: c.sha, when: new Date(c.timestamp * 1000).toISOString(), subject: c.subject, author: c.author.name };
      const snapshots = /^Data snapshot before the upgrade on /m.test(c.message) ? { snapshots: true as const } : {};
      if (berth) return { ...base, trigger: t.trigger, outcome: t.outcome, template: t.template, mode: t.mode === 'rollback' || t.mode === 'remove' ? t.mode : 'render' as const, ...snapshots };
      const deploy = (await readFilesAt(this.dir, c.sha, stackDir(stack), { fs: this.fs }))['deploy.yml'];
      const r = deploy ? recordFromYaml(deploy) : undefined;
      return { ...base, trigger: t.rollbackTo ? 'rollback' : 'revert', template: r && `${r.template}@${r.version}`, mode: 'rollback' as const };
    }));
  }

  /**
   * Without `to`: `git revert` of the stack's latest Berth deploy. With `to`: a commit setting the stack's folder
   * to its content at `to`, marked `Berth-Rollback-To`. Either is a person's intent that Berth then deploys.
   */
  rollback(stack: string, opts: { to?: string; author?: Author; withData?: boolean } = {}): Promise<RollbackResult> {
    return this.serial(async () => {
      await this.pull();
      // A person's rollback (the console's) carries their name; the CLI's, Berth's.
      const place = { fs: this.fs, dir: this.dir, branch: this.branch, author: opts.author ?? this.author };
      const made = await this.retrying(() => (opts.to ? restoreTo(place, stack, opts.to, { withData: opts.withData }) : revertLatest(place, stack, { withData: opts.withData })));
      return { ...made, pushed: await this.push() };
    });
  }
}
