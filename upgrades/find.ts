/**
 * Which version a stack could move to: pure, so the CLI listing, the status line and the merge request all
 * agree. Newer than installed, allowed by the candidate's `upgrade_from`, deployable by this Berth; the
 * template's default version wins when it qualifies (the vendor's recommendation), else the newest.
 */
import semver from 'semver';
import { checkAnswers } from '../catalog/answers.ts';
import { compareVersions } from '../catalog/load.ts';
import { findVersion, isSupported } from '../catalog/resolve.ts';
import { isShown } from '../catalog/show-if.ts';
import { migrateAnswers, migrationSteps, type AppliedMigration } from '../catalog/migrate.ts';
import type { AnswerValue, Question, Template, TemplateVersion } from '../catalog/types.ts';
import { berthVersion } from '../lib/version.ts';

export interface Upgrade {
  stack: string;
  template: string;
  /** The installed version as the stack file writes it. */
  from: string;
  /** The proposed version's user-facing string. */
  to: string;
  version: TemplateVersion;
  /** The installed version, when the catalog still has it. */
  current?: TemplateVersion;
  /** Versions after `from` up to `to`, oldest first: their release notes all apply. */
  between: TemplateVersion[];
  newQuestions: Question[];
  removedQuestions: Question[];
  /** New required questions without a default that are shown given the answers: someone must answer them. */
  needsAnswers: Question[];
  /** Answers the upgrade adds: the defaults of new questions that have one and no answer yet. */
  addedAnswers: Record<string, AnswerValue>;
  /** The `migrations:` of the versions passed, as the edits they make to this stack's answers. */
  migrations: AppliedMigration[];
  /** Questions of the new version Berth generates an answer for (no answer, even after the migrations). */
  generated: Question[];
}

export interface InstalledStack {
  name: string;
  version: string;
  answers: Record<string, unknown>;
}

/** semver ranges are about semver versions; a revision `3` is read as 3.0.0 so `>=2` still means something. */
export function asSemver(version: TemplateVersion | undefined, written: string): string | null {
  return semver.valid(version?.version ?? written) ?? semver.valid(written) ?? semver.coerce(written)?.version ?? null;
}

export function allowsUpgradeFrom(candidate: Pick<TemplateVersion, 'upgrade_from'>, installed: string | null): boolean {
  if (!candidate.upgrade_from) return true;
  return installed !== null && semver.satisfies(installed, candidate.upgrade_from, { includePrerelease: true });
}

/** The version to propose for `stack`, or undefined when none qualifies. */
export function chooseVersion(template: Template, installedVersion: string, running = berthVersion()): TemplateVersion | undefined {
  const current = findVersion(template, installedVersion);
  const here = current ?? { folder: installedVersion, version: installedVersion };
  const installed = asSemver(current, installedVersion);
  const candidates = template.versions.filter((v) => compareVersions(v, here) > 0 && allowsUpgradeFrom(v, installed) && isSupported(v, running));
  const preferred = template.config.version === undefined ? undefined : findVersion(template, template.config.version);
  return candidates.find((v) => v === preferred) ?? candidates.at(-1);
}

function isAnswered(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

export function findUpgrade(template: Template, stack: InstalledStack, running = berthVersion()): Upgrade | undefined {
  const version = chooseVersion(template, stack.version, running);
  return version ? upgradeTo(template, stack, version) : undefined;
}

/**
 * The upgrade of `stack` to `version`, chosen by a person (the console's version select) rather than by
 * chooseVersion: the same migrations, defaults and generated answers an upgrade merge request would make.
 */
export function upgradeTo(template: Template, stack: InstalledStack, version: TemplateVersion): Upgrade {
  const current = findVersion(template, stack.version);
  const between = template.versions.filter((v) => compareVersions(v, current ?? { folder: stack.version, version: stack.version }) > 0 && compareVersions(v, version) <= 0);
  // Everything below reads the answers as the migrations leave them: a renamed answer is no new question to ask.
  const { answers: migrated, applied } = migrateAnswers(template, migrationSteps(template, between), stack.answers, stack.name);
  // Without the installed version's questions, the stack's own answers say what it was asked.
  const before = new Set(current ? current.questions.map((q) => q.variable) : Object.keys(stack.answers));
  const after = new Set(version.questions.map((q) => q.variable));
  const newQuestions = version.questions.filter((q) => !before.has(q.variable));
  const removedQuestions = current ? current.questions.filter((q) => !after.has(q.variable)) : [];
  const addedAnswers: Record<string, AnswerValue> = {};
  for (const q of newQuestions) {
    if (!isAnswered(migrated[q.variable]) && q.default !== undefined && q.default !== null) addedAnswers[q.variable] = q.default;
  }
  const answers = { ...Object.fromEntries(Object.entries(migrated).filter(([k]) => after.has(k))), ...addedAnswers };
  const { values } = checkAnswers(version.questions, answers);
  const generated = version.questions.filter((q) => q.generate && !isAnswered(migrated[q.variable]) && isShown(q, values));
  const needsAnswers = newQuestions.filter((q) => q.required && !q.generate && (q.default === undefined || q.default === null) && !isAnswered(migrated[q.variable]) && isShown(q, values));
  return {
    stack: stack.name,
    template: template.name,
    from: stack.version,
    to: version.version,
    version,
    ...(current ? { current } : {}),
    between,
    newQuestions,
    removedQuestions,
    needsAnswers,
    addedAnswers,
    migrations: applied,
    generated,
  };
}

/** Answers to questions the new version no longer asks that no migration moves or drops: the new version rejects them. */
export function leftoverAnswers(upgrade: Upgrade, answers: Record<string, unknown>): string[] {
  const asked = new Set(upgrade.version.questions.map((q) => q.variable));
  const consumed = new Set(upgrade.migrations.flatMap((m) => (m.edit.kind === 'rename' ? [m.edit.from] : m.edit.kind === 'drop' ? [m.edit.variable] : [])));
  return Object.keys(answers).filter((k) => !asked.has(k) && !consumed.has(k));
}

/** An upgrade must be a draft when merging it as is would fail the deploy. */
export function needsDraft(upgrade: Upgrade, answers: Record<string, unknown>): boolean {
  return upgrade.needsAnswers.length > 0 || leftoverAnswers(upgrade, answers).length > 0;
}
