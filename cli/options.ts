import { open } from 'node:fs/promises';
import { Option } from 'commander';
import { UserError, ValidationError } from '../lib/errors.ts';
import { formatBytes, limits } from '../lib/limits.ts';
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

/** At most `max` bytes of a file, pipe or device (`--answers /dev/stdin`); undefined when there is more. */
async function readUpTo(file: string, max: number): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      if (bytesRead === 0) return Buffer.concat(chunks).toString('utf8');
      chunks.push(buffer.subarray(0, bytesRead));
      if ((got += bytesRead) > max) return undefined;
    }
  } finally {
    await handle.close();
  }
}

/** Reads an answers file: a YAML mapping of variable → value, within the file and YAML bounds. */
export async function readAnswersFile(path: string): Promise<Record<string, unknown>> {
  const max = limits().fileBytes;
  let text: string | undefined;
  try {
    text = await readUpTo(path, max);
  } catch (err) {
    throw new UserError('ANSWERS_FILE_UNREADABLE', `cannot read answers file ${path}: ${(err as Error).message}`, { hint: 'check the path given to --answers' });
  }
  if (text === undefined) {
    throw new UserError('ANSWERS_FILE_INVALID', `answers file ${path} is larger than the limit of ${formatBytes(max)}`, { hint: 'make it smaller, or raise BERTH_MAX_FILE_BYTES' });
  }
  const { boundedToJS, parseBoundedChecked } = await import('../lib/yaml-bounded.ts');
  const { doc, problems } = parseBoundedChecked(text, path);
  if (!doc) throw new ValidationError('ANSWERS_FILE_INVALID', `answers file ${path} cannot be read:`, problems);
  const value = boundedToJS(doc);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('ANSWERS_FILE_INVALID', `answers file ${path} must be a mapping of variable: value`, { hint: 'for example:\n  http_port: 8080\n  site_title: Demo' });
  }
  return value as Record<string, unknown>;
}
