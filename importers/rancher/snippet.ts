/**
 * The YAML the importer adds to a service, as a small tree written out as text: entries derived from a label
 * inside `{{if}}` carry copies of that condition's markers, so they exist exactly when the label did.
 */
import type { Marker } from './skeleton.ts';

export interface Wrap { open: number[]; close: number[] }
export type Y =
  | { kind: 'map'; entries: { key: string; value: Y; wrap?: Wrap }[] }
  | { kind: 'seq'; items: { value: Y; wrap?: Wrap }[] }
  | { kind: 'scalar'; text: string };

export const scalar = (text: string): Y => ({ kind: 'scalar', text });
/** A literal string, quoted so YAML reads it as written. */
export const str = (s: string): Y => scalar(JSON.stringify(s));
export const num = (n: number): Y => scalar(String(n));
export const map = (entries: Record<string, Y | undefined>): Y => ({
  kind: 'map',
  entries: Object.entries(entries).filter((e): e is [string, Y] => e[1] !== undefined).map(([key, value]) => ({ key, value })),
});
export const seq = (items: Y[]): Y => ({ kind: 'seq', items: items.map((value) => ({ value })) });

export function emit(y: Y, nonce: string): string {
  const lines: string[] = [];
  const mark = (indent: string, idx: number[]): void => {
    for (const i of idx) lines.push(`${indent}#${nonce}m${i}`);
  };
  const walk = (node: Y, indent: string): void => {
    if (node.kind === 'map') {
      for (const e of node.entries) {
        if (e.wrap) mark(indent, e.wrap.open);
        const key = /^[A-Za-z0-9_.-]+$/.test(e.key) ? e.key : JSON.stringify(e.key);
        if (e.value.kind === 'scalar') lines.push(`${indent}${key}: ${e.value.text}`);
        else if (isEmpty(e.value)) lines.push(`${indent}${key}: ${e.value.kind === 'map' ? '{}' : '[]'}`);
        else {
          lines.push(`${indent}${key}:`);
          walk(e.value, `${indent}  `);
        }
        if (e.wrap) mark(indent, e.wrap.close);
      }
    } else if (node.kind === 'seq') {
      for (const item of node.items) {
        if (item.wrap) mark(indent, item.wrap.open);
        if (item.value.kind === 'scalar') lines.push(`${indent}- ${item.value.text}`);
        else {
          const sub: string[] = [];
          const saved = lines.length;
          walk(item.value, `${indent}  `);
          sub.push(...lines.splice(saved));
          if (sub.length) sub[0] = `${indent}- ${sub[0].slice(indent.length + 2)}`;
          lines.push(...sub);
        }
        if (item.wrap) mark(indent, item.wrap.close);
      }
    }
  };
  walk(y, '');
  return `${lines.join('\n')}\n`;
}

const isEmpty = (y: Y): boolean => (y.kind === 'map' ? y.entries.length === 0 : y.kind === 'seq' ? y.items.length === 0 : false);

/** Marker stack at an offset of the skeleton: for each open block, the markers seen so far (opener, elses). */
export function blocksAt(text: string, offset: number, nonce: string, markers: Marker[]): number[][] {
  const stack: number[][] = [];
  const re = new RegExp(`^[ \\t]*#${nonce}m(\\d+)[ \\t]*$`, 'gm');
  for (const m of text.matchAll(re)) {
    if (m.index! >= offset) break;
    const i = Number(m[1]);
    const kind = markers[i].kind;
    if (kind === 'open') stack.push([i]);
    else if (kind === 'else') stack.at(-1)?.push(i);
    else stack.pop();
  }
  return stack;
}

/**
 * Markers that reproduce the blocks open at `inner` but not at `outer` (a label inside an `{{if}}` of its
 * service); undefined when one of them is a range or with, which cannot be repeated without repeating content.
 */
export function wrapBetween(text: string, outer: number, inner: number, nonce: string, markers: Marker[]): Wrap | null | undefined {
  const a = blocksAt(text, outer, nonce, markers);
  const b = blocksAt(text, inner, nonce, markers);
  const extra = b.slice(a.length);
  if (extra.length === 0) return null;
  const wrap: Wrap = { open: [], close: [] };
  const copy = (i: number): number => markers.push({ ...markers[i] }) - 1;
  for (const block of extra) {
    if (!markers[block[0]].hbs.startsWith('{{#if')) return undefined;
    wrap.open.push(...block.map(copy));
    wrap.close.unshift(markers.push({ hbs: '{{/if}}', kind: 'close', line: 0 }) - 1);
  }
  return wrap;
}
