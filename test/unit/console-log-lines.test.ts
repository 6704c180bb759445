// Followed logs are masked a whole line at a time: a secret the container wrote in pieces is still masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBuffer } from '../../console/routes/live.ts';
import { maskSecrets } from '../../lib/secrets.ts';

const SECRET = 'hunter2-is-the-password';

test('a secret split across two writes is masked, lines come out whole and in order', () => {
  const out: string[] = [];
  const lines = new LineBuffer((t) => out.push(maskSecrets(t, [SECRET])));
  lines.push('starting\npassword is hunter2-');
  lines.push('is-the-password\nready\npartial');
  assert.deepEqual(out, ['starting\n', 'password is ******\nready\n']);
  lines.flush();
  assert.deepEqual(out.at(-1), 'partial');
  assert.ok(!out.join('').includes(SECRET));
});

test('a line that never ends is let through once it is long', () => {
  const out: string[] = [];
  const lines = new LineBuffer((t) => out.push(t), 10);
  lines.push('0123456789abc');
  assert.deepEqual(out, ['0123456789abc']);
});
