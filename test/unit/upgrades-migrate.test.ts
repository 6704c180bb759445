// Answer migrations and generated answers in upgrade proposals: `migrations:` parsed with located problems, applied
// as plain edits (rename, map, set with a template, drop), written into the stack file as YAML edits that keep
// comments (golden), listed in the merge request; a generated password is encrypted for the recipients, kept
// across runs, and never in clear in the description or the stack file.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { parseMigrations } from '../../catalog/migrations.ts';
import { applyEdits, migrateAnswers, migrationSteps } from '../../catalog/migrate.ts';
import { parseYamlFile } from '../../catalog/yaml-file.ts';
import { decryptValue, generateKey, isEncrypted } from '../../lib/secrets.ts';
import { findUpgrade, leftoverAnswers } from '../../upgrades/find.ts';
import { editStackFile, parseStackText, proposalContent } from '../../upgrades/content.ts';
import { safeStack, writeSafeCatalog } from './safe-upgrade-fixtures.ts';

const root = writeSafeCatalog();
after(() => rmSync(root, { recursive: true, force: true }));
const catalog = await loadCatalogOrThrow(root);
const template = catalog.templates.get('safe')!;
const STACK = safeStack(18999);

function migrations(text: string) {
  const { yaml, problems } = parseYamlFile(text, 'templates/x/2/berth.yml');
  assert.deepEqual(problems, []);
  return parseMigrations(yaml!, (yaml!.data as { migrations: unknown }).migrations);
}

describe('migrations: in berth.yml', () => {
  it('reads the four steps, a drop list as one step each, each with its line', () => {
    const { migrations: m, problems } = migrations('migrations:\n  - rename: { from: a, to: b }\n  - map: { variable: e, values: { x: y, 1: 2 } }\n  - set: { variable: u, template: "{{h}}:{{p}}" }\n  - drop: [c, d]\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(m, [
      { op: 'rename', from: 'a', to: 'b', line: 2 },
      { op: 'map', variable: 'e', values: { x: 'y', 1: '2' }, line: 3 },
      { op: 'set', variable: 'u', template: '{{h}}:{{p}}', line: 4 },
      { op: 'drop', variable: 'c', line: 5 },
      { op: 'drop', variable: 'd', line: 5 },
    ]);
  });

  it('says what is wrong with a step, at its line', () => {
    const { problems } = migrations('migrations:\n  - renam: { from: a, to: b }\n  - { rename: { from: a }, drop: b }\n  - rename: { from: a, to: a }\n  - map: { variable: e, values: {} }\n  - set: { variable: "not a name", template: x }\n  - drop: [1]\n');
    assert.deepEqual(problems.map((p) => `${p.line}:${p.field}: ${p.message}`), [
      '2:migrations[0].renam: is not a known key; did you mean "rename"?',
      '3:migrations[1]: must be one step: a map with one of rename, map, set, drop, e.g. "- rename: { from: old_name, to: new_name }"',
      '4:migrations[2].rename.to: renames a variable to itself',
      '5:migrations[3].map.values: must map old values to new ones, e.g. { variable: edition, values: { community: standard } }',
      '6:migrations[4].set.variable: "not a name" is not a variable name',
      '7:migrations[5].drop: item 1 is the number 1, not a variable name',
    ]);
  });
});

