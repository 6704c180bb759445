/**
 * Rancher's questions (`.catalog.questions` in rancher-compose.yml) as Berth's. The fields are the same by
 * descent; what differs is said: `certificate` names a certificate stored in Rancher, Berth's is the PEM block
 * itself; a default Berth's rules refuse (a boolean "yes", an int "") is dropped and reported.
 */
import { checkValue } from '../../catalog/answers.ts';
import { variableNameProblem } from '../../catalog/questions.ts';
import { QUESTION_TYPES, type AnswerValue, type Question, type QuestionType } from '../../catalog/types.ts';
import { ImportError, type Findings } from './report-types.ts';

const TYPES: Record<string, QuestionType> = Object.fromEntries(QUESTION_TYPES.map((t) => [t, t]));
const TEXT_KEYS = ['label', 'description', 'group', 'valid_chars', 'invalid_chars'] as const;
const NUMBER_KEYS = ['min', 'max', 'min_length', 'max_length'] as const;
const KNOWN = new Set(['variable', 'type', 'required', 'default', 'options', ...TEXT_KEYS, ...NUMBER_KEYS]);

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function readType(raw: Record<string, unknown>, variable: string, findings: Findings): QuestionType {
  const given = raw.type === undefined || raw.type === null ? 'string' : String(raw.type).trim();
  if (given === 'certificate') {
    findings.add('approximated', 'question type certificate', `${variable}: Rancher's answer named a certificate stored in Rancher; Berth's answer is the PEM block itself`);
    return 'certificate';
  }
  const t = TYPES[given];
  if (t) return t;
  findings.add('approximated', `question type ${given}`, `${variable}: type "${given}" is not a Berth type; it is asked as a string`);
  return 'string';
}

function readDefault(q: Question, raw: unknown, findings: Findings): void {
  if (raw === undefined || raw === null) return;
  let value: unknown = raw;
  if (q.type === 'boolean' && typeof raw === 'string') value = raw.trim();
  if (q.type === 'int' || q.type === 'float') value = typeof raw === 'string' ? raw.trim() : raw;
  if (value === '' && !['string', 'password', 'multiline', 'secret'].includes(q.type)) return;
  const { value: checked, errors } = checkValue(q, typeof value === 'number' && !['int', 'float'].includes(q.type) ? String(value) : value);
  if (errors.length) {
    findings.add('approximated', 'question default', `${q.variable}: the default ${JSON.stringify(raw)} ${errors[0]}; it was dropped`);
    return;
  }
  q.default = checked as AnswerValue;
}

function readOptions(q: Question, raw: unknown, findings: Findings): void {
  if (q.type !== 'enum') {
    if (raw !== undefined && raw !== null) findings.add('note', 'question options', `${q.variable}: options on a ${q.type} question were dropped`);
    return;
  }
  const options = [...new Set((Array.isArray(raw) ? raw : []).filter((o) => o !== null && typeof o !== 'object').map(String))];
  if (options.length === 0) {
    findings.add('approximated', 'question options', `${q.variable}: an enum without options is asked as a string`);
    q.type = 'string';
    return;
  }
  q.options = options;
}

function readNumbers(q: Question, raw: Record<string, unknown>, findings: Findings): void {
  const numeric = q.type === 'int' || q.type === 'float';
  for (const key of NUMBER_KEYS) {
    const v = raw[key];
    if (v === undefined || v === null || v === '') continue;
    const n = Number(v);
    const fits = key.endsWith('_length') ? !numeric && q.type !== 'boolean' && q.type !== 'enum' && Number.isInteger(n) && n >= 0 : numeric && (q.type === 'float' || Number.isInteger(n));
    if (Number.isFinite(n) && fits) q[key] = n;
    else findings.add('note', `question ${key}`, `${q.variable}: ${key} ${JSON.stringify(v)} does not apply to a ${q.type} question and was dropped`);
  }
  if (q.min !== undefined && q.max !== undefined && q.min > q.max) delete q.max;
  if (q.min_length !== undefined && q.max_length !== undefined && q.min_length > q.max_length) delete q.max_length;
}

export function convertQuestion(raw: unknown, index: number, findings: Findings): Question {
  const o = obj(raw);
  const variable = typeof o.variable === 'string' ? o.variable.trim() : '';
  const unusable = variableNameProblem(variable);
  if (unusable) throw new ImportError(`question ${index + 1}: ${unusable}`);
  const q: Question = { variable, label: variable, type: readType(o, variable, findings), required: o.required === true || o.required === 'true' };
  for (const key of TEXT_KEYS) {
    if (typeof o[key] === 'string' || typeof o[key] === 'number') q[key] = String(o[key]);
  }
  readOptions(q, o.options, findings);
  readNumbers(q, o, findings);
  readDefault(q, o.default, findings);
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) findings.add('note', `question ${key}`, `${variable}: "${key}" has no Berth equivalent and was dropped`);
  return q;
}

export function convertQuestions(raw: unknown, findings: Findings): Question[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ImportError('.catalog.questions is not a list');
  const out: Question[] = [];
  raw.forEach((r, i) => {
    const q = convertQuestion(r, i, findings);
    if (out.some((o) => o.variable === q.variable)) findings.add('approximated', 'question', `${q.variable} is asked twice; the first one is kept`);
    else out.push(q);
  });
  return out;
}

/** The question in berth.yml's field order, without empty fields. */
export function questionYaml(q: Question): Record<string, unknown> {
  const out: Record<string, unknown> = { variable: q.variable, label: q.label };
  for (const key of ['description', 'type', 'required', 'default', 'options', 'min', 'max', 'min_length', 'max_length', 'valid_chars', 'invalid_chars', 'group'] as const) {
    const v = q[key];
    if (v !== undefined && v !== null && !(key === 'required' && v === false) && !(key === 'type' && v === 'string')) out[key] = v;
  }
  return out;
}
