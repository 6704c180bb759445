/**
 * Puts the values of a Handlebars render into the parsed YAML document, scalar by scalar, so no value is ever
 * read as YAML. A plain scalar that is exactly one placeholder takes the value with its type (a number stays a
 * number, an answer "123" to a string question stays the string "123"); anywhere else — quoted, block, inside
 * a longer scalar, a key — the placeholder is replaced by the value's text. Placeholders in comments vanish
 * with the comment.
 */
import { isMap, isScalar, isSeq, Scalar, type Document, type Node } from 'yaml';
import type { Problem } from '../lib/errors.ts';
import { Quoted } from './helpers.ts';
import type { HandlebarsOutput } from './handlebars.ts';

const STR_TAG = 'tag:yaml.org,2002:str';

/** `lineAt(offset)` gives the template line of a rendered offset. */
export function fillPlaceholders(doc: Document, out: HandlebarsOutput, file: string, lineAt: (offset: number) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const textOf = (i: number): string => {
    const v = out.values[i];
    return v === null || v === undefined ? '' : String(v);
  };

  function fillScalar(node: Scalar, isKey: boolean): void {
    const source = typeof node.value === 'string' ? node.value : undefined;
    if (source === undefined || !new RegExp(out.token.source).test(source)) return;
    const whole = new RegExp(`^${out.token.source}$`).exec(source);
    if (node.tag && node.tag !== STR_TAG) {
      const first = Number(new RegExp(out.token.source).exec(source)?.[1]);
      problems.push({ file, line: out.valueLines[first] ?? lineAt(node.range?.[0] ?? 0), message: `a value from an answer cannot carry the tag ${node.tag}` });
      return;
    }
    if (whole && node.type === Scalar.PLAIN && !isKey && !node.tag) {
      node.value = typed(out.values[Number(whole[1])]);
      return;
    }
    node.value = source.replace(out.token, (_m, i: string) => textOf(Number(i)));
    // Quoted, so a key that became `<<` is never taken for a merge key.
    node.type = Scalar.QUOTE_DOUBLE;
  }

  function walk(node: unknown): void {
    if (isScalar(node)) fillScalar(node, false);
    else if (isSeq(node)) node.items.forEach(walk);
    else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          fillScalar(pair.key, true);
          const key = String(pair.key.value);
          if (seen.has(key)) problems.push({ file, line: lineAt(pair.key.range?.[0] ?? 0), field: key, message: `key "${key}" appears twice once the answers are filled in` });
          seen.add(key);
        } else walk(pair.key);
        walk(pair.value);
      }
    }
  }

  walk(doc.contents as Node | null);
  return problems;
}

function typed(v: unknown): unknown {
  if (v instanceof Quoted) return v.text;
  return v === undefined ? null : v;
}
