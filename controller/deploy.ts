/**
 * One deploy of one stack — the one path serve's loop, `berth apply|plan` and `berth demo` all take: read the
 * ledger (a rollback may be in force), compute the desired state (from the ledger, or rendered from the
 * environment with its secrets decrypted), reconcile through the stack's engine, and record what runs. The record
 * is written after every reconcile — also an unchanged one — so a crash between the apply and the record leaves
 * no deploy unrecorded. A plain folder (no git) has no ledger: it is reconciled without a record.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import path from 'node:path';
import fs from 'node:fs';
import git from 'isomorphic-git';
import { silentLogger, type Logger } from '../lib/log.ts';
import { parseStackFile } from '../lib/secrets.ts';
import { UserError } from '../lib/errors.ts';
import { boundedToJS } from '../lib/yaml-bounded.ts';
import type { Catalog } from '../catalog/types.ts';
import { desiredStack, plainAnswers, type DesiredOptions } from '../engines/standalone/desired.ts';
import type { Engines } from '../engines/registry.ts';
import { assertUsable, type Environment } from '../environment/environment.ts';
import type { EventSink } from '../engines/events.ts';
import type { Ledger, RollbackInForce, StackState } from '../ledger/ledger.ts';
import { ledgerDesired, secretPlaceholders } from '../ledger/pin.ts';
import type { DeployMode, LedgerRecord, Sources, Trigger } from '../ledger/record.ts';
import { reachesNodes, restoreSwarmVolumes, snapshotSwarmVolumes } from '../engines/swarm/volumes.ts';
import { reconcileStack, type StackOutcome } from './reconcile.ts';
import { assertImmutable } from '../upgrades/immutable.ts';
import { isUpgrade, restoreBeforeRollback, snapshotBeforeUpgrade, snapshotSettings, snapshotsRecordedAt } from '../ledger/snapshots.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import type { StackSpec } from '../environment/types.ts';

export interface DeployContext {
  env: Environment;
  /** The environment commit and catalog commits `env` was loaded from. */
  sources: Sources;
  /** The environment's engines; each stack's is picked from its target. */
  engines: Engines;
  /** Absent for a plain folder (no git): the stack is reconciled without a record. */
  ledger?: Ledger;
  log?: Logger;
  events?: EventSink;
  signal?: AbortSignal;
  catalogs?: Map<string, Catalog>;
  /** age identities for encrypted answers; default: BERTH_AGE_KEY / BERTH_AGE_KEY_FILE when one is needed. */
  identities?: string[];
  /** Observe through the engine's current observation round (serve's passes over every stack). */
  shared?: boolean;
  /** The caller fetched the ledger for this pass already (serve does, once per pass): no fetch per deploy. */
  ledgerFetched?: boolean;
  /** Told of every environment file the render reads (controller/memo.ts). */
  onRead?: DesiredOptions['onRead'];
  /** Told when the desired state is computed (rendered, or read from the ledger): serve counts them. */
  onRender?: () => void;
}

export type DeployTrigger = Trigger & { kind: 'push' | 'merge' | 'timer' | 'cli' | 'revert' | 'webhook' | 'drift' };

/** What reading a stack's desired state needs: a deploy's context without the engines. */
export type DesiredContext = Pick<DeployContext, 'env' | 'sources' | 'ledger' | 'catalogs' | 'identities' | 'onRead'>;

/** What a stack should run now: the ledger's state while a rollback is in force, else the environment rendered. */
export async function desiredNow(ctx: DesiredContext, spec: StackSpec): Promise<{ desired: DesiredStack; state: StackState }> {
  assertUsable(spec);
  const state = ctx.ledger ? await ctx.ledger.stackState(spec.name, ctx.sources) : {};
  const desired = state.rollback ? await rollbackDesired(ctx, spec, state.rollback) : await desiredStack(ctx.env, spec, desiredOptions(ctx));
  // A rollback restores what ran; a render must not change what the last deploy made immutable.
  if (!state.rollback) assertImmutable(spec, desired, state);
  return { desired, state };
}

/**
 * `requested`: the run carried out a rollback a person just asked for on the ledger branch (so a timer run's changes
 * are not drift). `unrecorded`: why the ledger could not record the run (the next reconcile must try again).
 */
export type DeployOutcome = StackOutcome & { ledgerCommit?: string | null; mode: DeployMode; requested?: boolean; unrecorded?: string };

export type DeployFn = (ctx: DeployContext, spec: StackSpec, trigger: DeployTrigger) => Promise<DeployOutcome>;

