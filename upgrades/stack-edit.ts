/**
 * The stack file as an upgrade leaves it, edited as a YAML document so the operator's comments, order and quoting
 * survive and the merge request's diff shows only what Berth changed: `version:` set, answer migrations made (a
 * renamed answer keeps its comment and, when encrypted, its armor byte for byte), new defaults added, and
 * generated answers written as `!age` blocks.
 */
import { isMap, isScalar, Scalar, type Document, type Pair, type YAMLMap } from 'yaml';
import type { AnswerEdit } from '../catalog/migrate.ts';
import { UserError } from '../lib/errors.ts';
import { AgeSecret, ageTag, parseStackFile } from '../lib/secrets.ts';

export interface StackEdits {
  /** Answer migrations, in order. */
  edits?: AnswerEdit[];
  /** Generated answers by variable: the armored age text, written as `!age |`. */
  encrypted?: Record<string, string>;
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function answersMap(doc: Document): YAMLMap | undefined {
  const node = doc.get('answers', true);
  return isMap(node) ? node : undefined;
}

function applyEdit(doc: Document, e: AnswerEdit): void {
  const answers = answersMap(doc);
  if (e.kind === 'rename') {
    const pair = answers?.items.find((p) => keyOf(p) === e.from);
    // The key node itself is renamed: its comment, and the value node with its tag and comment, stay.
    if (pair && isScalar(pair.key)) pair.key.value = e.to;
    else if (pair) pair.key = doc.createNode(e.to);
    return;
  }
  if (e.kind === 'drop') return void answers?.delete(e.variable);
  const node = answers?.get(e.variable, true);
  if (isScalar(node) && !(node.value instanceof AgeSecret)) {
    node.value = e.value;
    // A quoted "80" becoming the number 80 must not stay quoted (it would be read back as text).
    if (typeof e.value !== 'string') node.type = undefined;
  } else if (answers) answers.set(e.variable, e.value);
  else doc.set('answers', doc.createNode({ [e.variable]: e.value }));
}

function ageNode(armored: string): Scalar {
  const node = new Scalar(new AgeSecret(armored));
  node.tag = ageTag.tag;
  return node;
}

/** `version:` set (a number stays a number when the new version is one), migrations made, defaults and generated answers added. */
export function editStackFile(text: string, to: string, added: Record<string, unknown>, file = 'the stack file', more: StackEdits = {}): string {
  const doc = parseStackFile(text, file);
  if (!isMap(doc.contents)) throw new UserError('STACK_FILE_INVALID', `${file} must be a map with template:, version: and answers:`);
  const node = doc.get('version', true);
  if (isScalar(node)) node.value = typeof node.value === 'number' && /^\d+$/.test(to) ? Number(to) : to;
  else doc.set('version', to);
  for (const e of more.edits ?? []) applyEdit(doc, e);
  const fresh: Record<string, unknown> = { ...added, ...Object.fromEntries(Object.entries(more.encrypted ?? {}).map(([k, v]) => [k, ageNode(v)])) };
  if (Object.keys(fresh).length && !answersMap(doc)) doc.set('answers', doc.createNode(fresh));
  else for (const [k, v] of Object.entries(fresh)) doc.setIn(['answers', k], v);
  // lineWidth 0: re-folding the operator's long strings would show up as changes they never asked for.
  return doc.toString({ lineWidth: 0 });
}
