/** From a reference and answers to a rendered stack: resolve the version, check the answers, render. */
import { UserError } from '../lib/errors.ts';
import { berthVersion } from '../lib/version.ts';
import { checkAnswersOrThrow, secretVariables } from './answers.ts';
import { registerSecret } from '../lib/mask.ts';
import { renderVersion, type RenderResult } from './render.ts';
import { isSupported, resolveTemplate } from './resolve.ts';
import type { Answers, Catalog, RenderContext, Template, TemplateVersion } from './types.ts';

/** Compose project names: Docker lowercases and rejects anything else, so refuse them before they reach it. */
export const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface RenderStackOptions {
  ref: string;
  answers: Record<string, unknown>;
  stack: string;
  /** The version installed before, when rendering an upgrade. */
  previousVersion?: string;
}

export function checkStackName(stack: string): void {
  if (STACK_NAME.test(stack)) return;
  throw new UserError('STACK_NAME_INVALID', `"${stack}" is not a valid stack name`, {
    data: { stack },
    hint: 'Use lowercase letters, digits, "_" and "-", starting with a letter or digit (it becomes the compose project name).',
  });
}

export function renderStack(catalog: Catalog, opts: RenderStackOptions): RenderResult & { template: Template; version: TemplateVersion; values: Answers } {
  checkStackName(opts.stack);
  const { template, version } = resolveTemplate(catalog, opts.ref);
  if (!isSupported(version)) {
    throw new UserError('VERSION_UNSUPPORTED', `${template.name}@${version.version} needs Berth ${version.minimum_berth_version} or newer; this is Berth ${berthVersion()}`, {
      data: { template: template.name, version: version.version, minimum_berth_version: version.minimum_berth_version, berth: berthVersion() },
      hint: 'Upgrade Berth, or pick an older version of the template with NAME@VERSION.',
    });
  }
  // Plain-text answers to password/secret questions are secrets too: known to the mask before the template runs.
  for (const v of secretVariables(version.questions)) if (typeof opts.answers[v] === 'string') registerSecret(opts.answers[v] as string);
  const values = checkAnswersOrThrow(version.questions, opts.answers, `${template.name}@${version.version}`);
  const context: RenderContext = {
    stack: opts.stack,
    template: { name: template.name, version: version.version },
    ...(opts.previousVersion !== undefined ? { previous: { version: opts.previousVersion } } : {}),
  };
  const result = renderVersion({ template, version, catalogRoot: catalog.root, values, context });
  // Not a spread: that would read the lazy `yaml` at once.
  return { model: result.model, get yaml() { return result.yaml; }, template, version, values };
}
