/**
 * `immutable: true` questions: once an answer is deployed, a change of it (a database name, a cluster id) is
 * refused at plan time, because the data already made with the old value would not follow. What was deployed is
 * read from the ledger: each deploy records its immutable answers in `deploy.yml` — a secret one as a slow,
 * salted fingerprint (scrypt), never the value — and the next plan compares. `force_change: [var]` in the stack
 * file lets one change through, on purpose; the deploy then records the new value.
 */
import { scryptSync } from 'node:crypto';
import { ValidationError, type Problem } from '../lib/errors.ts';
import { SECRET_TYPES, type Answers, type Question } from '../catalog/types.ts';
import type { StackSpec } from '../environment/types.ts';
import { kindOf, type MapReader } from '../catalog/yaml-file.ts';

export type RecordedAnswer = string | number | boolean;

/** Cost of the fingerprint: slow enough that a weak password in the ledger is not cheaply guessed. */
const SCRYPT = { N: 1 << 14, r: 8, p: 1 } as const;
const fingerprints = new Map<string, string>();

/**
 * A secret answer as the ledger may hold it. Deterministic per stack and variable (so an unchanged answer is an
 * unchanged record, and no commit), salted with both (so equal passwords of two stacks do not look equal).
 */
export function secretFingerprint(stack: string, variable: string, value: string): string {
  const salt = `berth:immutable:${stack}:${variable}`;
  const key = `${salt}\u0000${value}`;
  let f = fingerprints.get(key);
  if (!f) {
    f = `scrypt:${scryptSync(value, salt, 16, SCRYPT).toString('hex')}`;
    if (fingerprints.size > 1000) fingerprints.clear();
    fingerprints.set(key, f);
  }
  return f;
}

/** The immutable answers of a rendered stack as its ledger record holds them; undefined when it has none. */
export function immutableAnswers(stack: string, questions: Question[], values: Answers): Record<string, RecordedAnswer> | undefined {
  const out: Record<string, RecordedAnswer> = {};
  for (const q of questions) {
    const v = values[q.variable];
    if (!q.immutable || v === null || v === undefined || v === '') continue;
    out[q.variable] = SECRET_TYPES.has(q.type) ? secretFingerprint(stack, q.variable, String(v)) : v;
  }
  return Object.keys(out).length ? out : undefined;
}

function shown(v: RecordedAnswer): string {
  return typeof v === 'string' && v.startsWith('scrypt:') ? 'a secret value' : JSON.stringify(v);
}

/**
 * Throws IMMUTABLE_CHANGED naming the stack, each question and what to do when an immutable answer differs from
 * the one the ledger's last record of the stack holds. A first deploy, another template, or a question that was
 * not immutable then (nothing recorded) is no change.
 */
export function assertImmutable(
  spec: Pick<StackSpec, 'name' | 'file' | 'template' | 'force_change'>,
  desired: { source: string; immutable?: Record<string, RecordedAnswer> },
  last: { record?: { template: string; version: string; answers?: Record<string, RecordedAnswer> }; commit?: string } | undefined,
): void {
  const before = last?.record;
  if (!before?.answers || !desired.immutable || before.template !== spec.template) return;
  const forced = new Set(spec.force_change ?? []);
  const problems: Problem[] = [];
  for (const [variable, now] of Object.entries(desired.immutable)) {
    const then = before.answers[variable];
    if (then === undefined || then === now || forced.has(variable)) continue;
    const secret = String(now).startsWith('scrypt:') || String(then).startsWith('scrypt:');
    const what = secret ? 'has changed since it was deployed' : `was ${shown(then)} when deployed, now ${shown(now)}`;
    problems.push({ file: spec.file, field: `answers.${variable}`, message: `${what}; ${desired.source} marks this question immutable, so it cannot change once deployed` });
  }
  if (!problems.length) return;
  const names = problems.map((p) => p.field!.slice('answers.'.length));
  const at = last?.commit ? ` (ledger commit ${last.commit.slice(0, 7)}, ${before.template} ${before.version})` : '';
  throw new ValidationError('IMMUTABLE_CHANGED', `Stack ${spec.name}: ${names.length === 1 ? 'an answer that' : `${names.length} answers that`} cannot change once deployed would change${at}:`, problems,
    `Put the deployed ${names.length === 1 ? 'value' : 'values'} back in ${spec.file}. To change ${names.length === 1 ? 'it' : 'them'} on purpose (after moving the data yourself), add "force_change: [${names.join(', ')}]" to ${spec.file} for one deploy, then remove it.`);
}

/** A stack file's `force_change: [var, …]`, parsed beside the check it relaxes (called by environment.ts). */
export function parseForceChange(r: MapReader): string[] | undefined {
  const v = r.obj.force_change;
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(x))) {
    return void r.problem('force_change', `must list the variables whose immutable answer may change in the next deploy, e.g. [database_name], got ${kindOf(v)}`);
  }
  return list as string[];
}
