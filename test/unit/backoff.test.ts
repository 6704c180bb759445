// Per-stack backoff of failed reconciles: doubling per failure in a row, held only for the revision that failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StackBackoff } from '../../controller/backoff.ts';

test('a failing stack waits longer after each failure; a success clears it', () => {
  let now = 0;
  const b = new StackBackoff({ baseMs: 1_000, maxMs: 8_000, random: () => 1, now: () => now });
  assert.equal(b.holds('shop', 'r1'), false);
  assert.deepEqual(b.failed('shop', 'r1'), { failures: 1, retryAt: new Date(1_000).toISOString() });
  assert.equal(b.holds('shop', 'r1'), true);
  now = 1_000;
  assert.equal(b.holds('shop', 'r1'), false, 'retried once the wait is over');
  assert.equal(b.failed('shop', 'r1').retryAt, new Date(3_000).toISOString());
  now = 3_000;
  assert.equal(b.failed('shop', 'r1').retryAt, new Date(7_000).toISOString());
  now = 7_000;
  assert.equal(b.failed('shop', 'r1').retryAt, new Date(15_000).toISOString(), 'capped at maxMs');
  assert.equal(b.state('shop')!.failures, 4);
  b.succeeded('shop');
  assert.equal(b.state('shop'), undefined);
  assert.equal(b.holds('shop', 'r1'), false);
});

test('a new revision is tried at once; other stacks are not held', () => {
  const b = new StackBackoff({ baseMs: 60_000, now: () => 0 });
  b.failed('shop', 'r1');
  assert.equal(b.holds('shop', 'r1'), true);
  assert.equal(b.holds('shop', 'r2'), false, 'a new commit is a fix to try now');
  assert.equal(b.holds('blog', 'r1'), false);
});
