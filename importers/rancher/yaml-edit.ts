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

/** Removes an entry; its leading comment moves to the next entry, or to the end of the map. */
export function removePair(map: YAMLMap, pair: Pair): void {
  const i = map.items.indexOf(pair);
  if (i < 0) return;
  const comments = [commentBefore(pair.key), (pair.value as Node | null)?.comment, isScalar(pair.key) ? pair.key.comment : undefined].filter(Boolean) as string[];
  map.items.splice(i, 1);
  if (comments.length === 0) return;
  const next = map.items[i];
  if (next && isScalar(next.key)) next.key.commentBefore = [...comments, next.key.commentBefore].filter(Boolean).join('\n');
  else map.comment = [map.comment, ...comments].filter(Boolean).join('\n');
}

function commentBefore(n: unknown): string | undefined {
  return isScalar(n) || isMap(n) || isSeq(n) ? (n as Node).commentBefore ?? undefined : undefined;
}

/** Adds entries at the start of a map, after nothing: a comment the map carried in front moves to its old first key. */
export function prependPairs(map: YAMLMap, pairs: Pair[]): void {
  if (pairs.length === 0) return;
  const first = map.items[0];
  if (map.commentBefore && first && isScalar(first.key)) {
    first.key.commentBefore = [map.commentBefore, first.key.commentBefore].filter(Boolean).join('\n');
    map.commentBefore = undefined;
  }
  map.items.unshift(...pairs);
}

/** Parses a YAML snippet (a map, possibly with marker comments) into pairs to insert into `doc`. */
export function snippetPairs(text: string): Pair[] {
  const snippet = parseDocument(text, { uniqueKeys: false });
  if (snippet.errors.length) throw new Error(`internal: generated YAML does not parse: ${snippet.errors[0].message}\n${text}`);
  const contents = snippet.contents;
  if (!isMap(contents)) return [];
  if (contents.commentBefore && contents.items[0] && isScalar(contents.items[0].key)) {
    contents.items[0].key.commentBefore = [contents.commentBefore, contents.items[0].key.commentBefore].filter(Boolean).join('\n');
  }
  if (snippet.comment) contents.comment = [contents.comment, snippet.comment].filter(Boolean).join('\n');
  return contents.items as Pair[];
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
