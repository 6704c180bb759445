/**
 * What one record commit writes: each host's outcome and the images it runs (read back from the engine after
 * the apply, not assumed from the plan), the pinned compose per host, and the commit message. Pure but for
 * the re-observation, so the same running state always gives the same tree.
 */
import type { Logger } from '../lib/log.ts';
import { maskSecrets } from '../lib/secrets.ts';
import type { RunningService, StackEngine } from '../engines/engine.ts';
import { composeText, modelFor } from './pin.ts';
import {
  commitMessage, recordFromYaml, recordToYaml, type DeployMode, type HostOutcome, type LedgerRecord, type ServiceRecord, type Sources, type Trigger,
} from './record.ts';
import { stackDir } from './tree.ts';
import type { StackOutcome } from '../controller/reconcile.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import type { StackSpec } from '../environment/types.ts';

export interface RecordContext {
  spec: StackSpec;
  /** The engine that runs the stack: it reads back what runs. */
  engine: StackEngine;
  /** The environment and catalog commits current now (trailers; for a render also the record's sources). */
  sources: Sources;
  trigger: Trigger;
  mode: DeployMode;
  /** The catalog the stack renders from (recorded for a render). */
  catalog?: string;
  /** For a rollback: the record restored and the deploy it came from. */
  rollback?: { record: LedgerRecord; restoredFrom: string };
  /** Snapshots this deploy took before changing the template version (ledger/snapshots.ts). */
  snapshots?: Record<string, Record<string, string>>;
  /** Snapshots this rollback restored before it deployed (host → volume → snapshot): said in the commit. */
  dataRestored?: Record<string, Record<string, string>>;
}

export interface HostState {
  outcome: HostOutcome;
  error?: string;
  /** Undefined when the host could not be read: the ledger keeps what it had for it. */
  services?: Record<string, RunningService>;
}

/** The reconcile's word for a host, in the ledger's three outcomes ('unchanged' is converged). */
function hostOutcome(o: StackOutcome, host: string, secrets: string[]): { outcome: HostOutcome; error?: string } {
  const mask = (e: string | undefined) => (e === undefined ? undefined : maskSecrets(e, secrets));
  const r = o.result?.hosts[host];
  if (r) return r.outcome === 'unchanged' ? { outcome: 'converged' } : { outcome: r.outcome, ...(r.error ? { error: mask(r.error) } : {}) };
  const planned = o.plan?.hosts.find((h) => h.host === host);
  if (planned?.error) return { outcome: 'unreachable', error: mask(planned.error) };
  return o.error ? { outcome: 'failed', error: mask(o.error.message) } : { outcome: 'converged' };
}

export async function observeHosts(o: StackOutcome, desired: DesiredStack, engine: StackEngine, log: Logger): Promise<Record<string, HostState>> {
  const entries = await Promise.all(Object.keys(desired.hosts).map(async (name): Promise<[string, HostState]> => {
    const state = hostOutcome(o, name, desired.secrets);
    if (state.outcome === 'unreachable') return [name, state];
    // A reconcile that found nothing to do observed exactly what runs; one that acted must look again.
    const seen = !o.result && o.outcome === 'unchanged' ? o.observed : undefined;
    try {
      return [name, { ...state, services: await engine.running(desired, name, seen) }];
    } catch (e) {
      log.warn({ stack: desired.name, host: name, err: maskSecrets((e as Error).message, desired.secrets) }, 'ledger: cannot read the images running on the host; keeping its previous record');
      return [name, state];
    }
  }));
  return Object.fromEntries(entries);
}

/** A host never read: what was meant to run there, unpinned, so a rollback to this state still places it. */
function unobserved(desired: DesiredStack, host: string): Record<string, ServiceRecord> {
  const d = desired.hosts[host];
  return Object.fromEntries(Object.entries(d.services).map(([s, svc]) => [s, {
    image: typeof svc.config.image === 'string' ? svc.config.image : svc.model.image,
    replicas: d.replicas.filter((r) => r.service === s).map((r) => r.number),
  }]));
}

/** A folder's record, or undefined when it has none or it cannot be read (a hand-edited ledger). */
export function parseOr(text: string | undefined): LedgerRecord | undefined {
  try {
    return text ? recordFromYaml(text) : undefined;
  } catch {
    return undefined;
  }
}

