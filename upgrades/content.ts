/**
 * The content of one proposal: the stack file as the upgrade branch holds it, and the merge request's text. The
 * stack file is edited as a YAML document, so the operator's comments, order and quoting survive and the diff
 * shows only what Berth changed; the description renders both versions with the stack's answers and masks every
 * secret answer.
 */
import { renderStack } from '../catalog/stack.ts';
import { isPlainMap } from '../catalog/yaml-file.ts';
import { SECRET_TYPES, type Catalog, type Question } from '../catalog/types.ts';
import { UserError } from '../lib/errors.ts';
import { decryptAnswers, encryptValue, isEncrypted, parseStackFile, RECIPIENTS_FILE } from '../lib/secrets.ts';
import { boundedToJS } from '../lib/yaml-bounded.ts';
import { generateValue } from '../catalog/generate.ts';
import { applyEdits } from '../catalog/migrate.ts';
import { editStackFile } from './stack-edit.ts';
import { unifiedDiff } from './diff.ts';
import { leftoverAnswers, type Upgrade } from './find.ts';
import { upgradeDescription, upgradeTitle, type DescriptionInput } from './text.ts';

export interface StackAtHead {
  name: string;
  file: string;
  template: string;
  version: string;
  catalog?: string;
  /** As written; encrypted answers are AgeSecret values. */
  answers: Record<string, unknown>;
}

function invalid(file: string, message: string): UserError {
  return new UserError('STACK_FILE_INVALID', `${file} ${message}`, { data: { file }, hint: '`berth plan` lists every problem of the environment with its line.' });
}

/** Just what a proposal needs; loadEnvironment is where a stack file is checked in full. */
export function parseStackText(name: string, file: string, text: string): StackAtHead {
  const data = boundedToJS(parseStackFile(text, file));
  if (!isPlainMap(data)) throw invalid(file, 'must be a map with template:, version: and answers:');
  const { template, version, catalog, answers } = data;
  if (typeof template !== 'string' || !template) throw invalid(file, 'has no template:');
  if (typeof version !== 'string' && !Number.isInteger(version)) throw invalid(file, 'has no version:');
  if (catalog !== undefined && catalog !== null && typeof catalog !== 'string') throw invalid(file, 'has a catalog: that is not text');
  if (answers !== undefined && answers !== null && !isPlainMap(answers)) throw invalid(file, 'has answers: that are not a map');
  return { name, file, template, version: String(version), ...(typeof catalog === 'string' ? { catalog } : {}), answers: isPlainMap(answers) ? answers : {} };
}

export { editStackFile } from './stack-edit.ts';

export interface ProposalContent {
  title: string;
  description: string;
  draft: boolean;
  /** The stack file as the upgrade branch holds it. */
  stackText: string;
}

export interface ContentInput {
  catalog: Catalog;
  upgrade: Upgrade;
  /** `stacks/web.yml` and its text at the target head. */
  file: string;
  text: string;
  /** The answers as the stack file holds them (encrypted ones still armored). */
  answers: Record<string, unknown>;
  /** age identities, to render stacks with encrypted answers; without them those render as unknown. */
  identities?: string[];
  /** The environment's age recipients (.berth-recipients at the target head), to encrypt generated answers for. */
  recipients?: string[];
  /** The stack file on Berth's branch from an earlier run: a generated answer there is kept, never made again. */
  previous?: string;
}

/** The clear answers to render with, and every value that must never reach the merge request. */
async function clearAnswers(answers: Record<string, unknown>, identities: string[] | undefined) {
  const encrypted = Object.values(answers).some((v) => isEncrypted(v));
  const armored = Object.values(answers).filter((v) => isEncrypted(v)).map(String);
  if (!encrypted || !identities?.length) return { values: answers, secrets: armored };
  const { values, secrets } = await decryptAnswers(answers, identities);
  return { values, secrets: [...secrets, ...armored] };
}

