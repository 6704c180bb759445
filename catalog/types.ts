/** The catalog as a vendor writes it: templates, their versions and the questions each version asks. */
import type { Problem } from '../lib/errors.ts';

export const QUESTION_TYPES = [
  'string', 'int', 'float', 'boolean', 'enum', 'password', 'multiline', 'date', 'secret', 'certificate', 'service', 'hostname',
] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** Types whose values are secrets: masked in logs, ledgers and merge-request texts, encrypted at rest. */
export const SECRET_TYPES: ReadonlySet<QuestionType> = new Set(['password', 'secret']);

export type AnswerValue = string | number | boolean | null;
export type Answers = Record<string, AnswerValue>;

export interface Question {
  variable: string;
  label: string;
  description?: string;
  type: QuestionType;
  required: boolean;
  default?: AnswerValue;
  options?: string[];
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  valid_chars?: string;
  invalid_chars?: string;
  group?: string;
  /** `VAR=VALUE [&& VAR=VALUE]` or a bare `VAR` (truthy boolean). */
  show_if?: string;
}

/** `templates/<name>/config.yml`. */
export interface TemplateConfig {
  name: string;
  description: string;
  category?: string;
  maintainer?: string;
  license?: string;
  projectURL?: string;
  /** The version offered by default: a version's user-facing `version` string or its folder name. */
  version?: string;
  labels?: Record<string, string>;
}

export type ComposeKind = 'handlebars' | 'interpolate';

export interface TemplateVersion {
  /** Folder name: a revision number (`0`, `1`, …) or a semver name. */
  folder: string;
  /** The string users see (`berth.yml` `version`, else the folder name). */
  version: string;
  description?: string;
  /** Semver range of installed versions allowed to upgrade to this one. */
  upgrade_from?: string;
  minimum_berth_version?: string;
  questions: Question[];
  compose: { file: string; kind: ComposeKind; source: string };
  releaseNotes?: string;
}

export interface Template {
  name: string;
  /** Folder relative to the catalog root, e.g. `templates/static-site`. */
  dir: string;
  config: TemplateConfig;
  icon?: string;
  readme?: string;
  /** Sorted oldest to newest. */
  versions: TemplateVersion[];
}

export interface Catalog {
  /** Absolute path of the catalog's root folder. */
  root: string;
  templates: Map<string, Template>;
  /** Problems found while loading, when loaded by loadCatalogForStacks: each fails only its own template. */
  problems?: Problem[];
  /** The templates folder relative to the root (`templates`). */
  templatesDir?: string;
}

/** What a template sees besides the answers. */
export interface RenderContext {
  stack: string;
  template: { name: string; version: string };
  /** Set when rendering an upgrade: the version installed before. */
  previous?: { version: string };
}
