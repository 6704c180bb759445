/**
 * `stacks/<name>.yml` as the console writes it: template, version, answers (secret ones age-encrypted) and the
 * host selector. An edit changes the existing document in place, so a person's comments and order survive,
 * and a secret nobody retyped keeps its encrypted value byte for byte.
 */
import { Document, Scalar, YAMLMap, isMap } from 'yaml';
import { SECRET_TYPES, type AnswerValue, type Question } from '../catalog/types.ts';
import { isShown } from '../catalog/show-if.ts';
import { UserError } from '../lib/errors.ts';
import { AgeSecret, ageTag, encryptValue, parseStackFile, secretYamlTags } from '../lib/secrets.ts';

export interface StackFileInput {
  template: string;
  version: string;
  /** Written only when it is not the environment's default catalog. */
  catalog?: string;
  questions: Question[];
  /** Checked values (coerced, defaults filled). Secret values here are plaintext, encrypted on the way out. */
  values: Record<string, AnswerValue>;
  /** Secret variables left blank in an edit: their value in the existing file stays. */
  kept: string[];
  hosts: Record<string, string>;
  /** The Swarm the stack runs on (then no host selector), or undefined for standalone hosts. */
  swarm?: string;
  recipients: string[];
}

export function parseStackDocument(text: string, file: string): Document {
  return parseStackFile(text, file);
}

/** The raw answers of a stack file, encrypted ones as AgeSecret. */
export function answersOf(doc: Document): Record<string, unknown> {
  const a = doc.get('answers', true);
  if (!isMap(a)) return {};
  const out: Record<string, unknown> = {};
  for (const item of a.items) {
    const key = String((item.key as Scalar | undefined)?.value ?? item.key);
    const v = item.value;
    out[key] = v instanceof Scalar ? v.value : (v as { toJSON?: () => unknown } | null)?.toJSON?.() ?? v;
  }
  return out;
}

async function secretNode(plaintext: string, recipients: string[]): Promise<Scalar> {
  const node = new Scalar(new AgeSecret(await encryptValue(plaintext, recipients)));
  node.tag = ageTag.tag;
  return node;
}

export async function stackFileText(existing: string | undefined, input: StackFileInput, file: string): Promise<string> {
  const doc = existing ? parseStackDocument(existing, file) : new Document({}, { customTags: secretYamlTags });
  const old = existing ? answersOf(doc) : {};
  doc.set('template', input.template);
  doc.set('version', input.version);
  if (input.catalog) doc.set('catalog', input.catalog);
  const answers = new YAMLMap();
  for (const q of input.questions) {
    if (!isShown(q, input.values)) continue;
    const value = input.values[q.variable];
    if (SECRET_TYPES.has(q.type) && input.kept.includes(q.variable) && old[q.variable] !== undefined) {
      answers.set(q.variable, doc.getIn(['answers', q.variable], true));
    } else if (SECRET_TYPES.has(q.type) && typeof value === 'string' && value !== '') {
      answers.set(q.variable, await secretNode(value, input.recipients));
    } else if (value !== null && value !== undefined && !SECRET_TYPES.has(q.type)) {
      answers.set(q.variable, value);
    }
  }
  doc.set('answers', answers);
  if (input.swarm !== undefined) doc.set('swarm', input.swarm);
  else if (doc.has('swarm')) doc.delete('swarm');
  if (input.swarm === undefined && Object.keys(input.hosts).length) doc.set('hosts', input.hosts);
  else if (doc.has('hosts')) doc.delete('hosts');
  return doc.toString({ flowCollectionPadding: false });
}
