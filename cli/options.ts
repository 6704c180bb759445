import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { UserError, ValidationError } from '../lib/errors.ts';
import { builtinCatalogRoot } from '../lib/version.ts';

/** `--env DIR`, the same for every command: $BERTH_ENV, else the current folder. */
export function envOption(what = 'environment folder'): Option {
  return new Option('--env <dir>', what).env('BERTH_ENV').default('.');
}

/** `--catalog DIR`, else $BERTH_CATALOG, else the catalog built into Berth. */
export function catalogDir(opt: string | undefined): string {
  return opt ?? process.env.BERTH_CATALOG ?? builtinCatalogRoot();
}

/** Collects repeated `--set KEY=VALUE` flags; values stay strings and are coerced by the question's type. */
export function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new UserError('SET_INVALID', `--set ${JSON.stringify(value)} is not KEY=VALUE`, { hint: 'write it as --set http_port=8080' });
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Reads an answers file: a YAML mapping of variable → value. */
export async function readAnswersFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError('ANSWERS_FILE_UNREADABLE', `cannot read answers file ${path}: ${(err as Error).message}`, { hint: 'check the path given to --answers' });
  }
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ValidationError('ANSWERS_FILE_INVALID', `answers file ${path} is not valid YAML:`,
      doc.errors.map((e) => ({ file: path, line: e.linePos?.[0]?.line, message: e.message.split('\n')[0] })));
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('ANSWERS_FILE_INVALID', `answers file ${path} must be a mapping of variable: value`, { hint: 'for example:\n  http_port: 8080\n  site_title: Demo' });
  }
  return value as Record<string, unknown>;
}
