/**
 * Edits of a parsed compose skeleton that keep its comment markers where they were: a removed entry hands its
 * comments to its neighbour, and entries added to a map go first, before any marker that opens a block.
 */
import { isMap, isScalar, isSeq, parseDocument, Pair, Scalar, YAMLMap, YAMLSeq, type Document, type Node } from 'yaml';

export function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : typeof pair.key === 'string' ? pair.key : undefined;
}

export function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => keyOf(p) === key);
}

export function pairsOf(map: YAMLMap, key: string): Pair[] {
  return map.items.filter((p) => keyOf(p) === key);
}

/** Every comment of a subtree in document order: removing the subtree must not lose a block marker. */
export function commentsOf(n: unknown): string[] {
  const out: string[] = [];
  const own = (x: unknown, key: 'commentBefore' | 'comment'): void => {
    const c = (x as Node | null)?.[key];
    if (typeof c === 'string' && c) out.push(c);
  };
  const walk = (x: unknown): void => {
    if (x instanceof Pair) {
      walk(x.key);
      walk(x.value);
      return;
    }
    own(x, 'commentBefore');
    if (isMap(x) || isSeq(x)) for (const item of x.items) walk(item);
    own(x, 'comment');
  };
  walk(n);
  return out;
}

/** Puts comments where a removed item was: before the item now at index `i`, else at the end of the collection. */
function keepComments(items: unknown[], i: number, holder: YAMLMap | YAMLSeq, comments: string[]): void {
  if (comments.length === 0) return;
  const next = items[i];
  const target = next instanceof Pair ? next.key : next;
  if (isScalar(target) || isMap(target) || isSeq(target)) target.commentBefore = [...comments, target.commentBefore].filter(Boolean).join('\n');
  else holder.comment = [holder.comment, ...comments].filter(Boolean).join('\n');
}

/** Removes an entry; its comments (and any marker inside it) move to the next entry, or to the end of the map. */
export function removePair(map: YAMLMap, pair: Pair): void {
  const i = map.items.indexOf(pair);
  if (i < 0) return;
  const comments = commentsOf(pair);
  map.items.splice(i, 1);
  keepComments(map.items, i, map, comments);
}

/** Keeps the items of a list that pass `keep`, moving the comments of the others to their neighbours. */
export function filterItems(seq: YAMLSeq, keep: (item: unknown) => boolean): void {
  for (let i = seq.items.length - 1; i >= 0; i--) {
    if (keep(seq.items[i])) continue;
    const comments = commentsOf(seq.items[i]);
    seq.items.splice(i, 1);
    keepComments(seq.items, i, seq, comments);
  }
}

/**
 * Adds entries at the start of a map. A comment the map carried in front moves to its old first key, and the
 * snippet's trailing comment (markers closing its last entry) goes between the new entries and the old ones.
 */
export function prependPairs(map: YAMLMap, snippet: { pairs: Pair[]; trailing?: string }): void {
  if (snippet.pairs.length === 0) return;
  const first = map.items[0];
  const before = [snippet.trailing, map.commentBefore].filter(Boolean).join('\n');
  map.commentBefore = undefined;
  if (before && first && isScalar(first.key)) first.key.commentBefore = [before, first.key.commentBefore].filter(Boolean).join('\n');
  else if (before) map.comment = [before, map.comment].filter(Boolean).join('\n');
  map.items.unshift(...snippet.pairs);
}

/** Parses a YAML snippet (a map, possibly with marker comments) into pairs to insert into a document. */
export function snippetPairs(text: string): { pairs: Pair[]; trailing?: string } {
  const snippet = parseDocument(text, { uniqueKeys: false });
  if (snippet.errors.length) throw new Error(`internal: generated YAML does not parse: ${snippet.errors[0].message}\n${text}`);
  const contents = snippet.contents;
  if (!isMap(contents)) return { pairs: [] };
  if (contents.commentBefore && contents.items[0] && isScalar(contents.items[0].key)) {
    contents.items[0].key.commentBefore = [contents.commentBefore, contents.items[0].key.commentBefore].filter(Boolean).join('\n');
  }
  const trailing = [contents.comment, snippet.comment].filter(Boolean).join('\n');
  return { pairs: contents.items as Pair[], ...(trailing ? { trailing } : {}) };
}

/** A scalar's text, or undefined for anything else. */
export function scalarText(n: unknown): string | undefined {
  if (isScalar(n)) return n.value === null ? undefined : String(n.value);
  if (typeof n === 'string' || typeof n === 'number' || typeof n === 'boolean') return String(n);
  return undefined;
}

/** Labels (a map or a KEY=VALUE list) as pairs with the node each came from. */
export function labelEntries(v: unknown): { key: string; value: string; node: Node }[] {
  const out: { key: string; value: string; node: Node }[] = [];
  if (isMap(v)) {
    for (const p of v.items) {
      const key = keyOf(p);
      if (key !== undefined) out.push({ key, value: scalarText(p.value) ?? '', node: p.key as Node });
    }
  } else if (isSeq(v)) {
    for (const item of v.items) {
      const s = scalarText(item);
      if (s === undefined) continue;
      const eq = s.indexOf('=');
      out.push({ key: eq < 0 ? s : s.slice(0, eq), value: eq < 0 ? '' : s.slice(eq + 1), node: item as Node });
    }
  }
  return out;
}

/** The strings of a list (or one string), e.g. ports or volumes. */
export function stringItems(v: unknown): string[] {
  if (isSeq(v)) return v.items.map(scalarText).filter((s): s is string => s !== undefined);
  const s = scalarText(v);
  return s === undefined ? [] : [s];
}

export function newMap(doc: Document): YAMLMap {
  return doc.createNode({}) as YAMLMap;
}

export { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq };
