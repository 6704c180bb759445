/**
 * The ledger's words: the record a deploy leaves in `stacks/<stack>/deploy.yml`, and the commit message around
 * it. The record holds only the state (so an identical state is an identical tree and makes no commit); the
 * volatile facts — why, when, which delivery — go in the message, with machine-readable trailers.
 */
import { stringify } from 'yaml';
import { formatProblem, UserError } from '../lib/errors.ts';
import { boundedToJS, parseBoundedChecked } from '../lib/yaml-bounded.ts';
import { parseTrailers } from '../lib/git/index.ts';
import { maskSecrets } from '../lib/secrets.ts';

export type HostOutcome = 'converged' | 'failed' | 'unreachable';
export type DeployMode = 'render' | 'rollback';

export interface ServiceRecord {
  /** The reference as rendered (never pinned), e.g. `nginx:1.27-alpine`. */
  image: string;
  /** The repo digest the pinned compose names, when the image has one. */
  digest?: string;
  /** The image ID the containers run. */
  image_id?: string;
  /** Replica numbers placed on this host. */
  replicas: number[];
}

export interface HostRecord {
  outcome: HostOutcome;
  error?: string;
  services: Record<string, ServiceRecord>;
}

export interface Sources {
  /** Environment commit, or 'working-tree' for a plain folder. */
  environment: string;
  /** Catalog name → commit (or another stable label for a folder catalog). */
  catalogs: Record<string, string>;
}

export interface LedgerRecord {
  stack: string;
  template: string;
  version: string;
  catalog?: string;
  mode: DeployMode;
  /** For a rollback: the ledger commit whose state was restored. */
  restored_from?: string;
  /** Where the recorded state was rendered from (for a rollback: the restored state's sources). */
  sources: Sources;
  /** Answers to the version's `immutable` questions (a secret one as a fingerprint): upgrades/immutable.ts compares. */
  answers?: Record<string, string | number | boolean>;
  /** Data snapshots taken before this deploy changed the template version: host → volume → snapshot volume. */
  snapshots?: Record<string, Record<string, string>>;
  hosts: Record<string, HostRecord>;
}

export interface Trigger {
  kind: string;
  deliveryId?: string;
  why: string;
}

const sortedKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
const dropUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Fixed key order everywhere, so the same state always serializes to the same bytes. */
export function recordToYaml(r: LedgerRecord): string {
  const hosts = sortedKeys(r.hosts);
  const data = dropUndefined({
    stack: r.stack,
    template: r.template,
    version: r.version,
    catalog: r.catalog,
    mode: r.mode,
    restored_from: r.restored_from,
    sources: { environment: r.sources.environment, catalogs: sortedKeys(r.sources.catalogs) },
    answers: r.answers && Object.keys(r.answers).length ? sortedKeys(r.answers) : undefined,
    snapshots: r.snapshots && Object.keys(r.snapshots).length ? Object.fromEntries(Object.entries(sortedKeys(r.snapshots)).map(([h, v]) => [h, sortedKeys(v)])) : undefined,
    hosts: Object.fromEntries(Object.entries(hosts).map(([name, h]) => [name, dropUndefined({
      outcome: h.outcome,
      error: h.error,
      services: Object.fromEntries(Object.entries(sortedKeys(h.services)).map(([s, v]) => [s, dropUndefined({ image: v.image, digest: v.digest, image_id: v.image_id, replicas: v.replicas })])),
    })])),
  });
  return stringify(data, { lineWidth: 0 });
}

/**
 * Parsed records by their text: every reconcile reads its stack's record, which changes only with a deploy, and
 * YAML parsing was the largest share of what an idle controller allocated. Callers get their own copy.
 */
const parsedRecords = new Map<string, LedgerRecord>();
const PARSED_RECORDS_MAX = 1_000;

export function recordFromYaml(text: string, file = 'deploy.yml'): LedgerRecord {
  let record = parsedRecords.get(text);
  if (!record) {
    record = parseRecord(text, file);
    if (parsedRecords.size >= PARSED_RECORDS_MAX) parsedRecords.clear();
    parsedRecords.set(text, record);
  }
  return structuredClone(record);
}

