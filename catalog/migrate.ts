/**
 * Answer migrations applied: the `migrations:` of every version an upgrade passes, oldest first, turned into
 * plain edits of the answers (rename, set, drop). Pure: the same edits are applied to the stack file as YAML
 * (upgrades/stack-edit.ts), to the decrypted answers the merge request renders with, and by lint to sample answers.
 * A step whose source has no answer does nothing; an encrypted answer is moved by a rename but never read.
 */
import { UserError } from '../lib/errors.ts';
import { isEncrypted } from '../lib/secrets.ts';
import { checkAnswers, checkValue } from './answers.ts';
import { handlebarsContext, renderHandlebars } from './handlebars.ts';
import { SECRET_TYPES, type AnswerValue, type Migration, type Question, type Template, type TemplateVersion } from './types.ts';

export type AnswerEdit =
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'set'; variable: string; value: AnswerValue }
  | { kind: 'drop'; variable: string };

/** One edit made, with what the merge request tells the operator about it. */
export interface AppliedMigration {
  /** The version whose berth.yml asks for it. */
  version: string;
  step: Migration;
  edit: AnswerEdit;
  /** The answer before (for map and set); absent when it was unanswered. */
  old?: unknown;
  /** Whether the values involved are secret: never shown. */
  secret: boolean;
  /** A rename whose target was answered already: the old answer was dropped instead. */
  superseded?: boolean;
}

export interface MigrationStep {
  version: TemplateVersion;
  /** The version its migrations were written against: the one before it in the catalog. */
  previous?: TemplateVersion;
}

/** The versions an upgrade passes (`between`, oldest first), each with the version before it. */
export function migrationSteps(template: Template, between: TemplateVersion[]): MigrationStep[] {
  return between.filter((v) => v.migrations?.length).map((version) => {
    const i = template.versions.indexOf(version);
    return { version, ...(i > 0 ? { previous: template.versions[i - 1] } : {}) };
  });
}

function answered(answers: Record<string, unknown>, v: string): boolean {
  return Object.hasOwn(answers, v) && answers[v] !== undefined && answers[v] !== null && answers[v] !== '';
}

/** `answers` with the edits made: a rename moves the value as it is (an encrypted one stays encrypted). */
export function applyEdits(answers: Record<string, unknown>, edits: AnswerEdit[]): Record<string, unknown> {
  const out = { ...answers };
  for (const e of edits) {
    if (e.kind === 'rename') {
      if (Object.hasOwn(out, e.from)) out[e.to] = out[e.from];
      delete out[e.from];
    } else if (e.kind === 'set') out[e.variable] = e.value;
    else delete out[e.variable];
  }
  return out;
}

function secretIn(questions: Question[] | undefined, variable: string): boolean {
  return questions?.some((q) => q.variable === variable && SECRET_TYPES.has(q.type)) ?? false;
}

/** A `set` template rendered against the answers given to the previous version (its defaults filled in). */
function renderSet(step: Extract<Migration, { op: 'set' }>, s: MigrationStep, template: Template, answers: Record<string, unknown>, stack: string): AnswerValue {
  const questions = s.previous?.questions ?? [];
  const plain = Object.fromEntries(Object.entries(answers).filter(([k, v]) => !isEncrypted(v) && questions.some((q) => q.variable === k)));
  const { values } = checkAnswers(questions, plain);
  const file = `${template.dir}/${s.version.folder}/berth.yml`;
  const context = handlebarsContext({ ...plain, ...values } as Record<string, AnswerValue>, questions, { stack, template: { name: template.name, version: s.version.version }, ...(s.previous ? { previous: { version: s.previous.version } } : {}) });
  let text: string;
  try {
    const out = renderHandlebars(step.template, file, context);
    text = out.text.replace(out.token, (_, i: string) => String(out.values[Number(i)] ?? ''));
  } catch (e) {
    const why = (e as { problems?: { message: string }[] }).problems?.map((p) => p.message).join('; ') ?? (e as Error).message;
    throw new UserError('MIGRATION_FAILED', `${template.name} ${s.version.version}: the migration that sets ${step.variable} does not render: ${why}`, {
      data: { template: template.name, version: s.version.version, variable: step.variable },
      hint: `Answer ${step.variable} in the stack file by hand; the template's vendor should fix the migration (berth catalog lint checks it).`,
    });
  }
  // The result lands in the new question's type (a port is a number), as an answer written in the file would.
  const target = s.version.questions.find((q) => q.variable === step.variable);
  if (!target || text === '') return text === '' ? null : text;
  const checked = checkValue(target, text);
  return checked.errors.length ? text : checked.value;
}

/** The edits every step makes to `answers`, in order; `answers` is the stack file's (encrypted values as they are). */
export function migrateAnswers(template: Template, steps: MigrationStep[], answers: Record<string, unknown>, stack: string): { answers: Record<string, unknown>; applied: AppliedMigration[] } {
  let current = { ...answers };
  const applied: AppliedMigration[] = [];
  for (const s of steps) {
    // Every `set` of a version reads the answers as they were given to the version before it.
    const before = current;
    const secret = (v: string) => secretIn(s.previous?.questions, v) || secretIn(s.version.questions, v);
    for (const step of s.version.migrations ?? []) {
      const made = (edit: AnswerEdit, extra: Partial<AppliedMigration> = {}) => {
        applied.push({ version: s.version.version, step, edit, secret: false, ...extra });
        current = applyEdits(current, [edit]);
      };
      if (step.op === 'rename') {
        if (!Object.hasOwn(current, step.from)) continue;
        const enc = secret(step.from) || secret(step.to) || isEncrypted(current[step.from]);
        if (answered(current, step.to)) made({ kind: 'drop', variable: step.from }, { secret: enc, superseded: true });
        else made({ kind: 'rename', from: step.from, to: step.to }, { secret: enc });
      } else if (step.op === 'map') {
        const old = current[step.variable];
        if (!answered(current, step.variable) || isEncrypted(old) || typeof old === 'object') continue;
        const to = step.values[String(old)];
        if (to === undefined || to === String(old)) continue;
        made({ kind: 'set', variable: step.variable, value: to }, { old, secret: secret(step.variable) });
      } else if (step.op === 'set') {
        const old = current[step.variable];
        // A computed value is written in clear: never into a secret (lint refuses such a step).
        if (secret(step.variable) || isEncrypted(old)) continue;
        const value = renderSet(step, s, template, before, stack);
        if (value === null || (!isEncrypted(old) && old === value)) continue;
        made({ kind: 'set', variable: step.variable, value }, { ...(answered(current, step.variable) ? { old } : {}), secret: secret(step.variable) });
      } else if (Object.hasOwn(current, step.variable)) {
        made({ kind: 'drop', variable: step.variable }, { ...(answered(current, step.variable) ? { old: current[step.variable] } : {}), secret: secret(step.variable) || isEncrypted(current[step.variable]) });
      }
    }
  }
  return { answers: current, applied };
}
