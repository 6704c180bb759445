/**
 * Secrets as a type, and the one masking step every outbound text passes through (docs/security.md#secrets).
 *
 * Every secret Berth learns — a decrypted answer, the answer to a password/secret question — is registered here
 * the moment it is known. The sinks (pino's stream hook, the CLI's stdout and stderr, the HTTP server's replies,
 * ledger commits, container labels, merge request texts) all call `mask`, so a message built anywhere, even by
 * code that never saw the secret (a Docker error echoing an environment value), is masked on its way out.
 * Besides the plain value, the mask knows the forms a secret takes in Berth's own output: JSON-escaped (logs,
 * --json), compose-escaped (`$` written `$$`, in diffs of rendered compose) and, for a multi-line secret such
 * as a private key, each of its lines. Templates cannot make other forms: helpers that would transform a secret
 * (upper, split, …) refuse it (catalog/helpers.ts).
 */

export const MASK = '******';

/**
 * node's `util.inspect.custom`, by its registered name: this module is also bundled into the console's browser
 * code (catalog/answers.ts uses it), where node:util does not exist.
 */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Lines shorter than this are not secret on their own (`-----END…` aside, a key's lines are 64 characters). */
const MIN_LINE = 6;

/** A decrypted value that cannot be printed, logged or serialised by accident: only `reveal()` gives it. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  get length(): number {
    return [...this.#value].length;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [INSPECT](): string {
    return `Secret(${MASK})`;
  }
}

const registry = new Set<string>();
let pattern: RegExp | null | undefined;

/** Remembers a secret for every later `mask`; the empty string is never a secret. */
export function registerSecret(value: string): void {
  if (value === '' || registry.has(value)) return;
  registry.add(value);
  pattern = undefined;
}

export function isSecret(value: unknown): boolean {
  return typeof value === 'string' && registry.has(value);
}

/** Every form of each secret the mask replaces, longest first so a secret containing another is masked whole. */
export function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  const add = (s: string) => {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    if (s.includes('$')) forms.add(s.replaceAll('$', () => '$$'));
  };
  for (const s of secrets) {
    if (!s) continue;
    add(s);
    if (/[\r\n]/.test(s)) for (const line of s.split(/\r?\n/)) if (line.trim().length >= MIN_LINE) add(line.trim());
  }
  return [...forms].filter((f) => f !== '').sort((a, b) => b.length - a.length);
}

function compile(forms: string[]): RegExp | null {
  return forms.length ? new RegExp(forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
}

/** `text` with every registered secret (and `extra` ones) in every known form replaced by `******`. */
export function mask(text: string, extra: readonly string[] = []): string {
  if (pattern === undefined) pattern = compile(secretForms(registry));
  let out = pattern ? text.replace(pattern, MASK) : text;
  const more = extra.filter((s) => s && !registry.has(s));
  if (more.length) out = out.replace(compile(secretForms(more))!, MASK);
  return out;
}

/** A copy of `value` with every string (keys included) masked: for structured answers (JSON, API bodies). */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map(maskDeep) as T;
  if (value instanceof Error) return value;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [mask(k), maskDeep(v)])) as T;
  }
  return value;
}

/** For tests: forget every registered secret. */
export function forgetSecrets(): void {
  registry.clear();
  pattern = undefined;
}
