/**
 * Checking a person's answers against a version's questions: coerce what YAML and the command line give into
 * the question's type, apply its rules, and report every problem at once. Secret values never reach a message.
 */
import { ValidationError, type Problem } from '../lib/errors.ts';
import { closest } from './resolve.ts';
import { isSecret } from '../lib/mask.ts';
import { formatBytes, limits } from '../lib/limits.ts';
import { isShown } from './show-if.ts';
import { matchesPattern } from './pattern.ts';
import { SECRET_TYPES, type AnswerValue, type Answers, type Question, type QuestionType } from './types.ts';

/** Types whose value is free text, so an empty string is a value rather than "no answer". */
const FREE_TEXT: ReadonlySet<QuestionType> = new Set(['string', 'password', 'multiline', 'secret']);
const MULTILINE: ReadonlySet<QuestionType> = new Set(['multiline', 'certificate', 'secret']);
const NUMERIC: ReadonlySet<QuestionType> = new Set(['int', 'float']);
const NOT_TEXT: ReadonlySet<QuestionType> = new Set(['int', 'float', 'boolean', 'enum']);

const INT = /^-?\d+$/;
// Unambiguous (each digit has one way to match), so a long non-number fails in linear time.
const FLOAT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/;
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*(\/[a-zA-Z0-9][a-zA-Z0-9_.-]*)?$/;

type Coerced = { value: AnswerValue; error?: undefined } | { error: string; value?: undefined };

