// The stack file the console writes: block YAML, secret answers age-encrypted (and decryptable with the key),
// hidden questions left out, a kept secret byte for byte the same, a person's comment surviving an edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Question } from '../../catalog/types.ts';
import { decryptAnswers, generateKey, secretYamlTags } from '../../lib/secrets.ts';
import { stackFileText } from '../../console/stack-file.ts';

const QUESTIONS: Question[] = [
  { variable: 'title', label: 'Title', type: 'string', required: true },
  { variable: 'tls', label: 'TLS', type: 'boolean', required: false },
  { variable: 'cert', label: 'Certificate', type: 'certificate', required: false, show_if: 'tls' },
  { variable: 'pw', label: 'Password', type: 'password', required: true },
];
const ARMOR = /pw: !age \|[\s\S]*?-----END AGE ENCRYPTED FILE-----/;

test('a new stack file holds the answers, the password encrypted, and no hidden question', async () => {
  const key = await generateKey();
  const text = await stackFileText(undefined, {
    template: 'web', version: '1.0.0', questions: QUESTIONS, values: { title: 'Hi', tls: false, cert: null, pw: 's3cret-value' },
    kept: [], hosts: { role: 'web' }, recipients: [key.recipient],
  }, 'stacks/web.yml');
  assert.match(text, /^template: web\nversion: 1\.0\.0\nanswers:\n {2}title: Hi\n {2}tls: false\n {2}pw: !age \|\n/);
  assert.ok(!text.includes('s3cret-value'));
  assert.ok(!text.includes('cert'));
  assert.match(text, /hosts:\n {2}role: web\n/);
  const answers = parse(text, { customTags: secretYamlTags }).answers as Record<string, unknown>;
  assert.equal((await decryptAnswers(answers, [key.identity])).values.pw, 's3cret-value');
});

test('an edit keeps a secret nobody retyped, the comments, and drops an emptied host selector', async () => {
  const key = await generateKey();
  const first = await stackFileText(undefined, {
    template: 'web', version: '1.0.0', questions: QUESTIONS, values: { title: 'Hi', tls: false, cert: null, pw: 'first-secret' },
    kept: [], hosts: { role: 'web' }, recipients: [key.recipient],
  }, 'stacks/web.yml');
  const edited = await stackFileText(`# owned by the web team\n${first}`, {
    template: 'web', version: '1.1.0', questions: QUESTIONS, values: { title: 'Hello <script>', tls: false, cert: null, pw: 'first-secret' },
    kept: ['pw'], hosts: {}, recipients: [],
  }, 'stacks/web.yml');
  assert.match(edited, /^# owned by the web team\n/);
  assert.match(edited, /version: 1\.1\.0/);
  assert.equal(ARMOR.exec(edited)?.[0], ARMOR.exec(first)?.[0]);
  assert.equal((parse(edited, { customTags: secretYamlTags }).answers as Record<string, unknown>).title, 'Hello <script>');
  assert.ok(!edited.includes('hosts'));
});
