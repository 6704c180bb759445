/** The `questions` list of a berth.yml: each question's fields checked, its default held to its own rules. */
import type { Problem } from '../lib/errors.ts';
import { checkValue } from './answers.ts';
import { closest } from './resolve.ts';
import { checkShowIf } from './show-if.ts';
import { QUESTION_TYPES, type AnswerValue, type Question, type QuestionType } from './types.ts';
import { MapReader, isPlainMap, kindOf, type YamlFile, type YamlPath } from './yaml-file.ts';

export const QUESTION_KEYS = [
  'variable', 'label', 'description', 'type', 'required', 'default', 'options', 'min', 'max',
  'min_length', 'max_length', 'valid_chars', 'invalid_chars', 'group', 'show_if',
] as const;

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const TEXT_TYPES: ReadonlySet<QuestionType> = new Set(['string', 'password', 'multiline', 'secret', 'certificate', 'hostname', 'service', 'date']);

function push(problems: Problem[], yaml: YamlFile, path: YamlPath, field: string, message: string): void {
  const line = yaml.line(path);
  problems.push({ file: yaml.file, ...(line ? { line } : {}), field, message });
}

function readType(r: MapReader): QuestionType {
  const t = r.string('type');
  if (t === undefined || (QUESTION_TYPES as readonly string[]).includes(t)) return (t as QuestionType | undefined) ?? 'string';
  const near = closest(t, QUESTION_TYPES);
  r.problem('type', `unknown type "${t}"; ${near ? `did you mean "${near}"? ` : ''}types are ${QUESTION_TYPES.join(', ')}`);
  return 'string';
}

function readOptions(r: MapReader, type: QuestionType): string[] | undefined {
  const raw = r.obj.options;
  if (raw === undefined || raw === null) {
    if (type === 'enum') r.problem('options', 'an enum question needs a non-empty list of options; add "options: [a, b]"');
    return undefined;
  }
  if (type !== 'enum') r.problem('options', `only enum questions have options, but this one is type ${type}; remove options or set "type: enum"`, 'key');
  const items = Array.isArray(raw) ? raw : [];
  const bad = items.filter((o) => !['string', 'number', 'boolean'].includes(typeof o));
  if (!Array.isArray(raw) || bad.length > 0) r.problem('options', `must be a list of plain values, got ${Array.isArray(raw) ? `an item that is ${kindOf(bad[0])}` : kindOf(raw)}`);
  const lossy = items.findIndex((o, i) => r.numberLosesText(['options', i], o));
  if (lossy >= 0) r.problem('options', `YAML reads ${r.yaml.source([...r.path, 'options', lossy])} as the number ${String(items[lossy])}; put it in quotes to keep it as written`);
  const options = items.filter((o) => !bad.includes(o)).map(String);
  if (Array.isArray(raw) && raw.length === 0 && type === 'enum') r.problem('options', 'an enum question needs at least one option');
  const dupes = options.filter((o, i) => options.indexOf(o) !== i);
  if (dupes.length) r.problem('options', `lists "${dupes[0]}" more than once; options must be distinct`);
  return options;
}

function readBounds(r: MapReader, q: Question): void {
  const numeric = q.type === 'int' || q.type === 'float';
  for (const key of ['min', 'max'] as const) {
    const v = r.number(key, { integer: q.type === 'int' });
    if (v !== undefined && !numeric) r.problem(key, `only int and float questions have ${key}; for text use ${key}_length`, 'key');
    if (v !== undefined) q[key] = v;
  }
  for (const key of ['min_length', 'max_length'] as const) {
    const v = r.number(key, { integer: true, nonNegative: true });
    if (v !== undefined && !TEXT_TYPES.has(q.type)) r.problem(key, `only text questions have ${key}; this one is type ${q.type}`, 'key');
    if (v !== undefined) q[key] = v;
  }
  if (q.min !== undefined && q.max !== undefined && q.min > q.max) r.problem('min', `min (${q.min}) is greater than max (${q.max})`);
  if (q.min_length !== undefined && q.max_length !== undefined && q.min_length > q.max_length) {
    r.problem('min_length', `min_length (${q.min_length}) is greater than max_length (${q.max_length})`);
  }
}

function readDefault(r: MapReader, q: Question): void {
  const raw = r.obj.default;
  if (raw === undefined || raw === null) return;
  if (q.type !== 'int' && q.type !== 'float' && r.numberLosesText(['default'], raw)) {
    r.problem('default', `YAML reads ${r.yaml.source([...r.path, 'default'])} as the number ${String(raw)}; put it in quotes to keep it as written`);
    return;
  }
  const { value, errors } = checkValue(q, raw);
  for (const e of errors) r.problem('default', `the default ${e}; change the default or the question's rules`);
  if (errors.length === 0) q.default = value as AnswerValue;
}

function readQuestion(yaml: YamlFile, path: YamlPath, index: number, raw: unknown, problems: Problem[]): Question | undefined {
  if (!isPlainMap(raw)) {
    push(problems, yaml, path, `questions[${index}]`, `must be a map with at least "variable", got ${kindOf(raw)}`);
    return undefined;
  }
  const variable = typeof raw.variable === 'string' && VARIABLE_NAME.test(raw.variable) ? raw.variable : undefined;
  const r = new MapReader(yaml, path, variable ? `questions.${variable}` : `questions[${index}]`, raw, problems);
  if (!variable) {
    const given = r.string('variable', true);
    if (given !== undefined) r.problem('variable', `"${given}" is not a variable name; use letters, digits and _, not starting with a digit`);
  }
  r.unknownKeys(QUESTION_KEYS);
  const type = readType(r);
  const q: Question = { variable: variable ?? `#${index}`, label: r.string('label') ?? variable ?? `#${index}`, type, required: r.boolean('required') ?? false };
  for (const key of ['description', 'group', 'valid_chars', 'invalid_chars', 'show_if'] as const) {
    const v = r.string(key);
    if (v !== undefined) q[key] = v;
  }
  const options = readOptions(r, type);
  if (options && type === 'enum') q.options = options;
  readBounds(r, q);
  readDefault(r, q);
  return variable ? q : undefined;
}

/** `raw` is the value of `questions` in the berth.yml `yaml`. Questions with an unusable variable are left out. */
export function parseQuestions(yaml: YamlFile, raw: unknown): { questions: Question[]; problems: Problem[] } {
  const problems: Problem[] = [];
  if (raw === undefined || raw === null) return { questions: [], problems };
  if (!Array.isArray(raw)) {
    push(problems, yaml, ['questions'], 'questions', `must be a list of questions, got ${kindOf(raw)}`);
    return { questions: [], problems };
  }
  const found: { q: Question; index: number }[] = [];
  raw.forEach((item, i) => {
    const q = readQuestion(yaml, ['questions', i], i, item, problems);
    if (!q) return;
    if (found.some((o) => o.q.variable === q.variable)) {
      push(problems, yaml, ['questions', i, 'variable'], `questions.${q.variable}.variable`, `"${q.variable}" is asked twice; variables must be unique within a version`);
      return;
    }
    found.push({ q, index: i });
  });
  const questions = found.map((f) => f.q);
  for (const { q, index } of found) {
    for (const message of checkShowIf(q, questions)) push(problems, yaml, ['questions', index, 'show_if'], `questions.${q.variable}.show_if`, message);
  }
  return { questions, problems };
}