function newRecord(desired: DesiredStack, ctx: RecordContext): LedgerRecord {
  const at = desired.source.lastIndexOf('@');
  const rb = ctx.mode === 'rollback' ? ctx.rollback : undefined;
  return {
    stack: desired.name,
    template: at > 0 ? desired.source.slice(0, at) : desired.source,
    version: at > 0 ? desired.source.slice(at + 1) : '',
    ...((rb ? rb.record.catalog : ctx.catalog) ? { catalog: rb ? rb.record.catalog : ctx.catalog } : {}),
    mode: ctx.mode,
    ...(rb ? { restored_from: rb.restoredFrom } : {}),
    sources: rb ? rb.record.sources : ctx.sources,
    ...((rb ? rb.record.answers : desired.immutable) ? { answers: rb ? rb.record.answers : desired.immutable } : {}),
    hosts: {},
  };
}

/**
 * A commit to the environment (or catalog) that left this stack exactly as it was is no deploy of it: the
 * record keeps the sources it was deployed from, so the tree is unchanged and no commit is written.
 */
function keepSourcesWhenUntouched(record: LedgerRecord, previous: LedgerRecord | undefined, files: Record<string, string>, current: Record<string, string>): void {
  if (!previous || previous.mode !== 'render' || record.mode !== 'render') return;
  const sameFiles = Object.keys(current).every((f) => f === 'deploy.yml' || files[f] === current[f]) && Object.keys(files).every((f) => f in current);
  if (sameFiles && recordToYaml({ ...record, sources: previous.sources }) === recordToYaml(previous)) record.sources = previous.sources;
}

/**
 * The stack folder's new content (paths from the repository root; null deletes) and the commit message.
 * `current` is the folder at the branch head, relative to it.
 */
export function buildState(desired: DesiredStack, hosts: Record<string, HostState>, current: Record<string, string>, ctx: RecordContext): { files: Record<string, string | null>; message: string } {
  const previous = parseOr(current['deploy.yml']);
  const rendered = desired.rendered ?? desired.model;
  const secrets = desired.secretAnswers ?? {};
  const record = newRecord(desired, ctx);
  // Later deploys of the same version keep naming the upgrade's snapshots, so they make no commit of their own.
  const snapshots = ctx.snapshots ?? (ctx.mode === 'render' && previous?.mode === 'render' && previous.template === record.template && previous.version === record.version ? previous.snapshots : undefined);
  if (snapshots && Object.keys(snapshots).length) record.snapshots = snapshots;
  const files: Record<string, string> = {};
  for (const [name, h] of Object.entries(hosts)) {
    const placed = Object.keys(desired.hosts[name].services).sort();
    const file = `${name}.compose.yml`;
    const error = h.error ? { error: h.error } : {};
    if (!h.services) {
      record.hosts[name] = { outcome: h.outcome, ...error, services: previous?.hosts[name]?.services ?? unobserved(desired, name) };
      if (current[file] !== undefined) files[file] = current[file];
      else if (placed.length) files[file] = composeText(modelFor(rendered, placed), secrets);
      continue;
    }
    const running = h.services;
    record.hosts[name] = { outcome: h.outcome, ...error, services: Object.fromEntries(Object.entries(running).map(([s, { pinned: _p, ...r }]) => [s, r])) };
    if (!placed.length) continue;
    const model = modelFor(rendered, placed);
    model.services = Object.fromEntries(Object.entries(model.services).map(([s, svc]) => [s, { ...svc, image: running[s]?.pinned ?? svc.image }]));
    files[file] = composeText(model, secrets);
  }
  keepSourcesWhenUntouched(record, previous, files, current);
  files['deploy.yml'] = recordToYaml(record);
  const dir = stackDir(desired.name);
  const changes: Record<string, string | null> = Object.fromEntries(Object.keys(current).filter((f) => !(f in files)).map((f) => [`${dir}/${f}`, null]));
  for (const [f, text] of Object.entries(files)) changes[`${dir}/${f}`] = text;
  return { files: changes, message: commitMessage(record, { previous, trigger: ctx.trigger, seen: ctx.sources, secrets: desired.secrets, ...(ctx.snapshots ? { snapshotsTaken: ctx.snapshots } : {}), ...(ctx.dataRestored ? { dataRestored: ctx.dataRestored } : {}) }) };
}

/** The ledger branch's README.md, committed on its own before the first deploy. */
export const LEDGER_README = `# Berth deploy ledger

This branch is written by Berth: every deploy of a stack is one commit, and \`stacks/<stack>/\` holds what was deployed — \`deploy.yml\` (template, version, sources, and per host the outcome and the images running) and \`<host>.compose.yml\` (the compose of that host, every image pinned to what runs, secrets written as \`\${BERTH_SECRET_<variable>}\`). To roll a stack back, revert its deploy commit here (\`git revert <commit>\` and push, or \`berth rollback <stack>\`): Berth deploys the restored state, pinned images included, and keeps it until the environment or a catalog changes. Please make no other changes on this branch.
`;