function parseRecord(text: string, file: string): LedgerRecord {
  // The ledger branch is a git branch anyone with push access can edit: read as hostile as a stack file.
  const { doc, problems } = parseBoundedChecked(text, file);
  const data = (doc ? boundedToJS(doc) : null) as Partial<LedgerRecord> | null;
  if (!data || typeof data !== 'object' || typeof data.stack !== 'string' || typeof data.template !== 'string' || !data.hosts || typeof data.hosts !== 'object') {
    const why = problems.length ? `: ${formatProblem(problems[0])}` : '';
    throw new UserError('LEDGER_RECORD_INVALID', `${file} on the ledger branch is not a Berth deploy record${why}`, { data: { file }, hint: 'Restore the file from an earlier ledger commit (git revert the change that broke it).' });
  }
  return {
    stack: data.stack,
    template: data.template,
    version: String(data.version ?? ''),
    ...(data.catalog ? { catalog: data.catalog } : {}),
    mode: data.mode === 'rollback' ? 'rollback' : 'render',
    ...(data.restored_from ? { restored_from: String(data.restored_from) } : {}),
    sources: { environment: String(data.sources?.environment ?? ''), catalogs: { ...(data.sources?.catalogs ?? {}) } },
    ...(recordedAnswers(data.answers) ? { answers: recordedAnswers(data.answers) } : {}),
    ...(recordedSnapshots(data.snapshots) ? { snapshots: recordedSnapshots(data.snapshots) } : {}),
    hosts: Object.fromEntries(Object.entries(data.hosts).map(([name, h]) => [name, { ...h, services: h.services ?? {} }])),
  };
}

/** Only scalars survive: a hand-edited ledger must not hand the immutable check a map or a list. */
function recordedAnswers(v: unknown): Record<string, string | number | boolean> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out = Object.fromEntries(Object.entries(v).filter(([, x]) => ['string', 'number', 'boolean'].includes(typeof x))) as Record<string, string | number | boolean>;
  return Object.keys(out).length ? out : undefined;
}

/** Host → volume → snapshot name, strings only: the names go to the Docker API as volume names. */
function recordedSnapshots(v: unknown): Record<string, Record<string, string>> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, Record<string, string>> = {};
  for (const [host, vols] of Object.entries(v)) {
    if (!vols || typeof vols !== 'object' || Array.isArray(vols)) continue;
    const ok = Object.entries(vols).filter(([, id]) => typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id));
    if (ok.length) out[host] = Object.fromEntries(ok) as Record<string, string>;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Hosts that run something of the stack or were meant to. */