export async function deployStack(ctx: DeployContext, spec: StackSpec, trigger: Trigger, opts: { dryRun?: boolean } = {}): Promise<DeployOutcome> {
  const started = Date.now();
  const log = ctx.log ?? silentLogger;
  // An unreachable remote must not stop deploys: the local branch is the last known ledger (the ledger logs it).
  if (!opts.dryRun && !ctx.ledgerFetched) await ctx.ledger?.refresh().catch(() => undefined);
  let state: StackState = {};
  let desired: DesiredStack;
  try {
    ctx.onRender?.();
    ({ desired, state } = await desiredNow(ctx, spec));
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    if (!opts.dryRun) log.error({ stack: spec.name, why: trigger.why, err: error.message }, `stack ${spec.name}: ${error.message}`);
    return { stack: spec.name, why: trigger.why, outcome: 'failed', error, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, mode: state.rollback ? 'rollback' : 'render', ledgerCommit: null };
  }
  const mode: DeployMode = state.rollback ? 'rollback' : 'render';
  if (state.rollback && !opts.dryRun) log.info({ stack: spec.name, restoredFrom: state.rollback.restoredFrom }, `stack ${spec.name}: rollback to ${state.rollback.restoredFrom.slice(0, 7)} in force`);
  // A data step that fails before the deploy stops it there: nothing else is changed.
  const stoppedBefore = (what: string, e: unknown): DeployOutcome => {
    const error = new Error(`${what}: ${(e as Error).message}`, { cause: e });
    log.error({ stack: spec.name, err: error.message }, `stack ${spec.name}: ${error.message}`);
    return { stack: spec.name, why: trigger.why, outcome: 'failed', error, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, mode, ledgerCommit: null };
  };
  let snapshots: Record<string, Record<string, string>> | undefined;
  if (ctx.ledger && !opts.dryRun && !state.rollback && !desired.placementErrors?.length && isUpgrade(desired, state.record)) {
    try {
      snapshots = await upgradeSnapshots(ctx, spec, desired, state.record!, log);
    } catch (e) {
      return stoppedBefore('the data snapshot before the upgrade failed, so the upgrade did not start', e);
    }
  }
  let dataRestored: Record<string, Record<string, string>> | undefined;
  if (ctx.ledger && !opts.dryRun && state.rollback?.requested && state.rollback.restoreData) {
    try {
      const from = state.rollback.dataFrom ?? state.rollback.revertedCommit;
      dataRestored = await restoreData(ctx, ctx.ledger.dir, spec, desired, from);
      log.info({ stack: spec.name, restored: dataRestored }, `stack ${spec.name}: restored the data snapshotted before ${from.slice(0, 7)}; deploying the rollback on it`);
    } catch (e) {
      return stoppedBefore('the rollback asked for the data back, and restoring it failed, so nothing was deployed', e);
    }
  }
  const outcome = await reconcileStack(ctx.env, spec, {
    why: trigger.why, engines: ctx.engines, events: ctx.events, log: opts.dryRun ? undefined : log, signal: ctx.signal, catalogs: ctx.catalogs, desired, dryRun: opts.dryRun, shared: ctx.shared,
  });
  if (!ctx.ledger || opts.dryRun) return { ...outcome, ledgerCommit: null, mode };
  let ledgerCommit: string | null = null;
  try {
    ledgerCommit = await ctx.ledger.record(outcome, {
      spec, engine: ctx.engines.for(spec), sources: ctx.sources, trigger, mode, catalog: spec.catalog ?? ctx.env.catalogs[0]?.name,
      ...(state.rollback ? { rollback: { record: state.rollback.record, restoredFrom: state.rollback.restoredFrom } } : {}),
      ...(snapshots && Object.keys(snapshots).length ? { snapshots } : {}),
      ...(dataRestored ? { dataRestored } : {}),
    });
    if (ledgerCommit) log.info({ stack: spec.name, commit: ledgerCommit, mode }, `stack ${spec.name}: recorded as ${ledgerCommit.slice(0, 7)} on ${ctx.ledger.branch}`);
  } catch (e) {
    log.error({ stack: spec.name, err: (e as Error).message }, `stack ${spec.name}: the deploy could not be recorded in the ledger; the next reconcile records it`);
    return { ...outcome, ledgerCommit, mode, requested: state.rollback?.requested === true, unrecorded: (e as Error).message };
  }
  return { ...outcome, ledgerCommit, mode, requested: state.rollback?.requested === true };
}

/**
 * The stack's volumes snapshotted before an upgrade: on each standalone host, or on each node of its Swarm through
 * the nodes' own engines. A Swarm whose berth.yml names no node engines cannot be reached there: the upgrade goes
 * ahead without snapshots, and the log says so.
 */
