/**
 * Handlebars rendering that can never let an answer change the document's structure.
 *
 * Answers are not pasted into YAML text. The template's AST is rewritten so that every output mustache —
 * `{{x}}`, `{{{x}}}`, `{{helper …}}` — calls an internal helper that records the value and emits a placeholder
 * token of letters and digits (a valid plain scalar anywhere in YAML, even inside quotes or block scalars).
 * The caller parses the rendered text and puts the values into the parsed scalars with `fillPlaceholders`.
 *
 * Context names (the `berth` object always holds the context; the top-level copies are conveniences):
 *   - every question's variable, null when unanswered, so strict lookups fail only on real typos;
 *   - `stack`: the stack's name;
 *   - `template`: `{ name, version }` of the version being rendered;
 *   - `previous`: `{ version }` when rendering an upgrade, else null (`{{#if previous}}` works);
 *   - `berth`: `{ stack, template, previous }`, never shadowed.
 * An answer named `stack`, `template` or `previous` wins at the top level (reach the context through `berth`);
 * an answer named `berth` is rejected.
 *
 * Strictness: every variable lookup, including helper arguments and `{{#if x}}`, must name something in the
 * context; helpers must be Berth's or Handlebars' block helpers; partials and decorators are refused.
 */
import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import type { Answers, Question, RenderContext } from './types.ts';
import { ValidationError, type Problem } from '../lib/errors.ts';
import { HELPER_NAMES, HelperError, Quoted, registerHelpers } from './helpers.ts';

const EMIT = '__berth_emit';
const REFUSED: Record<string, string> = { PartialStatement: 'partials', PartialBlockStatement: 'partial blocks', Decorator: 'decorators', DecoratorBlock: 'inline partials' };
const BLOCK_HELPERS = ['if', 'unless', 'each', 'with', 'lookup'];
/** Content is tagged with its template line by markers that are stripped after rendering (see `unmark`). */
const MARK = (line: number): string => `\u0000${line}\u0000`;

interface Loc { start: { line: number; column: number } }
interface HbNode { type: string; loc?: Loc }
interface PathNode extends HbNode { original: string; parts: string[]; data: boolean; depth: number; strict?: boolean }
interface CallNode extends HbNode { path: HbNode; params: HbNode[]; hash?: { pairs: { value: HbNode }[] } }
interface ProgramNode extends HbNode { body: HbNode[] }
interface ContentNode extends HbNode { value: string; original: string }
interface BlockNode extends CallNode { program?: ProgramNode; inverse?: ProgramNode }

/** The rendered text plus what `fillPlaceholders` needs to put the values back. */
export interface HandlebarsOutput {
  text: string;
  /** `lines[n]` is the template line that rendered line `n` (1-based) came from. */
  lines: number[];
  /** Placeholder `i` stands for `values[i]`, emitted by the mustache on template line `valueLines[i]`. */
  values: unknown[];
  valueLines: number[];
  /** Matches one placeholder; group 1 is its index. */
  token: RegExp;
}

export function handlebarsContext(values: Answers, questions: Question[], context: RenderContext): Record<string, unknown> {
  const berth = { stack: context.stack, template: { ...context.template }, previous: context.previous ? { ...context.previous } : null };
  const unanswered = questions.map((q) => [q.variable, null] as const);
  // Object.fromEntries defines own properties, so a variable named `__proto__` stays an ordinary key.
  return Object.fromEntries([...unanswered, ...Object.entries(berth), ...Object.entries(values), ['berth', berth]]);
}

interface Compiled {
  prep: Prepare;
  nonce: string;
  run: Handlebars.TemplateDelegate;
}

/** What one render emitted, handed to the EMIT helper through Handlebars' data frame (not a closure), so the compiled template can be shared. */
interface Emitted {
  values: unknown[];
  valueLines: number[];
}

/** Compiled templates by file and source: every stack of a template, and every timer pass of `berth serve`, reuses one. */
const compiled = new Map<string, Compiled>();
const COMPILED_MAX = 256;