/** How a given value appears in a message: quoted, shortened, and never shown for secret types. */
export function shown(q: Pick<Question, 'type'>, v: unknown): string {
  // An encrypted answer is secret whatever its question's type (an int, a hostname).
  if (SECRET_TYPES.has(q.type) || isSecret(v) || (typeof v === 'number' && isSecret(String(v)))) return typeof v === 'string' ? `a value of ${[...v].length} characters` : `a value of type ${typeof v}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return `the date ${v.toISOString()}`;
  if (typeof v === 'object' && v !== null) return 'a map';
  const text = typeof v === 'string' && v.length > 60 ? `${v.slice(0, 57)}...` : v;
  return JSON.stringify(text);
}

/**
 * UTF-8 size of an answer, without node's Buffer: these checks also run in the console's browser bundle. A
 * string longer than `max` code units is over `max` bytes whatever it holds, so a huge answer is never encoded.
 */
function utf8Bytes(text: string, max: number): number {
  return text.length > max ? text.length : new TextEncoder().encode(text).byteLength;
}

function coerce(q: Question, raw: unknown): Coerced {
  if (raw === null || raw === undefined) return { value: null };
  if (raw === '' && !FREE_TEXT.has(q.type)) return { value: null };
  if (typeof raw === 'object' && !(raw instanceof Date)) return { error: `must be a single value, got ${shown(q, raw)}` };
  const max = limits().answerBytes;
  if (typeof raw === 'string' && utf8Bytes(raw, max) > max) return { error: `is larger than the limit of ${formatBytes(max)} for one answer (BERTH_MAX_ANSWER_BYTES)` };
  const got = shown(q, raw);
  switch (q.type) {
    case 'int':
      if (typeof raw === 'number' ? Number.isSafeInteger(raw) : typeof raw === 'string' && INT.test(raw) && Number.isSafeInteger(Number(raw))) return { value: Number(raw) };
      return { error: `must be an integer, got ${got}` };
    case 'float':
      if (typeof raw === 'number' ? Number.isFinite(raw) : typeof raw === 'string' && FLOAT.test(raw)) return { value: Number(raw) };
      return { error: `must be a number, got ${got}` };
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw)) return { value: raw.toLowerCase() === 'true' };
      return { error: `must be true or false, got ${got}` };
    case 'enum': {
      const text = raw instanceof Date ? '' : String(raw);
      if (q.options?.includes(text)) return { value: text };
      return { error: `must be one of ${(q.options ?? []).map((o) => JSON.stringify(o)).join(', ')}, got ${got}` };
    }
    case 'date':
      return raw instanceof Date ? { value: raw.toISOString().slice(0, 10) } : { value: String(raw) };
    default:
      return raw instanceof Date ? { error: `must be text, got ${got}; put it in quotes` } : { value: String(raw) };
  }
}

/** A BEGIN line and a matching END line after it: indexOf, not a backtracking regex (linear on any input). */
function isPem(s: string): boolean {
  const begin = PEM_BEGIN.exec(s);
  if (!begin) return false;
  const end = s.lastIndexOf(`-----END ${begin[1]}-----`);
  return end > begin.index + begin[0].length;
}

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function validHostname(s: string): boolean {
  return s.length <= 253 && s.split('.').every((label) => HOST_LABEL.test(label));
}

/** Checks of a text value's shape that come from its type. */
function formatErrors(q: Question, s: string): string[] {
  const got = shown(q, s);
  if (!MULTILINE.has(q.type) && /[\r\n]/.test(s)) {
    return [`must be a single line, got ${SECRET_TYPES.has(q.type) ? got : 'text with a line break'}; only multiline, certificate and secret questions accept line breaks`];
  }
  if (q.type === 'date' && !validDate(s)) return [`must be a date written YYYY-MM-DD, got ${got}`];
  if (q.type === 'hostname' && !validHostname(s)) {
    return [`must be a hostname (letters, digits and hyphens in dot-separated labels of at most 63 characters, not starting or ending with a hyphen), got ${got}`];
  }
  if (q.type === 'certificate' && !isPem(s)) return ['must be a PEM block from "-----BEGIN ...-----" to "-----END ...-----"'];
  if (q.type === 'service' && !SERVICE.test(s)) return [`must be a service name or STACK/SERVICE, got ${got}`];
  return [];
}

function charList(chars: Iterable<string>): string {
  return JSON.stringify([...new Set(chars)].join(''));
}

function textRuleErrors(q: Question, s: string): string[] {
  const errors: string[] = [];
  const chars = [...s];
  const secret = SECRET_TYPES.has(q.type);
  if (q.min_length !== undefined && chars.length < q.min_length) errors.push(`must be at least ${q.min_length} characters long, got ${chars.length}`);
  if (q.max_length !== undefined && chars.length > q.max_length) errors.push(`must be at most ${q.max_length} characters long, got ${chars.length}`);
  const outside = q.valid_chars === undefined ? [] : chars.filter((c) => !q.valid_chars!.includes(c));
  if (outside.length) errors.push(`may only contain the characters ${JSON.stringify(q.valid_chars)}${secret ? '' : `; remove ${charList(outside)}`}`);
  const forbidden = q.invalid_chars === undefined ? [] : chars.filter((c) => q.invalid_chars!.includes(c));
  if (forbidden.length) errors.push(`must not contain any of the characters ${JSON.stringify(q.invalid_chars)}${secret ? '' : `; remove ${charList(forbidden)}`}`);
  // The vendor's words when given; either way the answer itself is not repeated (it may be a secret).
  if (q.pattern !== undefined && !matchesPattern(q.pattern, s)) errors.push(q.pattern_message ?? `must match the pattern ${JSON.stringify(q.pattern)}`);
  return errors;
}

function ruleErrors(q: Question, v: AnswerValue): string[] {
  if (typeof v === 'number' && NUMERIC.has(q.type)) {
    if (q.min !== undefined && v < q.min) return [`must be at least ${q.min}, got ${v}`];
    if (q.max !== undefined && v > q.max) return [`must be at most ${q.max}, got ${v}`];
    return [];
  }
  if (typeof v !== 'string' || NOT_TEXT.has(q.type) || v === '') return [];
  const format = formatErrors(q, v);
  return format.length ? format : textRuleErrors(q, v);
}

/** One value against one question: coerced value (null when missing or wrong) and what is wrong with it. */
export function checkValue(q: Question, raw: unknown): { value: AnswerValue; errors: string[] } {
  const c = coerce(q, raw);
  if (c.error !== undefined) return { value: null, errors: [c.error] };
  return { value: c.value, errors: ruleErrors(q, c.value) };
}

function unknownAnswerMessage(key: string, variables: string[]): string {
  const near = closest(key, variables);
  if (near) return `is not a question of this version; did you mean "${near}"?`;
  return `is not a question of this version; remove it${variables.length ? ` (the questions are ${variables.join(', ')})` : ''}`;
}

export function checkAnswers(questions: Question[], answers: Record<string, unknown>): { values: Answers; problems: Problem[] } {
  const values: Answers = {};
  const byVariable = new Map<string, Problem[]>(questions.map((q) => [q.variable, []]));
  for (const q of questions) {
    const given = Object.hasOwn(answers, q.variable) ? answers[q.variable] : undefined;
    const { value, errors } = checkValue(q, given);
    byVariable.get(q.variable)!.push(...errors.map((message) => ({ field: q.variable, message })));
    values[q.variable] = value ?? (errors.length ? null : coerce(q, q.default).value ?? null);
  }
  for (const q of questions) {
    const problems = byVariable.get(q.variable)!;
    const missing = values[q.variable] === null || values[q.variable] === '';
    if (q.generate && missing && problems.length === 0 && isShown(q, values)) {
      problems.push({ field: q.variable, message: `has no value yet (${q.label}): Berth generates it once, encrypted for the recipients in .berth-recipients (berth serve commits it, or run berth secret generate STACK); or answer it yourself` });
    } else if (q.required && missing && problems.length === 0 && isShown(q, values)) {
      problems.push({ field: q.variable, message: `is required (${q.label}); answer it with "${q.variable}: <value>"` });
    }
  }
  const variables = questions.map((q) => q.variable);
  const unknown = Object.keys(answers).filter((k) => !byVariable.has(k));
  const problems = [...[...byVariable.values()].flat(), ...unknown.map((k) => ({ field: k, message: unknownAnswerMessage(k, variables) }))];
  return { values, problems };
}

/** `ref` names the version in the summary, e.g. `web@1.2.0`. */
export function checkAnswersOrThrow(questions: Question[], answers: Record<string, unknown>, ref: string): Answers {
  const { values, problems } = checkAnswers(questions, answers);
  if (problems.length === 0) return values;
  const wrong = new Set(problems.map((p) => p.field)).size;
  throw new ValidationError('ANSWERS_INVALID', `${wrong} ${wrong === 1 ? 'answer is' : 'answers are'} wrong for ${ref}:`, problems,
    'Correct these answers and run the command again; the questions and their rules are in the version\'s berth.yml.');
}

export function secretVariables(questions: Question[]): string[] {
  return questions.filter((q) => SECRET_TYPES.has(q.type)).map((q) => q.variable);
}
