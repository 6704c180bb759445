/**
 * A plan as text a person reviews (like `terraform plan`) and as plain JSON for tools. One line per operation,
 * always in the plan's order, so two runs on the same state print the same bytes and diffs of plans are clean.
 */
import { summarize, type OperationKind } from './plan.ts';
import type { Operation, Plan } from './types.ts';

export interface FormatOptions {
  /** Also list the containers that stay as they are. */
  verbose?: boolean;
  color?: boolean;
}

const MARK: Record<OperationKind, { symbol: string; verb: string; color: number }> = {
  'create-network': { symbol: '+', verb: 'network', color: 32 },
  'create-volume': { symbol: '+', verb: 'volume', color: 32 },
  finish: { symbol: '~', verb: 'finish', color: 33 },
  restore: { symbol: '<', verb: 'restore', color: 33 },
  create: { symbol: '+', verb: 'create', color: 32 },
  recreate: { symbol: '~', verb: 'recreate', color: 33 },
  start: { symbol: '>', verb: 'start', color: 36 },
  remove: { symbol: '-', verb: 'remove', color: 31 },
  'remove-network': { symbol: '-', verb: 'network', color: 31 },
  keep: { symbol: '=', verb: 'keep', color: 2 },
  'create-service': { symbol: '+', verb: 'service', color: 32 },
  'update-service': { symbol: '~', verb: 'update', color: 33 },
  'remove-service': { symbol: '-', verb: 'service', color: 31 },
  'keep-service': { symbol: '=', verb: 'keep', color: 2 },
  'create-object': { symbol: '+', verb: 'object', color: 32 },
  'remove-object': { symbol: '-', verb: 'object', color: 31 },
};

/** Changes shown under a recreate; past this a count stands in, so one big edit doesn't bury the rest. */
const MAX_CHANGES = 10;
const MIN_WIDTH = 32;

const isKeep = (op: Operation) => op.kind === 'keep' || op.kind === 'keep-service';

function paint(text: string, code: number, on: boolean): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function target(op: Operation): string {
  switch (op.kind) {
    case 'create-network':
      return op.network.name;
    case 'create-volume':
      return op.volume.name;
    case 'remove-network':
      return op.network;
    case 'create-object':
    case 'remove-object':
      return `${op.object} ${op.name}`;
    case 'create-service':
    case 'update-service':
    case 'remove-service':
    case 'keep-service':
      return op.service;
    default:
      return `${op.service} #${op.number}`;
  }
}

function head(op: Operation): string {
  return `${MARK[op.kind].symbol} ${MARK[op.kind].verb.padEnd(7)} ${target(op)}`;
}

function shown(plan: Plan, verbose: boolean): Operation[] {
  return plan.hosts.flatMap((h) => h.operations).filter((op) => verbose || !isKeep(op));
}

