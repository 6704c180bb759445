// What an upgrade merge request says and holds: title, draft notice, release notes, questions, the rendered
// compose diff with every secret masked, the fingerprint that keeps an unchanged MR untouched, and the stack
// file edited without losing the operator's comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { findUpgrade } from '../../upgrades/find.ts';
import { editStackFile, parseStackText, proposalContent } from '../../upgrades/content.ts';
import { fingerprintOf, readFingerprint, readMarker, upgradeBody, upgradeTitle, withFingerprint } from '../../upgrades/text.ts';
import { unifiedDiff } from '../../upgrades/diff.ts';
import { encryptAnswerInFile, generateKey } from '../../lib/secrets.ts';
import { API_STACK, SECRET, WEB_STACK, writeCatalog } from './upgrades-fixtures.ts';

const catalog = await loadCatalogOrThrow(writeCatalog());

async function content(stackText: string, name: string) {
  const stack = parseStackText(name, `stacks/${name}.yml`, stackText);
  const upgrade = findUpgrade(catalog.templates.get(stack.template)!, stack, '0.1.0')!;
  return { upgrade, ...(await proposalContent({ catalog, upgrade, file: stack.file, text: stackText, answers: stack.answers })) };
}

test('title names the stack, the template and both versions', () => {
  assert.equal(upgradeTitle({ stack: 'shop', template: 'web', from: '1.0.0', to: '1.1.0' }), 'Upgrade shop: web 1.0.0 → 1.1.0');
});