describe('migrateAnswers', () => {
  const v2 = template.versions[1];
  const v3 = template.versions[2];
  const answers = parseStackText('orders', 'stacks/orders.yml', STACK).answers;

  it('1.0.0 → 3.0.0: renamed, joined by a template, dropped, enum values mapped; every edit said', () => {
    const { answers: out, applied } = migrateAnswers(template, migrationSteps(template, [v2, v3]), answers, 'orders');
    assert.deepEqual(out, { database_user: 'orders', edition: 'premium', port: 18999, public_host: 'orders.example.com' });
    assert.deepEqual(applied.map((m) => [m.version, m.edit]), [
      ['2.0.0', { kind: 'rename', from: 'db_user', to: 'database_user' }],
      ['2.0.0', { kind: 'set', variable: 'public_host', value: 'orders.example.com' }],
      ['2.0.0', { kind: 'drop', variable: 'address' }],
      ['2.0.0', { kind: 'drop', variable: 'legacy_mode' }],
      ['3.0.0', { kind: 'set', variable: 'edition', value: 'premium' }],
    ]);
  });

  it('a rename onto an answered variable drops the old answer; steps without an answer do nothing', () => {
    const { answers: out, applied } = migrateAnswers(template, migrationSteps(template, [v2]), { db_user: 'a', database_user: 'b', port: 1 }, 's');
    assert.deepEqual(out, { database_user: 'b', port: 1, public_host: 'localhost' }, 'the template sees the previous version\'s default address');
    assert.equal(applied[0].superseded, true);
  });

  it('an encrypted answer is moved by a rename as it is, and counts as secret', () => {
    const armored = '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n';
    const { answers: out, applied } = migrateAnswers(template, migrationSteps(template, [v2]), { db_user: armored }, 's');
    assert.equal(out.database_user, armored);
    assert.equal(applied[0].secret, true);
    assert.deepEqual(applyEdits({ db_user: 'x', keep: 1 }, applied.map((m) => m.edit)), { database_user: 'x', keep: 1, public_host: 'localhost' });
  });
});