function compile(source: string, file: string): Compiled {
  const key = `${file}\u0000${source}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const hb = Handlebars.create();
  registerHelpers(hb);
  const ast = parse(hb, source, file);
  const prep = new Prepare(file, new Set([...HELPER_NAMES, ...BLOCK_HELPERS]));
  prep.program(ast);
  if (prep.problems.length) fail(file, prep.problems);
  const nonce = nonceFor(source);
  hb.registerHelper(EMIT, (site: number, value: unknown, options: Handlebars.HelperOptions) => {
    const out = (options.data as { berthEmitted: Emitted }).berthEmitted;
    const line = prep.sites[site];
    out.values.push(emitted(value, line));
    out.valueLines.push(line);
    return `${nonce}${out.values.length - 1}z`;
  });
  // ignoreStandalone: the AST was already stripped by `parse`; compile must not strip it again.
  const entry = { prep, nonce, run: hb.compile(ast, { strict: true, ignoreStandalone: true }) };
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, entry);
  return entry;
}

export function renderHandlebars(source: string, file: string, context: Record<string, unknown>): HandlebarsOutput {
  if (source.includes('\u0000')) fail(file, [{ file, message: 'the template contains a NUL character' }]);
  const { nonce, run } = compile(source, file);
  const out: Emitted = { values: [], valueLines: [] };
  let raw: string;
  try {
    raw = run(context, { data: { berthEmitted: out } });
  } catch (err) {
    return fail(file, [problemFromError(err, file)]);
  }
  const { text, lines } = unmark(raw);
  return { text, lines, values: out.values, valueLines: out.valueLines, token: new RegExp(`${nonce}(\\d+)z`, 'g') };
}

function parse(hb: typeof Handlebars, source: string, file: string): ProgramNode {
  try {
    return hb.parse(source) as unknown as ProgramNode;
  } catch (err) {
    return fail(file, [problemFromError(err, file)]);
  }
}

/** What a mustache may emit: a scalar. Lists and maps would need structure, which `{{#each}}` provides. */
function emitted(value: unknown, line: number): unknown {
  if (value instanceof Quoted || value === null || value === undefined || typeof value !== 'object') return value;
  const what = Array.isArray(value) ? 'a list' : 'an object';
  throw new HelperError(`this expression produces ${what}, which cannot be placed in a scalar; use {{#each}} to write one item per line`, line);
}

function nonceFor(source: string): string {
  for (;;) {
    const nonce = `bz${randomBytes(5).toString('hex')}`;
    if (!source.includes(nonce)) return nonce;
  }
}

/** Walks the AST once: checks helpers, makes every lookup strict, routes mustaches, marks content lines. */
class Prepare {
  readonly sites: number[] = [];
  readonly problems: Problem[] = [];
  constructor(private readonly file: string, private readonly helpers: Set<string>) {}

  program(p: ProgramNode | undefined): void {
    if (p) p.body = p.body.map((s) => this.statement(s));
  }

  private statement(s: HbNode): HbNode {
    switch (s.type) {
      case 'ContentStatement':
        markContent(s as ContentNode);
        return s;
      case 'CommentStatement':
        return s;
      case 'MustacheStatement':
        return this.mustache(s as CallNode);
      case 'BlockStatement':
        this.call(s as CallNode, isCall(s as CallNode));
        this.program((s as BlockNode).program);
        this.program((s as BlockNode).inverse);
        return s;
      default:
        this.problem(s, `${REFUSED[s.type] ?? s.type} are not supported in Berth templates: a template version is one file`);
        return s;
    }
  }

  private mustache(m: CallNode): HbNode {
    const helperCall = isCall(m);
    this.call(m, helperCall);
    const value: HbNode = helperCall ? { type: 'SubExpression', path: m.path, params: m.params, hash: m.hash, loc: m.loc } as CallNode : m.path;
    const site = this.sites.push(m.loc?.start.line ?? 0) - 1;
    return { ...m, path: pathNode(EMIT, m.loc), params: [{ type: 'NumberLiteral', value: site, original: site, loc: m.loc } as HbNode, value], hash: undefined } as CallNode;
  }

  private call(node: CallNode, helperCall: boolean): void {
    if (helperCall) this.checkHelper(node);
    else this.expression(node.path);
    for (const p of node.params) this.expression(p);
    for (const pair of node.hash?.pairs ?? []) this.expression(pair.value);
  }

  private expression(e: HbNode): void {
    if (e.type === 'PathExpression') (e as PathNode).strict = true;
    else if (e.type === 'SubExpression') this.call(e as CallNode, true);
  }

  private checkHelper(node: CallNode): void {
    const path = node.path as PathNode;
    const simple = path.type === 'PathExpression' && path.parts.length === 1 && !path.data && path.depth === 0;
    if (!simple || !this.helpers.has(path.parts[0])) {
      this.problem(node, `unknown helper "${path.original ?? path.type}" (helpers: ${[...this.helpers].join(', ')})`);
    }
  }

  private problem(node: HbNode, message: string): void {
    this.problems.push({ file: this.file, line: node.loc?.start.line, message });
  }
}

const isCall = (n: CallNode): boolean => n.params.length > 0 || (n.hash?.pairs.length ?? 0) > 0;

function pathNode(name: string, loc?: Loc): PathNode {
  return { type: 'PathExpression', original: name, parts: [name], data: false, depth: 0, loc };
}

/** Prefixes every line of the content with a marker naming its template line. */
function markContent(c: ContentNode): void {
  if (!c.value || !c.loc) return;
  // Whitespace control may have removed leading whitespace (and one newline) that `original` still holds.
  const stripped = Math.max(0, c.original.indexOf(c.value));
  let line = c.loc.start.line + (c.original.slice(0, stripped).match(/\n/g)?.length ?? 0);
  c.value = MARK(line) + c.value.replace(/\n/g, () => `\n${MARK(++line)}`);
}

/** Removes the markers; a rendered line takes the template line of the last marker before its first character. */
export function unmark(raw: string): { text: string; lines: number[] } {
  const lines: number[] = [0];
  let row = 1;
  let pending = 1;
  let text = '';
  raw.split(/\u0000(\d+)\u0000/).forEach((part, i) => {
    if (i % 2 === 1) {
      pending = Number(part);
      return;
    }
    part.split('\n').forEach((seg, j) => {
      if (j > 0) lines[row++] ??= pending;
      if (seg) lines[row] ??= pending;
    });
    text += part;
  });
  lines[row] ??= pending;
  return { text, lines };
}

/** Turns a Handlebars parse or runtime error into a located problem. */
export function problemFromError(err: unknown, file: string): Problem {
  if (err instanceof HelperError) return { file, line: err.line || undefined, message: err.message };
  const e = err as { message?: string; lineNumber?: number };
  const raw = String(e.message ?? err);
  const parse = /^Parse error on line (\d+):\n[\s\S]*\n(Expecting [\s\S]*)$/.exec(raw);
  if (parse) return { file, line: Number(parse[1]), message: `template syntax error: ${parse[2].replace(/^Expecting .*, got/, 'unexpected')}` };
  const located = / - (\d+):(\d+)$/.exec(raw);
  const line = e.lineNumber ?? (located ? Number(located[1]) : undefined);
  const message = raw.replace(/ - \d+:\d+$/, '');
  // Strict mode does not guard lookups through null, e.g. `previous.version` on a first install.
  const throughNull = /^"(.+)" not defined in (null|undefined)$/.exec(message) ?? /^Cannot read properties of (?:null|undefined) \(reading '(.+)'\)$/.exec(message);
  if (throughNull) return { file, line, field: throughNull[1], message: `cannot look up "${throughNull[1]}" in a value that is null; guard it with {{#if …}}, e.g. {{#if previous}}{{previous.version}}{{/if}}` };
  const unknown = /^"(.+)" not defined in /.exec(message);
  if (unknown) return { file, line, field: unknown[1], message: `unknown variable "${unknown[1]}"` };
  return { file, line, message: message.replace(/\n/g, ' ') };
}

function fail(file: string, problems: Problem[]): never {
  throw new ValidationError('RENDER_FAILED', `${file}: the template did not render`, problems);
}
