/**
 * Secret answers (`password`, `secret`) live in the environment repository encrypted with age, and are only
 * ever decrypted in memory.
 *
 * Representation: a YAML local tag on a literal block holding the armored file,
 *
 *     db_password: !age |
 *       -----BEGIN AGE ENCRYPTED FILE-----
 *       ...
 *
 * chosen over a `{ age: "…" }` mapping because it cannot be confused with an answer that is itself a mapping,
 * reads as what it is in a diff, and still degrades gracefully: a parser that doesn't know `!age` keeps the
 * armored string (with a warning), and decryptAnswers also accepts that bare armored string.
 */
import { readFile } from 'node:fs/promises';
// age (and its crypto) loads only when a value is encrypted or decrypted: most runs never need it.
const age = () => import('age-encryption');
import { Scalar, isMap, type Document, type ScalarTag } from 'yaml';
import { stringifyString } from 'yaml/util';
import { formatProblem, UserError } from './errors.ts';
import { mask, registerSecret } from './mask.ts';
import { parseBoundedChecked } from './yaml-bounded.ts';

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

/** An encrypted answer as parsed from YAML; its text is the armored age file. */
export class AgeSecret {
  constructor(readonly armored: string) {}
  toString(): string {
    return this.armored;
  }
  toJSON(): string {
    return this.armored;
  }
}

export const ageTag: ScalarTag = {
  tag: '!age',
  identify: (value) => value instanceof AgeSecret,
  resolve: (text) => new AgeSecret(text),
  // Always a literal block: armor is line-structured and a folded or quoted form would be unreadable in review.
  stringify(item, ctx, onComment, onChompKeep) {
    const node = new Scalar(String(item.value));
    node.type = Scalar.BLOCK_LITERAL;
    // Handing the comment over lets it go on the `|` header line; left outside it would land inside the block.
    node.comment = item.comment;
    return stringifyString(node, ctx, onComment, onChompKeep);
  },
};

/** Pass as `customTags` wherever a stack/answers file is parsed or written. */
export const secretYamlTags: ScalarTag[] = [ageTag];

export function isEncrypted(value: unknown): value is AgeSecret | string {
  return value instanceof AgeSecret || (typeof value === 'string' && value.trimStart().startsWith(ARMOR_BEGIN));
}

export async function generateKey(): Promise<{ identity: string; recipient: string }> {
  const { generateIdentity, identityToRecipient } = await age();
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function encryptValue(plaintext: string, recipients: string[]): Promise<string> {
  if (recipients.length === 0) throw new UserError('SECRET_NO_RECIPIENTS', 'no age recipients to encrypt for', { hint: 'Configure the environment\'s age recipients (age1…).' });
  const { Encrypter, armor } = await age();
  const e = new Encrypter();
  for (const r of recipients) {
    try {
      e.addRecipient(r.trim());
    } catch {
      throw new UserError('SECRET_RECIPIENT_INVALID', `"${r}" is not an age recipient`, { data: { recipient: r }, hint: 'Recipients look like age1… (the public key printed by `berth secret keygen` or age-keygen).' });
    }
  }
  return armor.encode(await e.encrypt(plaintext));
}

export async function decryptValue(armored: string, identities: string[]): Promise<string> {
  const { Decrypter, armor } = await age();
  let file: Uint8Array;
  try {
    file = armor.decode(armored);
  } catch {
    throw new UserError('SECRET_DECRYPT_FAILED', 'the value is not a well-formed age armored file', { hint: 'Re-encrypt it with `berth secret encrypt`.' });
  }
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  try {
    const plain = await d.decrypt(file, 'text');
    // Known to the mask before anything can print it (docs/security.md#secrets).
    registerSecret(plain);
    return plain;
  } catch {
    throw new UserError('SECRET_DECRYPT_FAILED', 'none of the configured age identities can decrypt the value', {
      hint: 'Set BERTH_AGE_KEY or BERTH_AGE_KEY_FILE (or --key-file) to the key the value was encrypted for.',
    });
  }
}

/**
 * Identities from, in order, `keyFile` (--key-file), BERTH_AGE_KEY_FILE and BERTH_AGE_KEY. All are used: an
 * extra key costs nothing, a missing one fails decryption. Files are age-keygen format (`#` comments).
 */
export async function loadIdentities(opts: { keyFile?: string; env?: Record<string, string | undefined> } = {}): Promise<string[]> {
  const env = opts.env ?? process.env;
  const found: string[] = [];
  for (const [label, file] of [['--key-file', opts.keyFile], ['BERTH_AGE_KEY_FILE', env.BERTH_AGE_KEY_FILE]] as const) {
    if (!file) continue;
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UserError('SECRET_KEY_FILE_UNREADABLE', `cannot read the age key file ${file} (${label}): ${err.code ?? err.message}`, { data: { file } });
    });
    found.push(...(await parseIdentities(text, `${file} (${label})`)));
  }
  if (env.BERTH_AGE_KEY) found.push(...(await parseIdentities(env.BERTH_AGE_KEY, 'BERTH_AGE_KEY')));
  return [...new Set(found)];
}

