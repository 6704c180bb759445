/** What the importer tells a person about each template version it converted. */
import type { Document } from 'yaml';
import { boundedToJS, parseBoundedChecked } from '../../lib/yaml-bounded.ts';

/** `approximated`: converted to the nearest equivalent, meaning differs; `decision`: left for a person to settle;
 * `note`: Rancher-only metadata with no meaning on Berth, dropped. */
export type FindingKind = 'approximated' | 'decision' | 'note';

export interface Finding {
  kind: FindingKind;
  /** The Rancher feature, e.g. `health_check`, `io.rancher.sidekicks`, `question type certificate`. */
  feature: string;
  message: string;
  file?: string;
  line?: number;
  service?: string;
}

export type VersionOutcome = 'converted' | 'approximated' | 'skipped';

export interface VersionReport {
  template: string;
  /** The Rancher folder name. */
  folder: string;
  version: string;
  outcome: VersionOutcome;
  /** Why it was skipped. */
  reason?: string;
  findings: Finding[];
}

export interface ImportReport {
  source: string;
  dest: string;
  totals: { templates: number; versions: number; converted: number; approximated: number; skipped: number };
  templates: { name: string; source: string; latest?: string; versions: VersionReport[]; findings: Finding[] }[];
}

/** Collects findings for one file of one version. */
export class Findings {
  readonly list: Finding[] = [];
  constructor(private readonly file?: string) {}
  add(kind: FindingKind, feature: string, message: string, where: { line?: number; service?: string; file?: string } = {}): void {
    const f: Finding = { kind, feature, message };
    const file = where.file ?? this.file;
    if (file) f.file = file;
    if (where.line) f.line = where.line;
    if (where.service) f.service = where.service;
    if (!this.list.some((o) => o.feature === f.feature && o.message === f.message && o.service === f.service)) this.list.push(f);
  }
}

/** A version the importer cannot convert: the reason goes into the report and the version is skipped. */
export class ImportError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(message);
  }
}

/**
 * A Rancher catalog file as a document, read within Berth's YAML bounds (a catalog is someone else's repository);
 * its first problem — a bound, a syntax error — is an ImportError naming the file and line, after `context`.
 * Duplicate keys pass, as Rancher let them.
 */
export function catalogYamlDocument(text: string, file: string, context = ''): Document {
  const { doc, problems } = parseBoundedChecked(text, file, { uniqueKeys: false });
  if (doc) return doc;
  const why = problems[0].message.replace(/^is not valid YAML: /, '').replace(/; fix the syntax at this line$/, '');
  throw new ImportError(`${context}${why}`, file, problems[0].line);
}

export function parseCatalogYaml(text: string, file: string): unknown {
  return boundedToJS(catalogYamlDocument(text, file));
}