function secretValuesOf(questions: Question[], values: Record<string, unknown>): string[] {
  return questions.filter((q) => SECRET_TYPES.has(q.type)).map((q) => values[q.variable]).filter((v) => v !== undefined && v !== null && v !== '').map(String);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function composeDiff(input: ContentInput, oldValues: Record<string, unknown>, newValues: Record<string, unknown>): DescriptionInput['composeDiff'] {
  const { catalog, upgrade: u } = input;
  let before: string;
  try {
    before = renderStack(catalog, { ref: `${u.template}@${u.from}`, answers: oldValues, stack: u.stack }).yaml;
  } catch (err) {
    return { error: `${u.template} ${u.from} (installed) does not render with the stack's answers: ${errorText(err)}` };
  }
  if (u.needsAnswers.length) return { error: `${u.to} needs answers to ${u.needsAnswers.map((q) => q.variable).join(', ')} first` };
  try {
    const after = renderStack(catalog, { ref: `${u.template}@${u.to}`, answers: newValues, stack: u.stack, previousVersion: u.from }).yaml;
    return unifiedDiff(before, after, { fromLabel: `${u.stack} (${u.template} ${u.from})`, toLabel: `${u.stack} (${u.template} ${u.to})` });
  } catch (err) {
    return { error: `${u.template} ${u.to} does not render with the stack's answers: ${errorText(err)}` };
  }
}

/**
 * The armored value of each answer the upgrade generates: the one an earlier run of this proposal wrote, else a
 * new one encrypted for the environment's recipients. The plaintext of a new value is never kept: the merge
 * request renders with a stand-in (masked in the text, so the text is the same whichever value it saw).
 */
async function generatedAnswers(input: ContentInput): Promise<{ armored: Record<string, string>; standIns: Record<string, string> }> {
  const u = input.upgrade;
  const armored: Record<string, string> = {};
  const standIns: Record<string, string> = {};
  if (!u.generated.length) return { armored, standIns };
  const earlier = input.previous === undefined ? {} : parseStackText(u.stack, input.file, input.previous).answers;
  for (const q of u.generated) {
    standIns[q.variable] = generateValue(q, `stack ${u.stack}`);
    const kept = earlier[q.variable];
    if (isEncrypted(kept)) {
      armored[q.variable] = String(kept);
      continue;
    }
    if (!input.recipients?.length) {
      throw new UserError('SECRET_NO_RECIPIENTS', `${u.template} ${u.to} generates the answer ${q.variable} of stack ${u.stack}, and the environment has no ${RECIPIENTS_FILE} to encrypt it for`, {
        data: { stack: u.stack, variable: q.variable },
        hint: `Commit ${RECIPIENTS_FILE} (one age recipient a line; \`berth secret keygen\` prints one) to the environment repository, or answer ${q.variable} in ${input.file} yourself (berth secret encrypt).`,
      });
    }
    armored[q.variable] = await encryptValue(generateValue(q, `stack ${u.stack}`), input.recipients);
  }
  return { armored, standIns };
}

export async function proposalContent(input: ContentInput): Promise<ProposalContent> {
  const u = input.upgrade;
  const leftover = leftoverAnswers(u, input.answers);
  const clear = await clearAnswers(input.answers, input.identities);
  const edits = u.migrations.map((m) => m.edit);
  const migrated = applyEdits(clear.values, edits);
  const generated = await generatedAnswers(input);
  const newValues = { ...Object.fromEntries(Object.entries(migrated).filter(([k]) => !leftover.includes(k))), ...u.addedAnswers, ...generated.standIns };
  const secretValues = [
    ...clear.secrets,
    ...secretValuesOf(u.current?.questions ?? [], clear.values),
    ...secretValuesOf(u.version.questions, newValues),
    ...Object.values(generated.armored),
  ];
  const description = upgradeDescription({ upgrade: u, stackFile: input.file, leftover, composeDiff: composeDiff(input, clear.values, newValues), secretValues });
  return {
    title: upgradeTitle(u),
    description,
    draft: u.needsAnswers.length > 0 || leftover.length > 0,
    stackText: editStackFile(input.text, u.to, u.addedAnswers, input.file, { edits, encrypted: generated.armored }),
  };
}
