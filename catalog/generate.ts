/**
 * Generated answers: a value for a `generate:` question, drawn from node's CSPRNG. Berth makes one only where a
 * stack has no answer, and writes it encrypted into the stack file, so it is made once and never again.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { UserError } from '../lib/errors.ts';
import { registerSecret } from '../lib/mask.ts';
import { checkAnswers, checkValue } from './answers.ts';
import { charsetOf } from './charsets.ts';
import { isShown } from './show-if.ts';
import type { GenerateSpec, Question } from './types.ts';

/** A pattern the charset rarely meets (say "must hold a digit") gets this many draws before Berth gives up. */
const TRIES = 64;

function draw(spec: GenerateSpec): string {
  if (spec.kind === 'uuid') return randomUUID();
  const chars = charsetOf(spec.charset);
  // randomInt is unbiased (rejection sampling), unlike a byte taken modulo the charset's size.
  let out = '';
  for (let i = 0; i < spec.length; i++) out += chars[randomInt(chars.length)];
  return out;
}

/** One new value for `q`, passing its own rules (pattern included); registered as a secret before anyone sees it. */
export function generateValue(q: Question, where: string): string {
  if (!q.generate) throw new Error(`question ${q.variable} is not generated`);
  for (let i = 0; i < TRIES; i++) {
    const value = draw(q.generate);
    if (checkValue(q, value).errors.length === 0) {
      registerSecret(value);
      return value;
    }
  }
  throw new UserError('GENERATE_FAILED', `${where}: question ${q.variable} asks Berth to generate its answer, but ${TRIES} values drawn from ${describeGenerate(q.generate)} all failed its rules`, {
    data: { variable: q.variable },
    hint: 'The template\'s vendor should loosen the question\'s pattern or pick a charset that meets it; meanwhile answer the question by hand (berth secret encrypt).',
  });
}

export function describeGenerate(spec: GenerateSpec): string {
  return spec.kind === 'uuid' ? 'a random UUID' : `${spec.length} random characters (${spec.charset})`;
}

function isAnswered(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** The generated questions a stack has no answer to and that are shown given its other answers. */
export function missingGenerated(questions: Question[], answers: Record<string, unknown>): Question[] {
  const wanted = questions.filter((q) => q.generate && !isAnswered(answers[q.variable]));
  if (!wanted.length) return [];
  const known = Object.fromEntries(Object.entries(answers).filter(([k]) => questions.some((q) => q.variable === k)));
  const { values } = checkAnswers(questions, known);
  return wanted.filter((q) => isShown(q, values));
}
