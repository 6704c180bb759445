/**
 * Berth's error vocabulary. Every error has a stable `code` that tests and callers compare, serialisable
 * `data`, and a message that says what went wrong and what to do next. Callers decide retry policy by kind:
 * user input is terminal until someone changes it, unreachable is transient, conflict waits.
 */
export type ErrorKind = 'user' | 'unreachable' | 'conflict' | 'internal';

export class BerthError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly data: Record<string, unknown>;
  /** What the person should do next; printed under the message by the CLI. */
  readonly hint?: string;

  constructor(code: string, kind: ErrorKind, message: string, opts: { data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = kind;
    this.data = opts.data ?? {};
    this.hint = opts.hint;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, kind: this.kind, message: this.message, hint: this.hint, data: this.data };
  }
}

/** One located problem: several of them travel together so a person sees every mistake at once. */
export interface Problem {
  /** File path (relative to the catalog or environment root) when known. */
  file?: string;
  /** 1-based line in that file when known. */
  line?: number;
  /** Dotted path of the field, variable or key at fault, e.g. `questions[2].default` or `services.web.ports`. */
  field?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file && (p.line ? `${p.file}:${p.line}` : p.file), p.field].filter(Boolean).join(': ');
  return where ? `${where}: ${p.message}` : p.message;
}

/** A user-input error carrying every problem found, not just the first. */
export class ValidationError extends BerthError {
  readonly problems: Problem[];
  constructor(code: string, summary: string, problems: Problem[], hint?: string) {
    super(code, 'user', `${summary}\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`, { data: { problems }, hint });
    this.problems = problems;
  }
}

export class UserError extends BerthError {
  constructor(code: string, message: string, opts: { data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(code, 'user', message, opts);
  }
}

export class UnreachableError extends BerthError {
  constructor(code: string, message: string, opts: { data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(code, 'unreachable', message, opts);
  }
}

export class ConflictError extends BerthError {
  constructor(code: string, message: string, opts: { data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(code, 'conflict', message, opts);
  }
}