function hostCount(r: LedgerRecord): number {
  return Object.values(r.hosts).filter((h) => Object.keys(h.services).length > 0 || h.outcome !== 'converged').length;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** No control character (a newline would start a forged `Berth-*` trailer) survives into a commit message. */
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();

export function overallOutcome(r: LedgerRecord): 'converged' | 'failed' {
  return Object.values(r.hosts).every((h) => h.outcome === 'converged') ? 'converged' : 'failed';
}

export function commitSubject(r: LedgerRecord, previous?: LedgerRecord): string {
  const failed = Object.keys(r.hosts).sort().filter((h) => r.hosts[h].outcome !== 'converged');
  const suffix = failed.length ? `, failed on ${failed.join(', ')}` : '';
  if (r.mode === 'rollback') return `roll back ${r.stack} to ${(r.restored_from ?? 'an earlier state').slice(0, 7)}${suffix}`;
  const from = previous && previous.mode === 'render' && (previous.template !== r.template || previous.version !== r.version)
    ? `${previous.template === r.template ? '' : `${previous.template} `}${previous.version} → ` : '';
  return `deploy ${r.stack}: ${r.template} ${from}${r.version} on ${plural(hostCount(r), 'host')}${suffix}`;
}

/**
 * Subject, a short body (trigger, per-host outcome), then trailers. `seen` are the sources current when the
 * commit was made; for a rollback they differ from the record's, and decide when a new commit supersedes it.
 */
export function commitMessage(r: LedgerRecord, ctx: { previous?: LedgerRecord; trigger: Trigger; seen: Sources; secrets?: string[]; snapshotsTaken?: Record<string, Record<string, string>>; dataRestored?: Record<string, Record<string, string>> }): string {
  const mask = (t: string) => maskSecrets(oneLine(t), ctx.secrets ?? []);
  const body = [`Trigger: ${ctx.trigger.kind}${ctx.trigger.why && ctx.trigger.why !== ctx.trigger.kind ? ` (${mask(ctx.trigger.why)})` : ''}`];
  if (r.mode === 'rollback') body.push(`Restored the state of ${r.restored_from ?? 'an earlier commit'}: ${oneLine(`${r.template} ${r.version}`)}.`);
  for (const [name, h] of Object.entries(sortedKeys(r.hosts))) body.push(`${name}: ${h.outcome}${h.error ? `: ${mask(h.error)}` : ''}`);
  if (ctx.dataRestored) for (const [host, vols] of Object.entries(sortedKeys(ctx.dataRestored))) body.push(`Data restored on ${oneLine(host)}: ${Object.entries(sortedKeys(vols)).map(([v, id]) => `${oneLine(v)} ← ${oneLine(id)}`).join(', ')}`);
  if (ctx.snapshotsTaken) for (const [host, vols] of Object.entries(sortedKeys(ctx.snapshotsTaken))) body.push(`Data snapshot before the upgrade on ${oneLine(host)}: ${Object.entries(sortedKeys(vols)).map(([v, id]) => `${oneLine(v)} → ${oneLine(id)}`).join(', ')}`);
  const trailers = [
    `Berth-Stack: ${oneLine(r.stack)}`,
    `Berth-Trigger: ${oneLine(ctx.trigger.kind)}`,
    ...(ctx.trigger.deliveryId ? [`Berth-Delivery: ${oneLine(ctx.trigger.deliveryId)}`] : []),
    `Berth-Environment-Commit: ${oneLine(ctx.seen.environment)}`,
    ...Object.keys(ctx.seen.catalogs).sort().map((k) => `Berth-Catalog-Commit: ${oneLine(k)}=${oneLine(ctx.seen.catalogs[k])}`),
    `Berth-Template: ${oneLine(r.template)}@${oneLine(r.version)}`,
    `Berth-Outcome: ${overallOutcome(r)}`,
    `Berth-Mode: ${r.mode}`,
  ];
  return `${oneLine(maskSecrets(commitSubject(r, ctx.previous), ctx.secrets ?? []))}\n\n${body.join('\n')}\n\n${trailers.join('\n')}\n`;
}

/**
 * The message of a commit deleting a removed stack's folder: Berth's own (its trailers), so the history shows it and
 * a `git revert` of it is a person's rollback to the state it deleted.
 */
export function removalMessage(stack: string, previous: LedgerRecord | undefined, ctx: { trigger: Trigger; seen: Sources; cause: string; removedFrom: string[] }): string {
  const body = [
    `Trigger: ${ctx.trigger.kind}${ctx.trigger.why && ctx.trigger.why !== ctx.trigger.kind ? ` (${oneLine(ctx.trigger.why)})` : ''}`,
    ctx.removedFrom.length ? `Removed from ${ctx.removedFrom.map(oneLine).join(', ')}; named volumes are kept.` : 'Nothing of it was running.',
    'Revert this commit (or restore the stack file) to deploy the stack again.',
  ];
  const trailers = [
    `Berth-Stack: ${oneLine(stack)}`,
    `Berth-Trigger: ${oneLine(ctx.trigger.kind)}`,
    ...(ctx.trigger.deliveryId ? [`Berth-Delivery: ${oneLine(ctx.trigger.deliveryId)}`] : []),
    `Berth-Environment-Commit: ${oneLine(ctx.seen.environment)}`,
    ...Object.keys(ctx.seen.catalogs).sort().map((k) => `Berth-Catalog-Commit: ${oneLine(k)}=${oneLine(ctx.seen.catalogs[k])}`),
    ...(previous ? [`Berth-Template: ${oneLine(previous.template)}@${oneLine(previous.version)}`] : []),
    'Berth-Outcome: removed',
    'Berth-Mode: remove',
  ];
  return `remove ${oneLine(stack)}: ${oneLine(ctx.cause)}\n\n${body.join('\n')}\n\n${trailers.join('\n')}\n`;
}

export interface LedgerTrailers {
  stack?: string;
  trigger?: string;
  delivery?: string;
  environment?: string;
  catalogs: Record<string, string>;
  template?: string;
  outcome?: string;
  mode?: string;
  /** Set by `berth rollback --to`: the commit whose state was restored. */
  rollbackTo?: string;
  /**
   * A person's rollback asks for the data too (`berth rollback --with-data`, or `Berth-Restore-Data: true` /
   * `restore_data: true` written in a revert made by hand): the snapshots the reverted upgrade took are restored.
   */
  restoreData?: boolean;
  /** `berth rollback --to … --with-data`: the deploy whose snapshots hold the data of the state restored. */
  restoreDataFrom?: string;
}

/** git keeps a repeated trailer key; parseTrailers keeps the last, so catalogs are read line by line. */
export function readTrailers(message: string): LedgerTrailers {
  const t = parseTrailers(message);
  const catalogs: Record<string, string> = {};
  if (t['Berth-Catalog-Commit'] !== undefined) {
    for (const m of message.matchAll(/^Berth-Catalog-Commit:[ \t]*([^=\s]+)=(\S+)[ \t]*$/gm)) catalogs[m[1]] = m[2];
  }
  return {
    stack: t['Berth-Stack'], trigger: t['Berth-Trigger'], delivery: t['Berth-Delivery'], environment: t['Berth-Environment-Commit'],
    catalogs, template: t['Berth-Template'], outcome: t['Berth-Outcome'], mode: t['Berth-Mode'], rollbackTo: t['Berth-Rollback-To'],
    ...(/^true$/i.test(t['Berth-Restore-Data'] ?? '') || /^restore_data:[ \t]*true[ \t]*$/im.test(message) ? { restoreData: true } : {}),
    ...(/^[0-9a-f]{40}$/.test(t['Berth-Restore-Data-From'] ?? '') ? { restoreDataFrom: t['Berth-Restore-Data-From'] } : {}),
  };
}

export function sameSources(a: Sources, b: Sources): boolean {
  const keys = (s: Sources) => Object.keys(s.catalogs).sort().map((k) => `${k}=${s.catalogs[k]}`).join(',');
  return a.environment === b.environment && keys(a) === keys(b);
}
