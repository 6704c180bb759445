/**
 * `berth catalog lint` for a version's `migrations:`: every step's source is asked by the version before and its
 * target by this one, enum values map onto options that exist, no step reads or writes a secret in clear — and
 * the migrations keep a stack whole: answers valid for the version before (its defaults and sample values, each
 * option of each enum in turn) stay valid for this version once migrated, and this version renders with them.
 */
import { BerthError, ValidationError, type Problem } from '../lib/errors.ts';
import { checkAnswers } from './answers.ts';
import { migrateAnswers } from './migrate.ts';
import { renderVersion } from './render.ts';
import { SECRET_TYPES, type AnswerValue, type Catalog, type Migration, type Question, type Template, type TemplateVersion } from './types.ts';

/** Enough variants to try every option of a few enums; a template with hundreds is sampled, not enumerated. */
const MAX_SAMPLES = 64;

function stepProblems(step: Migration, before: TemplateVersion, version: TemplateVersion): string[] {
  const asked = (v: TemplateVersion, name: string) => v.questions.find((q) => q.variable === name);
  const secret = (q: Question | undefined) => q !== undefined && SECRET_TYPES.has(q.type);
  const out: string[] = [];
  const source = (name: string) => !asked(before, name) && out.push(`reads ${name}, which ${before.version} (the version before) does not ask`);
  const target = (name: string) => !asked(version, name) && out.push(`writes ${name}, which this version does not ask; add the question or fix the name`);
  if (step.op === 'rename') {
    source(step.from);
    target(step.to);
    if (asked(version, step.from)) out.push(`renames ${step.from}, which this version still asks; a rename would take its answer away`);
  } else if (step.op === 'map') {
    source(step.variable);
    target(step.variable);
    const [old, now] = [asked(before, step.variable), asked(version, step.variable)];
    if (secret(old) || secret(now)) out.push(`maps ${step.variable}, a secret answer: Berth never reads secrets to migrate them; ask for a new answer instead`);
    const unknown = old?.options ? Object.keys(step.values).filter((k) => !old.options!.includes(k)) : [];
    if (unknown.length) out.push(`maps ${unknown.map((v) => JSON.stringify(v)).join(', ')}, which ${before.version} does not offer (its options are ${old!.options!.join(', ')})`);
    const wrong = now?.options ? Object.values(step.values).filter((v) => !now.options!.includes(v)) : [];
    if (wrong.length) out.push(`maps to ${wrong.map((v) => JSON.stringify(v)).join(', ')}, which this version does not offer (its options are ${now!.options!.join(', ')})`);
  } else if (step.op === 'set') {
    target(step.variable);
    if (secret(asked(version, step.variable))) out.push(`sets ${step.variable}, a secret answer: a computed value would be written in clear; generate it or ask for it instead`);
    const read = before.questions.filter((q) => SECRET_TYPES.has(q.type) && new RegExp(`(^|[^A-Za-z0-9_])${q.variable}([^A-Za-z0-9_]|$)`).test(step.template.replace(/"[^"]*"|'[^']*'/g, '')));
    if (read.length) out.push(`reads the secret answer ${read.map((q) => q.variable).join(', ')}: Berth never reads secrets to migrate them`);
  } else {
    source(step.variable);
    if (asked(version, step.variable)) out.push(`drops ${step.variable}, which this version still asks`);
  }
  // The deployed value of an immutable answer is compared at plan time: changing it here would fail the deploy.
  if ((step.op === 'map' || step.op === 'set') && asked(before, step.variable)?.immutable && asked(version, step.variable)?.immutable) {
    out.push(`changes ${step.variable}, which is immutable: the upgraded deploy would be refused; keep the value, or stop marking it immutable`);
  }
  return out;
}

/** Answers for `before`: its required samples and defaults, then one variant per option of each of its enums. */
function samplesFor(before: TemplateVersion, base: Record<string, AnswerValue>): Record<string, AnswerValue>[] {
  const filled: Record<string, AnswerValue> = { ...base };
  for (const q of before.questions) if (filled[q.variable] === undefined && q.default !== undefined && q.default !== null) filled[q.variable] = q.default;
  const out = [filled];
  for (const q of before.questions.filter((x) => x.type === 'enum')) {
    for (const option of q.options ?? []) if (option !== filled[q.variable] && out.length < MAX_SAMPLES) out.push({ ...filled, [q.variable]: option });
  }
  return out;
}

function describe(answers: Record<string, AnswerValue>, base: Record<string, AnswerValue>, before: TemplateVersion): string {
  const varied = Object.entries(answers).filter(([k, v]) => base[k] !== v && before.questions.some((q) => q.variable === k && q.type === 'enum'));
  return varied.length ? ` with ${varied.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}` : '';
}

export function lintMigrations(catalog: Catalog, template: Template, version: TemplateVersion, sample: (questions: Question[], where: string) => Record<string, AnswerValue>): Problem[] {
  const steps = version.migrations ?? [];
  if (!steps.length) return [];
  const file = `${template.dir}/${version.folder}/berth.yml`;
  const i = template.versions.indexOf(version);
  const before = i > 0 ? template.versions[i - 1] : undefined;
  if (!before) return [{ file, field: 'migrations', message: 'this is the oldest version: there is nothing to migrate from; remove migrations:' }];
  const problems: Problem[] = steps.flatMap((step, n) => stepProblems(step, before, version).map((message) => ({ file, ...(step.line ? { line: step.line } : {}), field: `migrations[${n}]`, message })));
  if (problems.length) return problems;
  const samples = samplesFor(before, sample(before.questions, file));
  for (const answers of samples) {
    const where = `answers valid for ${before.version}${describe(answers, samples[0], before)}`;
    let migrated: Record<string, unknown>;
    try {
      migrated = migrateAnswers(template, [{ version, previous: before }], answers, 'lint').answers;
    } catch (e) {
      return [{ file, field: 'migrations', message: `${where}: ${(e as Error).message}` }];
    }
    // As an upgrade does: new questions take their defaults, generated ones a generated value.
    const fresh = sample(version.questions.filter((q) => q.generate && migrated[q.variable] === undefined), file);
    const { values, problems: wrong } = checkAnswers(version.questions, { ...migrated, ...fresh });
    if (wrong.length) return wrong.map((p) => ({ file, field: `migrations`, message: `${where} are not valid for ${version.version} after its migrations: ${p.field}: ${p.message}` }));
    try {
      renderVersion({ template, version, catalogRoot: catalog.root, values, context: { stack: 'lint', template: { name: template.name, version: version.version }, previous: { version: before.version } } });
    } catch (e) {
      const why = e instanceof ValidationError ? e.problems.map((p) => p.message).join('; ') : e instanceof BerthError || e instanceof Error ? e.message : String(e);
      return [{ file, field: 'migrations', message: `${where}, once migrated, do not render ${version.version}: ${why}` }];
    }
  }
  return [];
}
