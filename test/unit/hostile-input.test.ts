// Hostile inputs against the parts that check them: secrets masked in every form, linear-time answer checks,
// the listener's token and limits. The attacks on files are in confine.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { MASK, Secret, mask, registerSecret } from '../../lib/mask.ts';
import { checkAnswers } from '../../catalog/answers.ts';
import type { Question } from '../../catalog/types.ts';
import { createServer } from '../../server/server.ts';
import { silentLogger } from '../../lib/log.ts';
import type { ServedController } from '../../server/server.ts';

test('a Secret never prints, logs or serialises its value', () => {
  const s = new Secret('hunter2-VALUE');
  assert.equal(String(s), MASK);
  assert.equal(`${s}`, MASK);
  assert.equal(JSON.stringify({ s }), `{"s":"${MASK}"}`);
  assert.doesNotMatch(inspect({ s }), /hunter2/);
  assert.equal(s.reveal(), 'hunter2-VALUE');
});

test('mask covers the plain, JSON-escaped, $$-escaped and per-line forms', () => {
  registerSecret('pa$word"x');
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----';
  registerSecret(key);
  assert.equal(mask('pw=pa$word"x'), `pw=${MASK}`);
  assert.equal(mask(JSON.stringify({ pw: 'pa$word"x' })), `{"pw":"${MASK}"}`);
  assert.equal(mask('-  PW: pa$$word"x'), `-  PW: ${MASK}`);
  assert.equal(mask('+ key: b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'), `+ key: ${MASK}`);
  assert.doesNotMatch(mask(JSON.stringify(key)), /b3BlbnNz|AAAAAAABAAAA/);
});

const q = (type: Question['type'], variable = 'v'): Question => ({ variable, label: variable, type, required: false } as Question);

test('an answer that fails a check is described, never shown, when it is a secret', () => {
  registerSecret('s3cr3t-port');
  const { problems } = checkAnswers([q('int', 'port')], { port: 's3cr3t-port' });
  assert.equal(problems.length, 1);
  assert.doesNotMatch(JSON.stringify(problems), /s3cr3t/);
});

test('PEM and float checks are linear: huge hostile answers are refused fast', () => {
  const started = Date.now();
  const pem = '-----BEGIN A-----'.repeat(40_000);
  assert.equal(checkAnswers([q('certificate')], { v: pem }).problems.length, 1);
  assert.equal(checkAnswers([q('float')], { v: `${'1'.repeat(60_000)}x` }).problems.length, 1);
  assert.equal(checkAnswers([q('multiline')], { v: 'x'.repeat(70 * 1024) }).problems[0].message.includes('limit'), true);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

function controller(): ServedController {
  return {
    started: true,
    metrics: { contentType: 'text/plain', text: async () => 'm 1\n', webhook: () => undefined } as unknown as ServedController['metrics'],
    trigger: () => undefined,
    stacks: () => [{ stack: 'a', lastError: 'failed: password hunter3-API was refused' } as never],
    stack: () => undefined,
    environment: () => ({}),
  };
}

test('the listener: /api and /metrics need the token when one is set; replies are masked', async () => {
  registerSecret('hunter3-API');
  const app = await createServer({ controller: controller(), watched: { url: 'x', branch: 'main' } as never, log: silentLogger, apiToken: 'tok-123' });
  try {
    assert.equal((await app.inject({ url: '/api/stacks' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode, 401);
    const ok = await app.inject({ url: '/api/stacks', headers: { authorization: 'Bearer tok-123' } });
    assert.equal(ok.statusCode, 200);
    assert.doesNotMatch(ok.body, /hunter3/);
    assert.match(ok.body, /\*\*\*\*\*\*/);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal(app.server.maxConnections, 256);
    assert.equal(app.server.headersTimeout, 10_000);
  } finally {
    await app.close();
  }
});
