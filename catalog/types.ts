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
  /** A regular expression (RE2 syntax, checked in linear time) the whole answer must match. */
  pattern?: string;
  /** What to tell a person whose answer does not match `pattern`. */
  pattern_message?: string;
  /** Once deployed, a change of this answer is refused at plan time unless the stack file says `force_change`. */
  immutable?: boolean;
  /** password/secret questions: Berth makes the answer (once) when a stack has none. */
  generate?: GenerateSpec;
}

/** Character sets a generated answer may be drawn from (catalog/generate.ts). */
export const GENERATE_CHARSETS = ['alnum', 'alpha', 'lower', 'upper', 'digits', 'hex', 'base64url'] as const;
export type GenerateCharset = (typeof GENERATE_CHARSETS)[number];

/** `generate: uuid`, or `length` characters drawn uniformly from `charset`. */
export type GenerateSpec = { kind: 'uuid' } | { kind: 'chars'; charset: GenerateCharset; length: number };

/**
 * One step of a version's `migrations:`: how an answer given to the version before becomes one to this version.
 * `line` is where it is written in berth.yml, for lint.
 */
export type Migration =
  | { op: 'rename'; from: string; to: string; line?: number }
  | { op: 'map'; variable: string; values: Record<string, string>; line?: number }
  | { op: 'set'; variable: string; template: string; line?: number }
  | { op: 'drop'; variable: string; line?: number };

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
  /** How answers given to the previous version become answers to this one, in order. */
  migrations?: Migration[];
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
