// `berth catalog lint` on migrations: sources and targets must exist on each side, enum maps must land on real
// options, no step may read or write a secret in clear, and answers valid for the version before (each enum
// option in turn) must stay valid for the version after once migrated. The safe-upgrade fixture is clean.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { lintCatalog } from '../../catalog/lint.ts';
import { writeFiles } from './upgrades-fixtures.ts';
import { SAFE_FILES, writeSafeCatalog } from './safe-upgrade-fixtures.ts';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

async function lintWith(v3: string, more: Record<string, string> = {}): Promise<string[]> {
  const root = writeSafeCatalog();
  roots.push(root);
  writeFiles(root, { 'templates/safe/3.0.0/berth.yml': v3, ...more });
  const { problems } = await lintCatalog(root);
  return problems.map((p) => `${p.line ?? '-'}:${p.field}: ${p.message}`);
}

const V3 = SAFE_FILES['templates/safe/3.0.0/berth.yml'];

describe('lint of migrations', () => {
  it('the safe template\'s three versions are clean', async () => {
    const root = writeSafeCatalog();
    roots.push(root);
    const { problems, checked } = await lintCatalog(root);
    assert.deepEqual(problems, []);
    assert.equal(checked.length, 3);
  });

  it('names the step and its line when a source or target does not exist, or a map leaves the options', async () => {
    const bad = V3.replace('  - map: { variable: edition, values: { community: standard, enterprise: premium } }',
      '  - map: { variable: edition, values: { community: standard, enterprise: gold, free: standard } }\n  - rename: { from: db_user, to: database_owner }\n  - drop: public_host');
    assert.deepEqual(await lintWith(bad), [
      '11:migrations[0]: maps "free", which 2.0.0 does not offer (its options are community, enterprise)',
      '11:migrations[0]: maps to "gold", which this version does not offer (its options are standard, premium)',
      '12:migrations[1]: reads db_user, which 2.0.0 (the version before) does not ask',
      '12:migrations[1]: writes database_owner, which this version does not ask; add the question or fix the name',
      '13:migrations[2]: drops public_host, which this version still asks',
    ]);
  });

  it('refuses steps that would read or write a secret in clear', async () => {
    const bad = V3.replace('  - map: { variable: edition, values: { community: standard, enterprise: premium } }',
      '  - set: { variable: public_host, template: "{{database_password}}" }\n  - set: { variable: database_password, template: "x" }');
    assert.deepEqual(await lintWith(bad), [
      '11:migrations[0]: reads the secret answer database_password: Berth never reads secrets to migrate them',
      '12:migrations[1]: sets database_password, a secret answer: a computed value would be written in clear; generate it or ask for it instead',
    ]);
  });

  it('refuses a step that changes an answer immutable on both sides: that deploy would be refused', async () => {
    const root = writeSafeCatalog();
    roots.push(root);
    writeFiles(root, {
      'templates/safe/2.0.0/berth.yml': SAFE_FILES['templates/safe/2.0.0/berth.yml'].replace('default: app, pattern', 'default: app, immutable: true, pattern'),
      'templates/safe/3.0.0/berth.yml': V3.concat('  - set: { variable: database_user, template: "{{database_user}}_v3" }\n'),
    });
    const { problems } = await lintCatalog(root);
    assert.deepEqual(problems.map((p) => `${p.line}:${p.field}: ${p.message}`), ['12:migrations[1]: changes database_user, which is immutable: the upgraded deploy would be refused; keep the value, or stop marking it immutable']);
  });

  it('answers valid before stay valid after: a forgotten enum value, an answer left behind', async () => {
    const partial = V3.replace('values: { community: standard, enterprise: premium }', 'values: { community: standard }');
    assert.deepEqual(await lintWith(partial), [
      '-:migrations: answers valid for 2.0.0 with edition: "enterprise" are not valid for 3.0.0 after its migrations: edition: must be one of "standard", "premium", got "enterprise"',
    ]);
    const leftBehind = partial.replace('values: { community: standard }', 'values: { community: standard, enterprise: premium }')
      .replace(/ {2}- \{ variable: public_host.*\n/, '');
    const compose = SAFE_FILES['templates/safe/3.0.0/docker-compose.yml.hbs'].replace('      PUBLIC_HOST: {{public_host}}\n', '');
    assert.deepEqual(await lintWith(leftBehind, { 'templates/safe/3.0.0/docker-compose.yml.hbs': compose }), [
      '-:migrations: answers valid for 2.0.0 are not valid for 3.0.0 after its migrations: public_host: is not a question of this version; remove it (the questions are database_user, database_password, edition, port)',
    ]);
  });
});
