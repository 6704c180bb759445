/**
 * Generated answers of stacks already in the environment: a stack installed without an answer to a `generate:`
 * question (a new stack, or a question that turned generated) gets one, made once, encrypted for the recipients
 * in `.berth-recipients`, and written into its stack file as one commit on the deployed branch — so what deploys
 * is still exactly what the repository says, and the value is never made again. `berth serve` runs this after
 * each sync (controller/loop.ts); `berth secret generate` does the same into a work tree for a person to commit.
 * Upgrades write theirs into the upgrade merge request instead (content.ts).
 */
import fs from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';
import { isMap, Scalar } from 'yaml';
import { describeGenerate, generateValue, missingGenerated } from '../catalog/generate.ts';
import { findVersion } from '../catalog/resolve.ts';
import type { Catalog, Question } from '../catalog/types.ts';
import type { Environment } from '../environment/environment.ts';
import type { StackSpec } from '../environment/types.ts';
import { BerthError } from '../lib/errors.ts';
import { commitFiles, pushBranch, syncRepo, type Author } from '../lib/git/index.ts';
import { isUrlSource, type RepoSource } from '../lib/git/source.ts';
import { readConfined } from '../lib/confine.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { AgeSecret, ageTag, encryptValue, parseRecipients, parseStackFile, RECIPIENTS_FILE } from '../lib/secrets.ts';
import { catalogForStack } from './available.ts';
import { DEFAULT_AUTHOR } from './branch.ts';
import { parseStackText } from './content.ts';

/** What a timer run would repeat every tick is said once per situation (a new set of stacks says it again). */
const warned = new Set<string>();
function warnOnce(log: Logger, key: string, fields: Record<string, unknown>, message: string): void {
  if (warned.has(key)) return;
  if (warned.size > 100) warned.clear();
  warned.add(key);
  log.warn(fields, message);
}

export interface Generated {
  stack: string;
  file: string;
  variables: string[];
}

export interface FillOptions {
  source: RepoSource;
  cacheDir: string;
  log?: Logger;
  catalogs?: Map<string, Catalog>;
  author?: Author;
}

/** The generated questions each usable stack has no answer to; a stack whose catalog fails is its deploy's business. */
export async function stacksToGenerate(env: Environment, catalogs: Map<string, Catalog>): Promise<{ spec: StackSpec; questions: Question[] }[]> {
  const out: { spec: StackSpec; questions: Question[] }[] = [];
  for (const spec of env.stacks) {
    if (spec.invalid) continue;
    const template = (await catalogForStack(env, spec, catalogs).catch(() => undefined))?.templates.get(spec.template);
    const version = template && findVersion(template, spec.version);
    const questions = version ? missingGenerated(version.questions, spec.answers) : [];
    if (questions.length) out.push({ spec, questions });
  }
  return out;
}

/** `text` with each of `questions` still unanswered in it given a new value, encrypted; undefined when none is missing. */
export async function withGeneratedAnswers(text: string, file: string, stack: string, questions: Question[], recipients: string[]): Promise<{ text: string; variables: string[] } | undefined> {
  const answers = parseStackText(stack, file, text).answers;
  const missing = questions.filter((q) => answers[q.variable] === undefined || answers[q.variable] === null || answers[q.variable] === '');
  if (!missing.length) return undefined;
  const doc = parseStackFile(text, file);
  for (const q of missing) {
    const node = new Scalar(new AgeSecret(await encryptValue(generateValue(q, `stack ${stack}`), recipients)));
    node.tag = ageTag.tag;
    if (isMap(doc.get('answers', true))) doc.setIn(['answers', q.variable], node);
    else doc.set('answers', doc.createNode({ [q.variable]: node }));
  }
  return { text: doc.toString({ lineWidth: 0 }), variables: missing.map((q) => q.variable) };
}

export function generatedMessage(done: Generated[], questions: Map<string, Question[]>): string {
  const lines = done.flatMap((g) => g.variables.map((v) => {
    const q = questions.get(g.stack)?.find((x) => x.variable === v);
    return `- ${g.stack}: ${v}${q?.generate ? ` (${describeGenerate(q.generate)})` : ''}`;
  }));
  return `Generate answers for ${done.map((g) => g.stack).join(', ')}\n\nBerth made the answers these stacks' templates ask it to generate, once, encrypted for\n${RECIPIENTS_FILE}:\n${lines.join('\n')}\n\n${done.map((g) => `Berth-Generated: ${g.stack} ${g.variables.join(',')}`).join('\n')}\n`;
}

export async function recipientsIn(root: string): Promise<string[]> {
  const text = await readConfined(root, RECIPIENTS_FILE, { rootName: 'environment' }).catch(() => undefined);
  return text === undefined ? [] : parseRecipients(text);
}

