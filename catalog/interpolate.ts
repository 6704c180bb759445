/**
 * Compose-style interpolation for templates of kind 'interpolate'. The YAML is parsed first and only then are
 * string values (never keys) interpolated, so an answer can never change the document's structure.
 *
 * Variables are the answers (as text; null means unset) and every question's variable (unset when
 * unanswered), plus BERTH_STACK, BERTH_TEMPLATE, BERTH_TEMPLATE_VERSION and BERTH_PREVIOUS_VERSION (unset on
 * a first install); answers win on a clash. `$VAR` or `${VAR}` naming no variable at all is an error, as in
 * Handlebars templates; a form with a default or alternative (`:-`, `-`, `:+`, `+`) accepts an unknown name.
 */
import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { Answers, Question, RenderContext } from './types.ts';
import type { Problem } from '../lib/errors.ts';
import { limits } from '../lib/limits.ts';
import { formatPath, type PathSegment } from './schema.ts';

export interface Variables {
  /** The variable's text, undefined when unset. */
  value(name: string): string | undefined;
  /** Whether the name is a variable at all (set or not). */
  known(name: string): boolean;
}

export class InterpolationError extends Error {
  constructor(message: string, readonly variable?: string) {
    super(message);
  }
}

export function interpolationVariables(values: Answers, questions: Question[], context: RenderContext): Variables {
  const vars = new Map<string, string | undefined>(questions.map((q) => [q.variable, undefined]));
  vars.set('BERTH_STACK', context.stack);
  vars.set('BERTH_TEMPLATE', context.template.name);
  vars.set('BERTH_TEMPLATE_VERSION', context.template.version);
  vars.set('BERTH_PREVIOUS_VERSION', context.previous?.version);
  for (const [k, v] of Object.entries(values)) vars.set(k, v === null ? undefined : String(v));
  return { value: (name) => vars.get(name), known: (name) => vars.has(name) };
}

// Sticky, so matching at an index costs the length of the match, not a copy of the rest of the text.
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATOR = /:-|-|:\?|\?|:\+|\+/y;

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/**
 * `depth` counts the `${…}` the text sits in: a default nested thousands deep would otherwise recurse until the
 * stack overflows, and finding each level's closing brace rescans the text below it.
 */
export function interpolate(text: string, vars: Variables, depth = 0): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) return out + text.slice(i);
    out += text.slice(i, dollar);
    i = dollar + 1;
    if (text[i] === '$') {
      out += '$';
      i += 1;
    } else if (text[i] === '{') {
      const [value, end] = braced(text, i + 1, vars, depth);
      out += value;
      i = end;
    } else {
      const name = matchAt(NAME, text, i);
      if (!name) throw new InterpolationError(`"$" must be followed by a variable name, "{" or a second "$" (write $$ for a literal dollar sign)`);
      out += lookup(name, vars);
      i += name.length;
    }
  }
  return out;
}

/** Interpolates `${…}` whose body starts at `start`; returns the value and the index after the closing brace. */
function braced(text: string, start: number, vars: Variables, depth: number): [string, number] {
  const name = matchAt(NAME, text, start);
  if (!name) throw new InterpolationError(`invalid reference "${text.slice(start - 2, start + 10)}": a variable name must follow "\${" directly`);
  let i = start + name.length;
  if (text[i] === '}') return [lookup(name, vars), i + 1];
  const op = matchAt(OPERATOR, text, i);
  if (!op) {
    const got = i < text.length ? `"${text[i]}"` : 'the end of the text';
    throw new InterpolationError(`"\${${name}" is followed by ${got}; expected "}" or one of :- - :? ? :+ +`, name);
  }
  i += op.length;
  const end = closingBrace(text, i, name, limits().depth - depth - 1);
  if (end < 0) throw new InterpolationError(`"\${${name}${op}" has no closing "}"`, name);
  return [apply(name, op, text.slice(i, end), vars, depth + 1), end + 1];
}

/** The index of the `}` closing a `${…}` whose word starts at `from`; more than `room` levels inside it is an error. */
function closingBrace(text: string, from: number, name: string, room: number): number {
  let depth = 0;
  for (let k = from; k < text.length; k++) {
    if (text[k] === '$' && (text[k + 1] === '$' || text[k + 1] === '{')) {
      if (text[k + 1] === '{' && ++depth > room) {
        throw new InterpolationError(`"\${${name}" nests \${…} deeper than ${limits().depth} levels; flatten the expression`, name);
      }
      k++;
    } else if (text[k] === '}') {
      if (depth === 0) return k;
      depth--;
    }
  }
  return -1;
}

function apply(name: string, op: string, word: string, vars: Variables, depth: number): string {
  const value = vars.value(name);
  const empty = value === undefined || value === '';
  const unset = value === undefined;
  switch (op) {
    case ':-': return empty ? interpolate(word, vars, depth) : value;
    case '-': return unset ? interpolate(word, vars, depth) : value;
    case ':+': return empty ? '' : interpolate(word, vars, depth);
    case '+': return unset ? '' : interpolate(word, vars, depth);
    default: {
      if (op === ':?' ? empty : unset) {
        const why = word ? interpolate(word, vars, depth) : `${name} is required`;
        throw new InterpolationError(`variable "${name}" is ${op === ':?' ? 'empty or not set' : 'not set'}: ${why}`, name);
      }
      return value as string;
    }
  }
}

function lookup(name: string, vars: Variables): string {
  if (!vars.known(name)) throw new InterpolationError(`unknown variable "${name}"`, name);
  return vars.value(name) ?? '';
}

/** Interpolates every string value of the document in place; keys are left as written, as compose does. */
export function interpolateDocument(doc: Document, vars: Variables, file: string, lineAt: (offset: number) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      try {
        node.value = interpolate(node.value, vars);
      } catch (err) {
        if (!(err instanceof InterpolationError)) throw err;
        problems.push({ file, line: lineAt(node.range?.[0] ?? 0), field: formatPath(path), message: err.message });
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
    else if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : '?']);
  };
  walk(doc.contents, []);
  return problems;
}
