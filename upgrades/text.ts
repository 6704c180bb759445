/**
 * What an upgrade merge request says. The body ends with two hidden comments: which upgrade it proposes (so an
 * MR found later can be matched to the catalog again) and a fingerprint of everything above it (so an unchanged
 * proposal is never rewritten, which would notify every subscriber for nothing).
 */
import { createHash } from 'node:crypto';
import type { AnswerValue, Question } from '../catalog/types.ts';
import { SECRET_TYPES } from '../catalog/types.ts';
import { maskSecrets } from '../lib/secrets.ts';
import type { Upgrade } from './find.ts';

/** GitHub refuses bodies over 65,536 characters; the diff gives way first. */
const MAX_DIFF_CHARS = 40_000;
const MARKER = /<!-- berth:upgrade (\{.*?\}) -->/;
const FINGERPRINT = /<!-- berth:fingerprint=([0-9a-f]{64}) -->/g;

export interface UpgradeMarker {
  stack: string;
  template: string;
  from: string;
  to: string;
}

export interface DescriptionInput {
  upgrade: Upgrade;
  /** `stacks/web.yml`. */
  stackFile: string;
  /** Answers in the stack file that the new version does not ask. */
  leftover: string[];
  /** Unified diff of the rendered compose, '' when equal, or why it could not be rendered. */
  composeDiff: string | { error: string };
  /** Clear values of secret answers (old and new): masked wherever they appear. */
  secretValues: string[];
}

export function upgradeTitle(u: Pick<Upgrade, 'stack' | 'template' | 'from' | 'to'>): string {
  return `Upgrade ${u.stack}: ${u.template} ${u.from} → ${u.to}`;
}

export function fingerprintOf(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** The last fingerprint in a description (a person may have quoted an older one above it). */
export function readFingerprint(description: string | null | undefined): string | undefined {
  return [...(description ?? '').matchAll(FINGERPRINT)].at(-1)?.[1];
}

export function readMarker(description: string | null | undefined): UpgradeMarker | undefined {
  const m = MARKER.exec(description ?? '');
  if (!m) return undefined;
  try {
    const v = JSON.parse(m[1]) as Record<string, unknown>;
    const ok = ['stack', 'template', 'from', 'to'].every((k) => typeof v[k] === 'string');
    return ok ? (v as unknown as UpgradeMarker) : undefined;
  } catch {
    return undefined;
  }
}

function code(text: string): string {
  const ticks = '`'.repeat(Math.max(...[...text.matchAll(/`+/g)].map((m) => m[0].length), 0) + 1);
  return ticks.length > 1 ? `${ticks} ${text} ${ticks}` : `\`${text}\``;
}

function fenced(text: string, lang: string): string {
  const fence = '`'.repeat(Math.max(3, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length + 1)));
  return `${fence}${lang}\n${text.endsWith('\n') ? text : `${text}\n`}${fence}`;
}

function describeQuestion(q: Question): string {
  return `${code(q.variable)} (${q.label}, ${q.type})`;
}

function shownValue(q: Question, v: AnswerValue): string {
  return SECRET_TYPES.has(q.type) ? '`******`' : code(JSON.stringify(v));
}

function draftSection(input: DescriptionInput): string[] {
  const { upgrade: u, stackFile, leftover } = input;
  if (u.needsAnswers.length === 0 && leftover.length === 0) return [];
  const lines = ['> [!WARNING]', `> **This is a draft: merging it as it is would fail the deploy.** Before merging, edit ${code(stackFile)} on this branch:`];
  if (u.needsAnswers.length) lines.push('> - add answers to these new required questions, which have no default:');
  for (const q of u.needsAnswers) lines.push(`>   - ${describeQuestion(q)}${q.description ? `: ${q.description}` : ''}`);
  if (leftover.length) lines.push(`> - remove these answers, which ${u.to} no longer asks (Berth rejects answers to questions a version does not ask): ${leftover.map(code).join(', ')}`);
  return [...lines, ''];
}

function releaseNotes(u: Upgrade): string[] {
  const lines = ['### Release notes', ''];
  for (const v of [...u.between].reverse()) {
    lines.push(`#### ${u.template} ${v.version}`, '', v.releaseNotes?.trim() || '_No release notes for this version._', '');
  }
  return lines;
}

function questions(input: DescriptionInput): string[] {
  const { upgrade: u, stackFile } = input;
  const lines = ['### Questions', ''];
  if (!u.newQuestions.length && !u.removedQuestions.length) return [...lines, '_No questions were added or removed._', ''];
  if (u.newQuestions.length) lines.push('**Added**', '');
  for (const q of u.newQuestions) {
    const added = Object.hasOwn(u.addedAnswers, q.variable);
    const how = added ? `answered with its default ${shownValue(q, u.addedAnswers[q.variable])}` : u.needsAnswers.includes(q) ? '**required, no default: add an answer**' : 'left unanswered';
    lines.push(`- ${describeQuestion(q)}: ${how}`);
  }
  if (u.newQuestions.length) lines.push('');
  if (u.removedQuestions.length) lines.push('**Removed**', '');
  for (const q of u.removedQuestions) lines.push(`- ${describeQuestion(q)}${input.leftover.includes(q.variable) ? `: its answer is still in ${code(stackFile)}` : ''}`);
  return u.removedQuestions.length ? [...lines, ''] : lines;
}

function composeSection(diff: DescriptionInput['composeDiff']): string[] {
  const lines = ['### Rendered compose', ''];
  if (typeof diff !== 'string') return [...lines, `_Not rendered: ${diff.error.split('\n').join(' ')}_`, ''];
  if (diff === '') return [...lines, '_The rendered compose file does not change._', ''];
  const cut = diff.length > MAX_DIFF_CHARS ? `${diff.slice(0, diff.lastIndexOf('\n', MAX_DIFF_CHARS) + 1)}… (truncated: render both versions with \`berth render\` to see all)\n` : diff;
  return [...lines, fenced(cut, 'diff'), ''];
}

/** Everything above the fingerprint; masked, so no secret answer reaches the forge whatever the template does with it. */
export function upgradeBody(input: DescriptionInput): string {
  const u = input.upgrade;
  const intro = `Berth proposes upgrading stack ${code(u.stack)} from **${u.template} ${u.from}** to **${u.template} ${u.to}** (${code(input.stackFile)}).`;
  const text = [intro, '', ...draftSection(input), ...releaseNotes(u), ...questions(input), ...composeSection(input.composeDiff)].join('\n');
  const marker: UpgradeMarker = { stack: u.stack, template: u.template, from: u.from, to: u.to };
  return `${maskSecrets(text, input.secretValues).trimEnd()}\n\n<!-- berth:upgrade ${JSON.stringify(marker)} -->\n`;
}

export function withFingerprint(body: string): string {
  return `${body}<!-- berth:fingerprint=${fingerprintOf(body)} -->\n`;
}

export function upgradeDescription(input: DescriptionInput): string {
  return withFingerprint(upgradeBody(input));
}

export function closeComment(reason: string): string {
  return `Berth closed this merge request: ${reason}.`;
}
