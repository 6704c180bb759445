/**
 * YAML parsing with bounded time and memory, for every document Berth reads from a catalog, an environment,
 * the ledger or a person. What is bounded is what an attacker can make expensive:
 *  - nesting, checked on the text before the parser (whose cost grows faster than linearly with depth) sees it;
 *  - the size of the document once aliases are expanded — not the number of aliases, so `<<: *defaults` used by
 *    fifty services passes while a billion-laughs file is refused;
 *  - duplicate keys, found with one set per map (the parser's own check is quadratic in the number of keys).
 * A `__proto__` key is refused in every document (see keyProblems).
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Scalar, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';
import type { Problem } from './errors.ts';
import { formatBytes, limits, type Limits } from './limits.ts';

export type BoundedOptions = ParseOptions & DocumentOptions & SchemaOptions & { limits?: Partial<Limits> };

export interface BoundedDocument {
  doc?: Document;
  lineCounter: LineCounter;
  /** Problems that stop the document from being used; each names `file` (and a line when one is known). */
  problems: Problem[];
}

/**
 * The line where flow brackets or indentation first nest deeper than `max`, found in one pass over the text.
 * Quoted text is skipped; a quote only opens at the start of a scalar, and closes at the end of its line at the
 * latest, so an apostrophe in plain text (`don't`) cannot hide what follows.
 */
function nestingTooDeep(text: string, max: number): number | undefined {
  let [depth, line, indent, quote, lineStart, prev] = [0, 1, 0, '', true, '\n'];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      [line, lineStart, indent, quote, prev] = [line + 1, true, 0, '', c];
      continue;
    }
    if (lineStart && (c === ' ' || c === '-')) {
      // Block nesting shows as indentation (and "- " per sequence level); a level is at least one column.
      if (++indent > max * 4) return line;
      prev = c;
      continue;
    }
    lineStart = false;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && /[\s:,[{-]/.test(prev)) quote = c;
    else if (c === '#' && /\s/.test(prev)) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      if (++depth > max) return line;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
    prev = c;
  }
  return undefined;
}

interface Walk {
  max: Limits;
  sizes: Map<unknown, number>;
  active: Set<unknown>;
  doc: Document;
}

class Exceeded extends Error {
  constructor(readonly reason: string, readonly node: unknown) {
    super(reason);
  }
}

/** Node count of `node` with every alias expanded, memoised per node so the walk is linear in the text. */
function expandedSize(w: Walk, node: unknown, depth: number): number {
  if (depth > w.max.depth) throw new Exceeded(`nests deeper than ${w.max.depth} levels`, node);
  if (node === null || node === undefined || isScalar(node)) return 1;
  const known = w.sizes.get(node);
  if (known !== undefined) return known;
  if (w.active.has(node)) throw new Exceeded('has an alias that refers to itself', node);
  w.active.add(node);
  let size = 1;
  if (isAlias(node)) size = expandedSize(w, node.resolve(w.doc), depth + 1);
  else if (isMap(node) || isSeq(node)) {
    for (const item of node.items as unknown[]) {
      size += isPair(item) ? expandedSize(w, item.key, depth + 1) + expandedSize(w, item.value, depth + 1) : expandedSize(w, item, depth + 1);
      if (size > w.max.yamlNodes) throw new Exceeded(`expands to more than ${w.max.yamlNodes} values once its aliases are resolved (an alias bomb?)`, node);
    }
  }
  w.active.delete(node);
  w.sizes.set(node, size);
  return size;
}

/**
 * Keys Berth refuses: `__proto__` anywhere (assigning it to a JavaScript object sets the object's prototype, so
 * an environment variable, label or answer of that name would vanish or reshape what holds it), and, unless
 * `unique` is false, a key written twice in one map.
 */
function keyProblems(doc: Document, file: string, lineAt: (offset: number) => number, unique: boolean): Problem[] {
  const problems: Problem[] = [];
  const at = (key: Scalar) => (key.range ? { line: lineAt(key.range[0]) } : {});
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (key === '__proto__') {
            problems.push({ file, ...at(pair.key), message: '"__proto__" cannot be a key (JavaScript reads it as an object\'s prototype); rename it' });
          } else if (unique && seen.has(key) && key !== '<<') {
            problems.push({ file, ...at(pair.key), message: `the key "${key.slice(0, 80)}" appears twice in the same map; keep one` });
          }
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return problems;
}

/** Parses `text` as one YAML document within the limits; problems name `file` and the line. */
export function parseBounded(text: string, file: string, opts: BoundedOptions = {}): BoundedDocument {
  const max = { ...limits(), ...opts.limits };
  const lineCounter = new LineCounter();
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  if (Buffer.byteLength(text) > max.fileBytes) {
    return { lineCounter, problems: [{ file, message: `is larger than the limit of ${formatBytes(max.fileBytes)}; make it smaller or raise BERTH_MAX_FILE_BYTES` }] };
  }
  const deep = nestingTooDeep(text, max.depth);
  if (deep !== undefined) return { lineCounter, problems: [{ file, line: deep, message: `nests deeper than ${max.depth} levels; flatten the document` }] };
  const { limits: _ignored, ...yamlOpts } = opts;
  const doc = parseDocument(text, { prettyErrors: false, ...yamlOpts, lineCounter, uniqueKeys: false });
  if (doc.errors.length) return { doc, lineCounter, problems: [] };
  try {
    expandedSize({ max, sizes: new Map(), active: new Set(), doc }, doc.contents, 0);
  } catch (e) {
    if (!(e instanceof Exceeded)) throw e;
    const offset = (e.node as { range?: [number] } | null)?.range?.[0];
    return { lineCounter, problems: [{ file, ...(offset !== undefined ? { line: lineAt(offset) } : {}), message: `${e.reason}; simplify the document` }] };
  }
  return { doc, lineCounter, problems: keyProblems(doc, file, lineAt, opts.uniqueKeys !== false) };
}

/**
 * parseBounded for a document that is usable or wrong: the document, or every problem — a bound, a syntax error,
 * a duplicate key — with its file and line. `doc` is set only when there is no problem.
 */
export function parseBoundedChecked(text: string, file: string, opts: BoundedOptions = {}): BoundedDocument {
  const parsed = parseBounded(text, file, opts);
  const { doc, lineCounter } = parsed;
  if (!doc || parsed.problems.length) return { lineCounter, problems: parsed.problems };
  if (!doc.errors.length) return parsed;
  const problems = doc.errors.map((e) => ({ file, line: lineCounter.linePos(e.pos[0]).line, message: `is not valid YAML: ${e.message.split('\n')[0]}; fix the syntax at this line` }));
  return { lineCounter, problems };
}

/** `doc.toJS()` without the alias count limit: parseBounded already bounded the expanded size. */
export function boundedToJS(doc: Document): unknown {
  return doc.toJS({ maxAliasCount: -1 });
}
