/**
 * Renders one template version with a set of answers into a validated, normalized StackModel.
 *
 *   handlebars:  template → text with placeholders → YAML document → values put into scalars ┐
 *   interpolate: source → YAML document → `$VAR` interpolated in string values               ├→ schema → model
 *
 * Errors are ValidationErrors whose problems name the template file and line (and the service and key):
 *   RENDER_FAILED    the template did not render (syntax, unknown variable or helper, `${VAR:?}`, …)
 *   YAML_INVALID     the rendered text is not YAML
 *   COMPOSE_INVALID  the document breaks the Compose schema or a Berth rule
 */
import { isMap, isScalar, isSeq, type Document } from 'yaml';
import { boundedToJS, parseBounded } from '../lib/yaml-bounded.ts';
import { ValidationError, type Problem } from '../lib/errors.ts';
import type { Answers, RenderContext, Template, TemplateVersion } from './types.ts';
import type { StackModel } from './model.ts';
import { handlebarsContext, renderHandlebars } from './handlebars.ts';
import { fillPlaceholders } from './placeholders.ts';
import { interpolateDocument, interpolationVariables } from './interpolate.ts';
import { normalizeCompose } from './normalize.ts';
import { modelToYaml } from './compose-yaml.ts';
import { parsePath, type PathSegment } from './schema.ts';

export interface RenderInput { template: Template; version: TemplateVersion; catalogRoot: string; values: Answers; context: RenderContext }
export interface RenderResult { model: StackModel; yaml: string /* normalized compose YAML, long forms */ }

/** Compose (go-yaml) reads `0400` as octal, as file modes are written; YAML 1.2 alone would read 400. */
const OCTAL = { tag: 'tag:yaml.org,2002:int', format: 'OCT', default: true, test: /^0[0-7]+$/, resolve: (s: string) => Number.parseInt(s, 8) };

interface Parsed { doc: Document; lineAt(offset: number): number | undefined; lineOf(path: PathSegment[]): number | undefined }

export function renderVersion(input: RenderInput): RenderResult {
  const { version, values, context } = input;
  const { file, kind, source } = version.compose;
  let parsed: Parsed;
  if (kind === 'handlebars') {
    if ('berth' in values) throw new ValidationError('RENDER_FAILED', `${file}: the template did not render`, [{ file, field: 'berth', message: 'the variable name "berth" is reserved for the render context' }]);
    const out = renderHandlebars(source, file, handlebarsContext(values, version.questions, context));
    parsed = parseYaml(out.text, file, (rendered) => out.lines[rendered]);
    check('RENDER_FAILED', file, fillPlaceholders(parsed.doc, out, file, parsed.lineAt));
  } else {
    parsed = parseYaml(source, file, (line) => line);
    check('RENDER_FAILED', file, interpolateDocument(parsed.doc, interpolationVariables(values, version.questions, context), file, parsed.lineAt));
  }
  const model = withLines(parsed, () => normalizeCompose(toJS(parsed.doc, file), context.stack, file));
  // The YAML text is made on first read: deploys only need the model, and stringifying costs as much as parsing.
  let yaml: string | undefined;
  return {
    model,
    get yaml() {
      yaml ??= modelToYaml(model);
      return yaml;
    },
  };
}

function check(code: string, file: string, problems: Problem[]): void {
  if (problems.length) throw new ValidationError(code, `${file}: the template did not render`, problems);
}

/** `templateLine(n)` maps line n of the parsed text to the template's line. */
function parseYaml(text: string, file: string, templateLine: (line: number) => number | undefined): Parsed {
  const { doc, lineCounter: counter, problems } = parseBounded(text, file, { merge: true, prettyErrors: true, customTags: (tags) => [OCTAL, ...tags] });
  const lineAt = (offset: number): number | undefined => templateLine(counter.linePos(offset).line);
  if (!doc || problems.length) {
    throw new ValidationError('YAML_INVALID', `${file}: the rendered document is not valid YAML`, problems.map((p) => ({ ...p, line: p.line === undefined ? undefined : templateLine(p.line) })));
  }
  if (doc.errors.length) {
    throw new ValidationError('YAML_INVALID', `${file}: the rendered document is not valid YAML`, doc.errors.map((e) => {
      const rendered = e.linePos?.[0].line;
      const line = rendered === undefined ? undefined : templateLine(rendered);
      const where = rendered !== undefined && rendered !== line ? ` (line ${rendered} of the rendered output)` : '';
      return { file, line, message: `${e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '')}${where}` };
    }));
  }
  return { doc, lineAt, lineOf: (path) => locate(doc, path, lineAt) };
}

function toJS(doc: Document, file: string): unknown {
  try {
    return boundedToJS(doc);
  } catch (err) {
    throw new ValidationError('YAML_INVALID', `${file}: the rendered document is not valid YAML`, [{ file, message: (err as Error).message }]);
  }
}

/** Adds the line of each problem's field, found in the YAML document, to a ValidationError from `fn`. */
function withLines<T>(parsed: Parsed, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const problems = err.problems.map((p) => (p.line !== undefined || p.field === undefined ? p : { ...p, line: parsed.lineOf(parsePath(p.field)) }));
    throw new ValidationError(err.code, err.message.split('\n')[0], problems, err.hint);
  }
}

/** The offset of the deepest node on `path` that exists (a key's own position for a mapping entry). */
function locate(doc: Document, path: PathSegment[], lineAt: (offset: number) => number | undefined): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      offset = (node as { range?: [number] }).range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lineAt(offset);
}
