#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`, which `npm ci` runs) when it is at least as new as
// every source file; otherwise the TypeScript sources through tsx, so an edited checkout never runs stale code.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SOURCES = ['cli', 'catalog', 'controller', 'engines', 'environment', 'ledger', 'server', 'console', 'lib', 'webhooks', 'upgrades', 'bundle', 'importers'];

function builtAt() {
  try {
    return statSync(path.join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return 0;
  }
}

function newestSource() {
  let newest = 0;
  for (const dir of SOURCES) {
    let names;
    try {
      names = readdirSync(path.join(root, dir), { recursive: true });
    } catch {
      continue;
    }
    for (const name of names) {
      if (!String(name).endsWith('.ts')) continue;
      newest = Math.max(newest, statSync(path.join(root, dir, String(name))).mtimeMs);
    }
  }
  return newest;
}

const built = process.env.BERTH_FROM_SOURCE ? 0 : builtAt();
let main;
if (built > 0 && built >= newestSource()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