async function parseIdentities(text: string, source: string): Promise<string[]> {
  const out: string[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // The line itself is a private key: it must never appear in the error.
    const { identityToRecipient } = await age();
    const valid = /^AGE-SECRET-KEY-/.test(line) && (await identityToRecipient(line).then(() => true, () => false));
    if (!valid) throw new UserError('SECRET_KEY_INVALID', `${source}: line ${n + 1} is not an age identity (AGE-SECRET-KEY-1…)`, { data: { source, line: n + 1 } });
    out.push(line);
  }
  return out;
}

/** Decrypts every encrypted answer (at any depth) in memory; `secrets` lists the plaintexts for masking. */
export async function decryptAnswers(answers: Record<string, unknown>, identities: string[]): Promise<{ values: Record<string, unknown>; secrets: string[] }> {
  const secrets = new Set<string>();
  const walk = async (value: unknown, path: string): Promise<unknown> => {
    if (isEncrypted(value)) {
      if (identities.length === 0) {
        throw new UserError('SECRET_KEY_MISSING', `answer ${path} is encrypted but no age key is configured`, { data: { variable: path }, hint: 'Set BERTH_AGE_KEY or BERTH_AGE_KEY_FILE, or pass --key-file.' });
      }
      try {
        const plain = await decryptValue(String(value), identities);
        if (plain !== '') secrets.add(plain);
        return plain;
      } catch (err) {
        const e = err as UserError;
        throw new UserError('SECRET_DECRYPT_FAILED', `answer ${path}: ${e.message}`, { data: { variable: path }, hint: e.hint });
      }
    }
    if (Array.isArray(value)) return Promise.all(value.map((v, i) => walk(v, `${path}[${i}]`)));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await walk(v, `${path}.${k}`);
      return out;
    }
    return value;
  };
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(answers)) values[k] = await walk(v, k);
  return { values, secrets: [...secrets] };
}

const STACK_FILE_HINT = '`berth plan` lists every problem of the environment with its line.';

/**
 * A stack file as a YAML document whose encrypted answers are AgeSecret values, read within the YAML bounds (a
 * stack file comes from a repository anyone with push access writes); STACK_FILE_INVALID naming file and line.
 */
export function parseStackFile(text: string, file: string): Document {
  const { doc, problems } = parseBoundedChecked(text, file, { customTags: secretYamlTags });
  if (!doc) throw new UserError('STACK_FILE_INVALID', formatProblem(problems[0]!), { data: { file, problems }, hint: STACK_FILE_HINT });
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new UserError('STACK_FILE_INVALID', `${file} must be a map with template:, version: and answers:`, { data: { file }, hint: STACK_FILE_HINT });
  }
  return doc;
}

/**
 * Sets `answers.<variable>` in a stack file to the encrypted value, editing the YAML document in place so
 * comments, order and formatting elsewhere survive (this backs `berth secret encrypt`).
 */
export async function encryptAnswerInFile(stackFileText: string, variable: string, plaintext: string, recipients: string[], file = 'the stack file'): Promise<string> {
  const doc = parseStackFile(stackFileText, file);
  const answers = doc.get('answers', true);
  if (answers !== undefined && answers !== null && !isMap(answers)) throw new UserError('STACK_FILE_INVALID', '`answers` must be a mapping');
  const node = new Scalar(new AgeSecret(await encryptValue(plaintext, recipients)));
  node.tag = ageTag.tag;
  const old = doc.getIn(['answers', variable], true);
  if (old instanceof Scalar) {
    // A comment on the old value documents the variable; keep it with the new one.
    node.comment = old.comment;
    node.commentBefore = old.commentBefore;
    node.spaceBefore = old.spaceBefore;
  }
  if (answers === undefined || answers === null) doc.set('answers', doc.createNode({ [variable]: node }));
  else doc.setIn(['answers', variable], node);
  // Unpadded `[a, b]` is how people (and most tools) write flow sequences in compose-style files.
  return doc.toString({ flowCollectionPadding: false });
}

/** The environment repository's file listing the age recipients answers are encrypted for, one a line. */
export const RECIPIENTS_FILE = '.berth-recipients';

/** One recipient a line; `#` starts a comment. */
export function parseRecipients(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
}

/**
 * Replaces every occurrence of every non-empty secret — these and every one Berth has registered — with
 * `******`, in each form lib/mask.ts knows (JSON-escaped, `$$`-escaped, each line of a multi-line secret).
 * Even one-character secrets are masked: over-masking a log is cheaper than a leak.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return mask(text, secrets);
}
