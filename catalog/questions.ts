/** The `questions` list of a berth.yml: each question's fields checked, its default held to its own rules. */
import type { Problem } from '../lib/errors.ts';
import { checkValue } from './answers.ts';
import { closest } from './resolve.ts';
import { checkShowIf } from './show-if.ts';
import { GENERATE_CHARSETS, QUESTION_TYPES, SECRET_TYPES, type AnswerValue, type GenerateCharset, type GenerateSpec, type Question, type QuestionType } from './types.ts';
import { charsetOf, GENERATE_MAX_LENGTH, GENERATE_MIN_LENGTH, UUID_CHARS, UUID_LENGTH } from './charsets.ts';
import { patternProblem } from './pattern.ts';
import { MapReader, isPlainMap, kindOf, type YamlFile, type YamlPath } from './yaml-file.ts';

export const QUESTION_KEYS = [
  'variable', 'label', 'description', 'type', 'required', 'default', 'options', 'min', 'max',
  'min_length', 'max_length', 'valid_chars', 'invalid_chars', 'group', 'show_if', 'pattern', 'pattern_message',
  'immutable', 'generate',
] as const;

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Names every JavaScript object already has: an answer under `__proto__` vanishes when stored, and one under
 * `constructor` or `prototype` would read as given when it was not. Refused as variables, so answers can't be lost.
 */
const RESERVED_VARIABLES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `name` cannot be a question's variable, or undefined when it can. */
export function variableNameProblem(name: string): string | undefined {
  if (!VARIABLE_NAME.test(name)) return `"${name}" is not a variable name; use letters, digits and _, not starting with a digit`;
  if (RESERVED_VARIABLES.has(name)) return `"${name}" is reserved (every JavaScript object has it); choose another variable name`;
  return undefined;
}

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

function readPattern(r: MapReader, q: Question): void {
  const pattern = r.string('pattern');
  const message = r.string('pattern_message');
  if (pattern !== undefined) {
    const bad = patternProblem(pattern);
    if (bad) r.problem('pattern', bad);
    else if (!TEXT_TYPES.has(q.type)) r.problem('pattern', `only text questions have a pattern; this one is type ${q.type}`, 'key');
    else q.pattern = pattern;
  }
  if (message !== undefined && pattern === undefined) r.problem('pattern_message', 'says what to do when the answer does not match pattern, but there is no pattern; add one or remove this', 'key');
  else if (message !== undefined) q.pattern_message = message;
}

/** `generate: uuid | <charset>` or `generate: { length: 32, charset: alnum }`. */
function parseGenerate(r: MapReader): GenerateSpec | undefined {
  const raw = r.obj.generate;
  const charsets = `${GENERATE_CHARSETS.join(', ')}`;
  const named = (name: string, key: string, sub: MapReader): GenerateCharset | undefined => {
    if ((GENERATE_CHARSETS as readonly string[]).includes(name)) return name as GenerateCharset;
    const near = closest(name, ['uuid', ...GENERATE_CHARSETS]);
    sub.problem(key, `"${name}" is not a character set Berth generates from; ${near ? `did you mean "${near}"? ` : ''}write uuid or one of ${charsets}`);
    return undefined;
  };
  if (typeof raw === 'string') {
    if (raw === 'uuid') return { kind: 'uuid' };
    const charset = named(raw, 'generate', r);
    return charset && { kind: 'chars', charset, length: 32 };
  }
  if (!isPlainMap(raw)) return void r.problem('generate', `must be uuid, a character set (${charsets}) or a map { length: 32, charset: alnum }, got ${kindOf(raw)}`);
  const sub = new MapReader(r.yaml, [...r.path, 'generate'], r.field('generate'), raw, r.problems);
  sub.unknownKeys(['length', 'charset']);
  const given = sub.string('charset') ?? 'alnum';
  if (given === 'uuid') return void sub.problem('charset', 'a uuid has its own length and characters; write "generate: uuid"');
  const charset = named(given, 'charset', sub);
  const length = sub.number('length', { integer: true }) ?? 32;
  if (length < GENERATE_MIN_LENGTH || length > GENERATE_MAX_LENGTH) return void sub.problem('length', `must be from ${GENERATE_MIN_LENGTH} to ${GENERATE_MAX_LENGTH}, got ${length}`);
  return charset && { kind: 'chars', charset, length };
}

/** What a generated value is made of must pass the question's own length and character rules. */
function readGenerate(r: MapReader, q: Question): void {
  if (r.obj.generate === undefined || r.obj.generate === null) return;
  const spec = parseGenerate(r);
  if (!spec) return;
  if (!SECRET_TYPES.has(q.type)) return r.problem('generate', `only password and secret questions are generated (their answers are encrypted); this one is type ${q.type}`, 'key');
  if (r.obj.default !== undefined && r.obj.default !== null) return r.problem('default', 'a generated question has no default: every stack gets its own value; remove the default or generate', 'key');
  const [length, chars] = spec.kind === 'uuid' ? [UUID_LENGTH, UUID_CHARS] : [spec.length, charsetOf(spec.charset)];
  const what = spec.kind === 'uuid' ? 'a uuid' : `${spec.length} characters of ${spec.charset}`;
  if (q.min_length !== undefined && length < q.min_length) return r.problem('generate', `makes ${what}, shorter than min_length ${q.min_length}`);
  if (q.max_length !== undefined && length > q.max_length) return r.problem('generate', `makes ${what}, longer than max_length ${q.max_length}`);
  const outside = [...chars].filter((c) => (q.valid_chars !== undefined && !q.valid_chars.includes(c)) || q.invalid_chars?.includes(c));
  if (outside.length) return r.problem('generate', `makes ${what}, which may hold ${JSON.stringify([...new Set(outside)].join(''))} that valid_chars or invalid_chars refuse; pick another charset`);
  q.generate = spec;
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
  const variable = typeof raw.variable === 'string' && !variableNameProblem(raw.variable) ? raw.variable : undefined;
  const r = new MapReader(yaml, path, variable ? `questions.${variable}` : `questions[${index}]`, raw, problems);
  if (!variable) {
    const given = r.string('variable', true);
    if (given !== undefined) r.problem('variable', variableNameProblem(given)!);
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
  readPattern(r, q);
  const immutable = r.boolean('immutable');
  if (immutable) q.immutable = true;
  readGenerate(r, q);
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