async function upgradeSnapshots(ctx: DeployContext, spec: StackSpec, desired: DesiredStack, previous: LedgerRecord, log: Logger): Promise<Record<string, Record<string, string>> | undefined> {
  const settings = snapshotSettings(process.env, ctx.env.snapshots);
  if (!spec.swarm) return snapshotBeforeUpgrade(desired, previous, settings);
  const swarm = ctx.env.swarms?.find((s) => s.name === spec.swarm);
  if (!swarm) return undefined;
  if (!reachesNodes(swarm)) {
    if (Object.values(desired.rendered?.volumes ?? {}).some((v) => !v.external)) {
      log.warn({ stack: spec.name, swarm: swarm.name }, `stack ${spec.name}: its volumes are not snapshotted before the upgrade: berth.yml names no node engines for swarm ${swarm.name} (swarms[].nodes)`);
    }
    return undefined;
  }
  return snapshotSwarmVolumes(swarm, spec.name, previous.version, settings);
}

/** The snapshots the reverted upgrade took, restored (ledger/snapshots.ts); host or node → volume → snapshot. */
async function restoreData(ctx: DeployContext, dir: string, spec: StackSpec, desired: DesiredStack, reverted: string): Promise<Record<string, Record<string, string>>> {
  const taken = await snapshotsRecordedAt(dir, reverted, spec.name);
  if (!taken) {
    throw new UserError('ROLLBACK_NO_SNAPSHOTS', `${reverted.slice(0, 7)}, the deploy this rollback undoes, took no data snapshots`, {
      hint: 'Remove the Berth-Restore-Data trailer (revert again without it) to roll back the containers alone.',
    });
  }
  const settings = snapshotSettings(process.env, ctx.env.snapshots);
  const swarm = spec.swarm === undefined ? undefined : ctx.env.swarms?.find((s) => s.name === spec.swarm);
  if (swarm) return restoreSwarmVolumes(ctx.engines.swarm(swarm.name).client, swarm, spec.name, taken.snapshots, settings);
  return restoreBeforeRollback(desired, taken.snapshots, settings);
}

function desiredOptions(ctx: DesiredContext): DesiredOptions {
  return { catalogs: ctx.catalogs, ...(ctx.identities ? { identities: ctx.identities } : {}), ...(ctx.onRead ? { onRead: ctx.onRead } : {}) };
}

/**
 * The ledger's state, with the env files, config files and secret answers it refers to read as they were at the
 * environment commit the state was rendered from (else as they are now).
 */
async function rollbackDesired(ctx: DesiredContext, spec: StackSpec, rb: RollbackInForce): Promise<DesiredStack> {
  const at = await envAt(ctx.env, rb.record.sources.environment);
  const needed = Object.values(rb.files).flatMap(secretPlaceholders);
  const secrets = needed.length ? await secretValues(ctx, spec, at) : {};
  return ledgerDesired(ctx.env, spec, rb.files, secrets, { ...desiredOptions(ctx), ...(at ? { readFile: at.readFile } : {}) });
}

interface EnvAt {
  readFile(abs: string): Promise<string>;
  /** A file of the environment (relative to its root) at the commit; undefined when absent there. */
  text(rel: string): Promise<string | undefined>;
}

/** The environment folder as of `commit`, when the folder is in a git repository that has it. */
export async function envAt(env: Environment, commit: string): Promise<EnvAt | undefined> {
  if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
  const repo = await git.findRoot({ fs, filepath: env.root }).catch(() => undefined);
  if (!repo || !(await git.readCommit({ fs, dir: repo, oid: commit }).then(() => true, () => false))) return undefined;
  const blob = async (abs: string) => {
    const rel = path.relative(repo, abs).split(path.sep).join('/');
    if (rel.startsWith('../')) return undefined;
    return git.readBlob({ fs, dir: repo, oid: commit, filepath: rel }).then((b) => Buffer.from(b.blob).toString('utf8'), () => undefined);
  };
  return {
    readFile: async (abs) => (await blob(abs)) ?? fsReadFile(abs, 'utf8'),
    text: (rel) => blob(path.resolve(env.root, rel)),
  };
}

/** Secret answers by variable: as answered at the recorded commit, else as answered now; decrypted in memory. */
async function secretValues(ctx: DesiredContext, spec: StackSpec, at: EnvAt | undefined): Promise<Record<string, string>> {
  const strings = (answers: Record<string, unknown>) => Object.fromEntries(Object.entries(answers).flatMap(([k, v]) => (v === null || v === undefined || typeof v === 'object' ? [] : [[k, String(v)]])));
  const now = strings((await plainAnswers(spec, desiredOptions(ctx))).answers);
  const text = await at?.text(spec.file);
  const data = text === undefined ? undefined : (boundedToJS(parseStackFile(text, spec.file)) as { answers?: Record<string, unknown> } | null);
  if (!data?.answers || typeof data.answers !== 'object') return now;
  return { ...now, ...strings((await plainAnswers({ ...spec, answers: data.answers }, desiredOptions(ctx))).answers) };
}