test('description: release notes, questions added and removed, and the rendered compose diff', async () => {
  const c = await content(WEB_STACK, 'shop');
  assert.equal(c.title, 'Upgrade shop: web 1.0.0 → 1.1.0');
  assert.match(c.description, /The web image 2, and a colour\./);
  assert.match(c.description, /`colour` \(Colour, enum\): answered with its default `"blue"`/);
  assert.match(c.description, /\*\*Removed\*\*\n\n- `old_opt` \(Old option, string\): its answer is still in `stacks\/shop\.yml`/);
  assert.match(c.description, /```diff\n--- shop \(web 1\.0\.0\)\n\+\+\+ shop \(web 1\.1\.0\)\n/);
  assert.match(c.description, /^-    image: berth-test\/web:1$/m);
  assert.match(c.description, /^\+    image: berth-test\/web:2$/m);
});

test('secrets never reach the description: masked by value in the diff, by variable in the answers', async () => {
  const c = await content(WEB_STACK.replace('old_opt: keep-me\n', ''), 'shop');
  assert.ok(!c.description.includes(SECRET), 'the clear password is absent');
  assert.ok(!c.description.includes(JSON.stringify(SECRET).slice(1, -1)));
  assert.match(c.description, /\*{6}/, 'its place is marked');
  assert.ok(c.stackText.includes(SECRET), 'the stack file itself keeps it (it was there already)');
});

test('encrypted answers: decrypted in memory to render the diff, masked in it, kept encrypted in the stack file', async () => {
  const key = await generateKey();
  const text = await encryptAnswerInFile(WEB_STACK.replace('  old_opt: keep-me\n', ''), 'db_password', SECRET, [key.recipient]);
  const stack = parseStackText('shop', 'stacks/shop.yml', text);
  const upgrade = findUpgrade(catalog.templates.get('web')!, stack, '0.1.0')!;
  const withKey = await proposalContent({ catalog, upgrade, file: stack.file, text, answers: stack.answers, identities: [key.identity] });
  assert.match(withKey.description, /^ {7}DB_PASSWORD: \*{6}$/m, 'rendered with the clear value, which is masked');
  assert.ok(!withKey.description.includes(SECRET));
  assert.match(withKey.stackText, /db_password: !age \|\n\s+-----BEGIN AGE ENCRYPTED FILE-----/, 'still encrypted on the branch');
  assert.ok(!withKey.stackText.includes(SECRET));
  const withoutKey = await proposalContent({ catalog, upgrade, file: stack.file, text, answers: stack.answers });
  assert.match(withoutKey.description, /_Not rendered: web 1\.0\.0 \(installed\) does not render/);
});

test('leftover answers to removed questions make a draft that says what to remove', async () => {
  const c = await content(WEB_STACK, 'shop');
  assert.equal(c.draft, true);
  assert.match(c.description, /remove these answers, which 1\.1\.0 no longer asks[^\n]*`old_opt`/);
  const clean = await content(WEB_STACK.replace('  old_opt: keep-me\n', ''), 'shop');
  assert.equal(clean.draft, false);
  assert.doesNotMatch(clean.description, /This is a draft/);
});

test('a new required question without a default makes a draft naming the answer to add', async () => {
  const c = await content(API_STACK, 'orders');
  assert.equal(c.draft, true);
  assert.deepEqual(c.upgrade.needsAnswers.map((q) => q.variable), ['admin_email']);
  assert.match(c.description, /This is a draft[^\n]*edit `stacks\/orders\.yml`/);
  assert.match(c.description, /- `admin_email` \(Admin e-mail, string\): Where alerts go\./);
  assert.match(c.description, /_Not rendered: 2\.0\.0 needs answers to admin_email first_/);
  assert.doesNotMatch(c.stackText, /admin_email/, 'no answer is invented');
});

test('fingerprint: the sha256 of the body, read back from the last marker; deterministic', async () => {
  const a = await content(WEB_STACK, 'shop');
  const b = await content(WEB_STACK, 'shop');
  assert.equal(a.description, b.description);
  const fp = readFingerprint(a.description)!;
  const body = a.description.slice(0, a.description.indexOf('<!-- berth:fingerprint='));
  assert.equal(fp, fingerprintOf(body));
  assert.match(fp, /^[0-9a-f]{64}$/);
  const changed = await content(WEB_STACK.replace('title: Shop', 'title: Shop 2'), 'shop');
  assert.notEqual(readFingerprint(changed.description), fp);
  assert.equal(readFingerprint(`quoted <!-- berth:fingerprint=${'0'.repeat(64)} -->\n${a.description}`), fp);
  assert.deepEqual(readMarker(a.description), { stack: 'shop', template: 'web', from: '1.0.0', to: '1.1.0' });
  assert.equal(readFingerprint('no marker'), undefined);
});

test('a huge diff is cut so the body stays within GitHub’s limit', () => {
  const big = unifiedDiff('', Array.from({ length: 1900 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n'));
  const u = findUpgrade(catalog.templates.get('web')!, { name: 's', version: '1.0.0', answers: {} }, '0.1.0')!;
  const body = upgradeBody({ upgrade: u, stackFile: 'stacks/s.yml', leftover: [], composeDiff: big, secretValues: [] });
  assert.ok(withFingerprint(body).length < 65_536);
  assert.match(body, /truncated/);
});

test('the stack file keeps its comments; version set, number stays number, defaults appended', () => {
  const out = editStackFile(WEB_STACK, '1.1.0', { colour: 'blue', port: 8080 });
  assert.match(out, /^# The shop's web front\.$/m);
  assert.match(out, /^version: 1\.1\.0 # pinned$/m);
  assert.match(out, /^ {2}colour: blue\n {2}port: 8080\n$/m);
  assert.match(out, /old_opt: keep-me/, 'removed questions keep their answers');
  assert.equal(editStackFile('template: t\nversion: 2\n', '10', {}), 'template: t\nversion: 10\n');
  assert.equal(editStackFile('template: t\nversion: 2\n', '1.10', { a: 1 }), 'template: t\nversion: "1.10"\nanswers:\n  a: 1\n');
});

test('unified diff: hunks with three lines of context, as diff -u prints them', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
  const b = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n';
  assert.equal(unifiedDiff(a, b, { fromLabel: 'x', toLabel: 'y' }), '--- x\n+++ y\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n');
  assert.equal(unifiedDiff(a, a), '');
  assert.equal(unifiedDiff('', 'x\n', { fromLabel: 'x', toLabel: 'y' }), '--- x\n+++ y\n@@ -0,0 +1 @@\n+x\n');
});
