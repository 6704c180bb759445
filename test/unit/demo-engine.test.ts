// First contact: a demo whose engine does not answer fails once, at once, saying what to run on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineAdvice, requireEngines } from '../../cli/demo-engine.ts';
import { DockerHostDriver } from '../../engines/standalone/driver.ts';
import { UserError } from '../../lib/errors.ts';

const missing = { name: 'local', endpoint: 'unix:///run/berth-no-such-engine.sock', labels: {} };

test('a missing engine socket is one error with the command that starts or installs Docker', async () => {
  const t0 = Date.now();
  const err = await requireEngines([missing], (h) => new DockerHostDriver(h).ping()).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UserError, String(err));
  assert.equal(err.code, 'DEMO_NO_ENGINE');
  assert.match(err.message, /the demo needs a Docker engine, and unix:\/\/\/run\/berth-no-such-engine\.sock does not answer/);
  assert.match(err.hint ?? '', /systemctl start docker|apt-get install -y docker\.io/);
  assert.ok(Date.now() - t0 < 10_000, 'answers within the ping timeout, no retry loop');
});

test('advice follows what is missing: the socket (daemon stopped) or a remote engine', () => {
  assert.match(engineAdvice(missing, true), /(not running \(no \/run\/berth-no-such-engine\.sock\)|not installed)/);
  assert.doesNotMatch(engineAdvice(missing, true), /sudo/);
  assert.match(engineAdvice(missing, false), /sudo /);
  assert.match(engineAdvice({ ...missing, endpoint: 'tcp://10.0.0.5:2376' }, true), /unset DOCKER_HOST/);
});