/** The stack files with their generated answers added, each read as the branch head has it. */
async function edits(read: (file: string) => Promise<string | undefined>, wanted: { spec: StackSpec; questions: Question[] }[], recipients: string[]) {
  const files: Record<string, string> = {};
  const done: Generated[] = [];
  for (const { spec, questions } of wanted) {
    const text = await read(spec.file);
    const made = text === undefined ? undefined : await withGeneratedAnswers(text, spec.file, spec.name, questions, recipients);
    if (!made) continue;
    files[spec.file] = made.text;
    done.push({ stack: spec.name, file: spec.file, variables: made.variables });
  }
  return { files, done };
}

/**
 * Writes every missing generated answer of `env`'s stacks as one commit on the deployed branch (pushed for a
 * remote; in place for a local work tree, index included, so it stays clean). Returns what was generated, and
 * the commit (null when nothing was missing or it could not be written: the stacks then say why they wait).
 */
export async function fillGeneratedAnswers(env: Environment, opts: FillOptions): Promise<{ commit: string | null; generated: Generated[] }> {
  const log = opts.log ?? silentLogger;
  const wanted = await stacksToGenerate(env, opts.catalogs ?? new Map());
  if (!wanted.length) return { commit: null, generated: [] };
  const recipients = await recipientsIn(env.root);
  if (!recipients.length) {
    warnOnce(log, `recipients:${env.root}:${wanted.map((w) => w.spec.name)}`, { stacks: wanted.map((w) => w.spec.name) }, `stacks ${wanted.map((w) => w.spec.name).join(', ')} need answers Berth generates, and the environment has no ${RECIPIENTS_FILE} to encrypt them for; commit one (berth secret keygen prints a recipient)`);
    return { commit: null, generated: [] };
  }
  const questions = new Map(wanted.map((w) => [w.spec.name, w.questions]));
  const author = opts.author ?? DEFAULT_AUTHOR;
  const source = opts.source;
  try {
    if (isUrlSource(source)) {
      const remote = { url: source.url, branch: source.branch ?? 'main', ...(source.token ? { token: source.token } : {}), ...(source.username ? { username: source.username } : {}) };
      const synced = await syncRepo(remote, { cacheDir: path.join(opts.cacheDir, 'generated'), log });
      const { files, done } = await edits((file) => readFile(path.join(synced.dir, file), 'utf8').catch(() => undefined), wanted, recipients);
      if (!done.length) return { commit: null, generated: [] };
      const commit = await commitFiles(synced.dir, { branch: remote.branch, parent: synced.commit, files, message: generatedMessage(done, questions), author });
      if (commit) await pushBranch(synced.dir, remote);
      log.info({ commit, stacks: done.map((d) => d.stack) }, `generated answers for ${done.map((d) => d.stack).join(', ')}, committed as ${commit?.slice(0, 7)}`);
      return { commit, generated: done };
    }
    return await fillWorkTree(path.resolve(source.path), source.branch, wanted, recipients, questions, author, log);
  } catch (e) {
    // A push that lost a race, an unreachable remote: the next sync tries again with what is there then.
    log.warn({ err: (e as Error).message, code: e instanceof BerthError ? e.code : undefined }, 'could not write generated answers; trying again after the next sync');
    return { commit: null, generated: [] };
  }
}

/** A local repository used in place: a commit on its checked-out branch, the files and index brought along. */
async function fillWorkTree(dir: string, branch: string | undefined, wanted: { spec: StackSpec; questions: Question[] }[], recipients: string[], questions: Map<string, Question[]>, author: Author, log: Logger) {
  const current = await git.currentBranch({ fs, dir }).catch(() => undefined);
  if (!fs.existsSync(path.join(dir, '.git')) || !current || (branch && branch !== current)) {
    warnOnce(log, `worktree:${dir}:${wanted.map((w) => w.spec.name)}`, { dir, stacks: wanted.map((w) => w.spec.name) }, `stacks ${wanted.map((w) => w.spec.name).join(', ')} need generated answers; ${dir} is no work tree on its deployed branch, so run berth secret generate there and commit`);
    return { commit: null, generated: [] };
  }
  const head = await git.resolveRef({ fs, dir, ref: `refs/heads/${current}` });
  // A stack file someone is editing right now is left for the next round: their edit is not Berth's to commit.
  const committed = async (file: string) => {
    const blob = await git.readBlob({ fs, dir, oid: head, filepath: file }).then((b) => Buffer.from(b.blob).toString('utf8'), () => undefined);
    const onDisk = await readFile(path.join(dir, file), 'utf8').catch(() => undefined);
    return blob !== undefined && blob === onDisk ? blob : undefined;
  };
  const { files, done } = await edits(committed, wanted, recipients);
  if (!done.length) return { commit: null, generated: [] };
  const commit = await commitFiles(dir, { branch: current, parent: head, files, message: generatedMessage(done, questions), author });
  for (const [file, text] of Object.entries(files)) {
    await writeFile(path.join(dir, file), text);
    await git.add({ fs, dir, filepath: file });
  }
  log.info({ commit, stacks: done.map((d) => d.stack) }, `generated answers for ${done.map((d) => d.stack).join(', ')}, committed as ${commit?.slice(0, 7)}`);
  return { commit, generated: done };
}
