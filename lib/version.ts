import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;
let version: string | undefined;

/**
 * The folder holding Berth's package.json, templates/ and catalog/schema/. Found by walking up, because this
 * module runs both from the sources (lib/) and compiled (dist/lib/).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'templates'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find Berth\'s package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  root = dir;
  return root;
}

/** The running Berth's version, read from package.json so there is one source of truth. */
export function berthVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** Folder of the built-in catalog shipped with Berth (its `templates/` lives at the package root). */
export function builtinCatalogRoot(): string {
  return packageRoot();
}
