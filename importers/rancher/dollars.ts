/**
 * Compose's `$VAR` interpolation as Rancher applied it after templating. In a Handlebars template each
 * reference becomes an expression; in a plain compose file it stays, except that a name that is not a question
 * gets an empty default (Rancher rendered it empty; Berth would refuse an unknown name).
 */
import { literal } from './gotemplate-hbs.ts';
import type { Findings } from './report-types.ts';

export type Segment = { text: string } | { hbs: string };

const REF = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export interface DollarContext {
  questions: ReadonlySet<string>;
  findings: Findings;
  /** Prefix for names at the template's root, e.g. `@root.` inside a Handlebars each block. */
  root?: string;
}

/** Splits text into literal text and Handlebars expressions for its `$` references. */
export function dollarsToHbs(text: string, ctx: DollarContext): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(REF)) {
    out.push({ text: text.slice(last, m.index) });
    last = m.index! + m[0].length;
    if (m[0] === '$$') {
      out.push({ text: '$' });
      continue;
    }
    const name = m[1] ?? m[4];
    const [op, word] = [m[2], m[3] ?? ''];
    const known = ctx.questions.has(name);
    const v = `${ctx.root ?? ''}${name}`;
    if (!known) unknown(name, ctx, op);
    if (op === ':-' || op === '-') out.push(known ? { hbs: `{{default ${v} ${literal(word)}}}` } : { text: word });
    else if (op === ':+' || op === '+') out.push(known ? { hbs: `{{#if ${v}}}${word}{{/if}}` } : { text: '' });
    else out.push(known ? { hbs: `{{${v}}}` } : { text: '' });
  }
  out.push({ text: text.slice(last) });
  return out.filter((s) => !('text' in s) || s.text !== '');
}

function unknown(name: string, ctx: DollarContext, op?: string): void {
  const how = op === ':-' || op === '-' ? 'takes its default' : 'renders as empty';
  ctx.findings.add('approximated', 'variable', `\${${name}} is not a question of this version; it ${how}, as in Rancher`);
}

/** For a plain compose file: unknown names get an empty default so Berth renders them empty, as Rancher did. */
export function dollarsForInterpolation(text: string, ctx: DollarContext): string {
  return text.replace(REF, (all, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    if (all === '$$') return all;
    const name = braced ?? bare!;
    if (ctx.questions.has(name)) return all;
    unknown(name, ctx, op);
    if (op === ':-' || op === '-' || op === ':+' || op === '+') return all;
    return `\${${name}:-}`;
  });
}

export function segmentsToHbs(segments: Segment[]): string {
  return segments.map((s) => ('text' in s ? s.text : s.hbs)).join('');
}