describe('upgrade proposals with migrations and generated answers', async () => {
  const { identity, recipient } = await generateKey();
  const stack = parseStackText('orders', 'stacks/orders.yml', STACK);
  const upgrade = findUpgrade(template, stack, '0.1.0')!;

  it('findUpgrade reads the answers as migrated: nothing is left over, the password is generated, not asked', () => {
    assert.equal(upgrade.to, '3.0.0');
    assert.deepEqual(upgrade.generated.map((q) => q.variable), ['database_password']);
    assert.deepEqual(upgrade.needsAnswers, []);
    assert.deepEqual(leftoverAnswers(upgrade, stack.answers), []);
    assert.deepEqual(upgrade.addedAnswers, {}, 'public_host comes from the migration, not its default');
  });

  it('the stack file: comments kept, answers migrated, the password an !age block for the recipients (golden)', async () => {
    const content = await proposalContent({ catalog, upgrade, file: stack.file, text: STACK, answers: stack.answers, recipients: [recipient] });
    const armored = /database_password: !age \|\n((?: {4}.*\n)+)/.exec(content.stackText)![1].replace(/^ {4}/gm, '');
    assert.equal(content.stackText.replace(/database_password: !age \|\n(?: {4}.*\n)+/, 'database_password: !age |\n    <armored>\n'), [
      '# The orders database.',
      'template: safe',
      'version: 3.0.0 # pinned',
      'answers:',
      '  database_user: orders # owner of the schema',
      '  edition: premium',
      '  port: 18999',
      '  public_host: orders.example.com',
      '  database_password: !age |',
      '    <armored>',
      '',
    ].join('\n'));
    const password = await decryptValue(armored, [identity]);
    assert.match(password, /^[A-Za-z0-9]{24}$/);
    assert.ok(!content.description.includes(password) && !content.stackText.includes(password), 'the password is in clear nowhere');
    assert.equal(content.draft, false);
    assert.match(content.description, /- `database_password` \(Database password, password\): generated by Berth: 24 random characters \(alnum\), encrypted for the environment's age recipients \(never shown\)/);
    assert.match(content.description, /### Answer migrations\n\nThe stack file's answers were changed as safe's migrations ask:\n\n- `db_user` renamed to `database_user` \(2\.0\.0\)\n- `public_host`: set to `"orders\.example\.com"`, computed with `\{\{lookup \(split address ":"\) 0\}\}` \(2\.0\.0\)\n- `address` removed \(was `"orders\.example\.com:8443"`\) \(2\.0\.0\)\n- `legacy_mode` removed \(was `"on"`\) \(2\.0\.0\)\n- `edition`: `"enterprise"` → `"premium"` \(3\.0\.0\)\n/);
    assert.match(content.description, /^-\s+DB_PASSWORD: fixed-password-of-v1$/m, 'the diff renders');
    assert.match(content.description, /^\+\s+DB_PASSWORD: \*{6}$/m, 'the password masked in it');
    assert.match(content.description, /- `public_host` \(Public host, string\): answered by a migration \(below\)/);

    // The next run finds its own branch: the same armored value, so the same file and text (nothing to push).
    const again = await proposalContent({ catalog, upgrade, file: stack.file, text: STACK, answers: stack.answers, recipients: [recipient], previous: content.stackText });
    assert.equal(again.stackText, content.stackText);
    assert.equal(again.description, content.description);
  });

  it('without recipients there is nothing to encrypt for: a clear error, no value anywhere', async () => {
    await assert.rejects(proposalContent({ catalog, upgrade, file: stack.file, text: STACK, answers: stack.answers, recipients: [] }),
      (e: Error & { code?: string; hint?: string }) => e.code === 'SECRET_NO_RECIPIENTS' && /generates the answer database_password of stack orders/.test(e.message) && /\.berth-recipients/.test(e.hint ?? ''));
  });

  it('editStackFile moves an encrypted answer byte for byte, with its comment', () => {
    const text = 'template: t\nversion: 1\nanswers:\n  # the owner\n  pw: !age | # rotated\n    -----BEGIN AGE ENCRYPTED FILE-----\n    YWdl\n    -----END AGE ENCRYPTED FILE-----\n  gone: x\n';
    const out = editStackFile(text, '2', {}, 'stacks/s.yml', { edits: [{ kind: 'rename', from: 'pw', to: 'password' }, { kind: 'drop', variable: 'gone' }] });
    assert.equal(out, 'template: t\nversion: 2\nanswers:\n  # the owner\n  password: !age | # rotated\n    -----BEGIN AGE ENCRYPTED FILE-----\n    YWdl\n    -----END AGE ENCRYPTED FILE-----\n');
    assert.ok(isEncrypted(parseStackText('s', 'f', out).answers.password));
  });
});

describe('the built-in acme-platform 1.2.0', () => {
  it('is a safe upgrade from 1.1.0: the cache answer renamed, the Redis password generated and encrypted, the database named', async () => {
    const builtin = await loadCatalogOrThrow('templates');
    const acme = builtin.templates.get('acme-platform')!;
    const text = 'template: acme-platform\nversion: 1.1.0\nanswers:\n  db_password: !age |\n    -----BEGIN AGE ENCRYPTED FILE-----\n    YWdl\n    -----END AGE ENCRYPTED FILE-----\n  db_root_password: root-password-1\n  rabbitmq_password: rabbit-password-1\n  cache_memory_mb: 256 # busy season\n';
    const stack = parseStackText('shop', 'stacks/shop.yml', text);
    const u = findUpgrade(acme, stack, '0.1.0')!;
    assert.equal(u.to, '1.2.0');
    assert.equal(u.needsAnswers.length, 0);
    const { recipient } = await generateKey();
    const content = await proposalContent({ catalog: builtin, upgrade: u, file: stack.file, text, answers: stack.answers, recipients: [recipient] });
    assert.match(content.stackText, /^ {2}cache_size_mb: 256 # busy season$/m);
    assert.match(content.stackText, /^ {2}database_name: acme$/m);
    assert.match(content.stackText, /^ {2}redis_password: !age \|\n {4}-----BEGIN AGE ENCRYPTED FILE-----$/m);
    assert.equal(content.draft, false);
    assert.match(content.description, /- `cache_memory_mb` renamed to `cache_size_mb` \(1\.2\.0\)/);
    assert.match(content.description, /- `database_name` \(Application database, string\): answered with its default `"acme"`; \*\*immutable\*\*: once deployed it cannot change/);
    assert.ok(!content.description.includes('root-password-1'));
  });
});
