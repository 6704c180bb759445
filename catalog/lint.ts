/**
 * `berth catalog lint`: everything the loader checks, plus rendering every version with its defaults, so a
 * vendor learns about a broken template before anyone deploys it.
 */
import { ValidationError, type Problem } from '../lib/errors.ts';
import { checkAnswers } from './answers.ts';
import { generateValue } from './generate.ts';
import { lintMigrations } from './lint-migrations.ts';
import { loadCatalog } from './load.ts';
import { renderVersion } from './render.ts';
import type { AnswerValue, Catalog, Question, Template, TemplateVersion } from './types.ts';

const DUMMY_PEM = '-----BEGIN CERTIFICATE-----\nTUlJQmxpbnQtc2FtcGxl\n-----END CERTIFICATE-----';

/** Text the question's length and character rules accept, built from valid_chars when it limits them. */
function sampleText(q: Question, base: string): string {
  const pool = [...(q.valid_chars ?? base)].filter((c) => !q.invalid_chars?.includes(c));
  const chars = pool.length > 0 ? pool : ['x'];
  const length = Math.min(Math.max(base.length, q.min_length ?? 0), q.max_length ?? Infinity);
  return Array.from({ length }, (_, i) => chars[i % chars.length]).join('');
}

/** A value a required question without a default accepts, so lint can still render the version. */
export function sampleValue(q: Question): AnswerValue {
  switch (q.type) {
    case 'int': return q.min ?? Math.min(1, q.max ?? 1);
    case 'float': return q.min ?? Math.min(1, q.max ?? 1);
    case 'boolean': return false;
    case 'enum': return q.options?.[0] ?? null;
    case 'date': return '2024-01-01';
    case 'hostname': return 'example.com';
    case 'service': return 'web';
    case 'certificate': return DUMMY_PEM;
    case 'password':
    case 'secret': return sampleText(q, 'example-secret');
    default: return sampleText(q, 'example');
  }
}

/** What a stack would answer with nothing but the required answers: generated questions get a generated value. */
export function sampleAnswers(questions: Question[], where = 'lint'): Record<string, AnswerValue> {
  const answers: Record<string, AnswerValue> = {};
  for (const q of questions) {
    if (q.generate) answers[q.variable] = generateValue(q, where);
    else if (q.required && (q.default === undefined || q.default === null || q.default === '')) answers[q.variable] = sampleValue(q);
  }
  return answers;
}

export function lintVersion(catalog: Catalog, template: Template, version: TemplateVersion): Problem[] {
  const file = `${template.dir}/${version.folder}/berth.yml`;
  let samples: Record<string, AnswerValue>;
  try {
    samples = sampleAnswers(version.questions, file);
  } catch (e) {
    return [{ file, message: e instanceof Error ? e.message : String(e) }];
  }
  const { values, problems } = checkAnswers(version.questions, samples);
  if (problems.length > 0) {
    return problems.map((p) => ({ ...p, file, message: `lint could not find a value to render with: ${p.message}` }));
  }
  const context = { stack: 'lint', template: { name: template.name, version: version.version } };
  try {
    renderVersion({ template, version, catalogRoot: catalog.root, values, context });
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    // A template that crashes the renderer is a finding for the vendor, not a reason to stop linting the rest.
    return [{ file: version.compose.file, message: `does not render: ${e instanceof Error ? e.message : String(e)}` }];
  }
}

export async function lintCatalog(root: string): Promise<{ problems: Problem[]; checked: { template: string; version: string }[] }> {
  const { catalog, problems } = await loadCatalog(root);
  const checked: { template: string; version: string }[] = [];
  for (const template of catalog.templates.values()) {
    for (const version of template.versions) {
      problems.push(...lintVersion(catalog, template, version));
      problems.push(...lintMigrations(catalog, template, version, sampleAnswers));
      checked.push({ template: template.name, version: version.version });
    }
  }
  return { problems, checked };
}
