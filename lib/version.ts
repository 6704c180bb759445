import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The running Berth's version, read from package.json so there is one source of truth. */
export function berthVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}

/** Folder of the built-in catalog shipped with Berth (its `templates/` lives at the package root). */
export function builtinCatalogRoot(): string {
  return new URL('..', import.meta.url).pathname.replace(/\/$/, '');
}
