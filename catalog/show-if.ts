/** `show_if`: `VAR=VALUE [&& VAR=VALUE ...]`, or a bare `VAR` meaning the boolean VAR is true (Rancher's syntax). */
import type { AnswerValue, Answers, Question } from './types.ts';

export interface Condition {
  variable: string;
  /** Undefined for a bare `VAR`. */
  value?: string;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseShowIf(expr: string): { conditions: Condition[] } | { error: string } {
  const conditions: Condition[] = [];
  for (const part of expr.split('&&').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    const variable = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!VARIABLE.test(variable)) {
      return { error: `"${part}" is not a condition; write VAR=VALUE or VAR, joined with &&` };
    }
    conditions.push(eq < 0 ? { variable } : { variable, value: part.slice(eq + 1).trim() });
  }
  return { conditions };
}

function asText(v: AnswerValue | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

export function conditionHolds(c: Condition, values: Answers): boolean {
  return c.value === undefined ? values[c.variable] === true : asText(values[c.variable]) === c.value;
}

/** Whether a question is shown given the other values; an unparsable condition shows it (load reports the error). */
export function isShown(q: Pick<Question, 'show_if'>, values: Answers): boolean {
  if (!q.show_if) return true;
  const parsed = parseShowIf(q.show_if);
  return 'error' in parsed || parsed.conditions.every((c) => conditionHolds(c, values));
}

/** Load-time checks of a question's show_if against the version's questions; returns messages. */
export function checkShowIf(q: Question, questions: Question[]): string[] {
  if (!q.show_if) return [];
  const parsed = parseShowIf(q.show_if);
  if ('error' in parsed) return [parsed.error];
  const errors: string[] = [];
  for (const c of parsed.conditions) {
    const target = questions.find((o) => o.variable === c.variable);
    if (c.variable === q.variable) errors.push(`refers to the question itself ("${c.variable}"); a question cannot hide itself`);
    else if (!target) errors.push(`refers to "${c.variable}", which is no question of this version; use one of ${questions.map((o) => o.variable).join(', ')}`);
    else errors.push(...checkConditionValue(c, target));
  }
  return errors;
}

function checkConditionValue(c: Condition, target: Question): string[] {
  if (c.value === undefined) {
    return target.type === 'boolean' ? [] : [`bare "${c.variable}" means "${c.variable} is true", but ${c.variable} is a question of type ${target.type}; write ${c.variable}=VALUE`];
  }
  if (target.type === 'boolean' && c.value !== 'true' && c.value !== 'false') {
    return [`${c.variable} is a boolean question, so compare it with true or false, not "${c.value}"`];
  }
  if (target.type === 'enum' && target.options && !target.options.includes(c.value)) {
    return [`"${c.value}" is not an option of ${c.variable}; options are ${target.options.join(', ')}`];
  }
  return [];
}