function opLines(op: Operation, width: number, opts: FormatOptions): string[] {
  const color = opts.color === true;
  const lines = [`    ${paint(head(op).padEnd(width), MARK[op.kind].color, color)}${op.cause}`];
  if (op.kind !== 'recreate' && op.kind !== 'update-service') return lines;
  const limit = opts.verbose ? op.changes.length : MAX_CHANGES;
  for (const c of op.changes.slice(0, limit)) lines.push(`        ${c.field}: ${c.from} → ${c.to}`);
  if (op.changes.length > limit) lines.push(`        … and ${op.changes.length - limit} more changes`);
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The closing line: container counts as in terraform, then network/volume work and unreachable hosts when there are any. */
export function summaryLine(plan: Plan): string {
  const n = summarize(plan);
  const extra = [
    n['create-network'] ? `${plural(n['create-network'], 'network')} to create` : '',
    n['remove-network'] ? `${plural(n['remove-network'], 'network')} to remove` : '',
    n['create-volume'] ? `${plural(n['create-volume'], 'volume')} to create` : '',
  ].filter(Boolean);
  const unreachable = plan.hosts.filter((h) => h.error).length;
  const recover = n.finish + n.restore;
  if (recover) extra.push(`${plural(recover, 'interrupted update')} to settle`);
  if (unreachable) extra.push(`${plural(unreachable, 'host')} not planned`);
  const tail = extra.length ? `; ${extra.join(', ')}` : '';
  const work = recover + n.create + n.recreate + n.start + n.remove + n['create-network'] + n['remove-network'] + n['create-volume'];
  // A Swarm plan is per service (and per config and secret): counted in its own words.
  const services = n['create-service'] + n['update-service'] + n['remove-service'] + n['keep-service'];
  if (services) {
    const objects = n['create-object'] + n['remove-object'];
    const swarmTail = [...extra, ...(objects ? [`${plural(n['create-object'], 'config/secret')} to create, ${n['remove-object']} to remove`] : [])];
    const st = swarmTail.length ? `; ${swarmTail.join(', ')}` : '';
    if (work + n['create-service'] + n['update-service'] + n['remove-service'] + objects === 0) return `No changes: ${plural(n['keep-service'], 'service')} unchanged${st}.`;
    return `Plan: ${n['create-service']} services to create, ${n['update-service']} to update, ${n['remove-service']} to remove, ${n['keep-service']} unchanged${st}.`;
  }
  if (work === 0) return `No changes: ${n.keep} unchanged${tail}.`;
  return `Plan: ${n.create} to create, ${n.recreate} to recreate, ${n.start} to start, ${n.remove} to remove, ${n.keep} unchanged${tail}.`;
}

export function formatPlan(plan: Plan, opts: FormatOptions = {}): string {
  const verbose = opts.verbose === true;
  const width = Math.max(MIN_WIDTH, ...shown(plan, verbose).map((op) => head(op).length + 2));
  const lines = [`stack ${plan.stack} (${plan.source})`];
  for (const e of plan.errors) lines.push(`  ${paint(`error: ${e}`, 31, opts.color === true)}`);
  for (const h of plan.hosts) {
    const ops = h.operations.filter((op) => verbose || !isKeep(op));
    if (h.error) lines.push(`  host ${h.host}: ${paint(h.error, 31, opts.color === true)}`);
    else if (ops.length === 0) lines.push(`  host ${h.host}: no changes`);
    else lines.push(`  host ${h.host}`, ...ops.flatMap((op) => opLines(op, width, opts)));
    for (const n of h.error ? [] : (h.notes ?? [])) lines.push(`    note: ${n}`);
  }
  lines.push(summaryLine(plan));
  // The operations are what the stack would need; with errors, apply carries out none of them.
  if (plan.errors.length) lines.push(paint(`Not applied while the plan has ${plan.errors.length === 1 ? 'an error' : 'errors'}: the stack runs whole or not at all.`, 31, opts.color === true));
  return `${lines.join('\n')}\n`;
}

/** Plain data for `--json`: names instead of models, the summary counts included. */
export function planToJson(plan: Plan): Record<string, unknown> {
  const op = (o: Operation): Record<string, unknown> => {
    switch (o.kind) {
      case 'create-network':
        return { kind: o.kind, host: o.host, network: o.network.name, cause: o.cause };
      case 'create-volume':
        return { kind: o.kind, host: o.host, volume: o.volume.name, cause: o.cause };
      // The full service spec is apply's to send, not a reader's: it holds every environment value.
      case 'create-service':
      case 'update-service': {
        const { spec: _spec, ...rest } = o;
        return { ...rest, name: (o.spec as { Name?: string }).Name };
      }
      default:
        return { ...o };
    }
  };
  return {
    stack: plan.stack,
    source: plan.source,
    errors: [...plan.errors],
    hosts: plan.hosts.map((h) => ({ host: h.host, ...(h.error ? { error: h.error } : {}), operations: h.operations.map(op), ...(h.notes ? { notes: [...h.notes] } : {}) })),
    summary: summarize(plan),
  };
}
