// `berth render --profile`: the compose a stack with those profiles: would run — services of other profiles left
// out, a service needed by an enabled one named in the error — through the real CLI on a catalog on disk.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { tempDir } from '../harness/env.ts';
import { runBerth, writeCatalog } from '../integration/converge-fixtures.ts';

const tmp = tempDir('berth-render-profile-');
after(() => tmp.remove());
writeCatalog(tmp.path, {
  app: {
    description: 'an app with optional tools',
    versions: {
      '1.0.0': {
        compose: `services:
  web:
    image: web:1
  debug:
    image: busybox:1
    profiles: [debug]
  admin:
    image: busybox:1
    profiles: [tools]
    depends_on: [db]
  db:
    image: db:1
    profiles: [data]
`,
      },
    },
  },
});

const services = (yaml: string) => Object.keys((parse(yaml) as { services: Record<string, unknown> }).services).sort();

test('without --profile every service is shown; with it, only those the profiles enable', async () => {
  const all = await runBerth(['render', 'app', '--catalog', tmp.path]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(services(all.stdout), ['admin', 'db', 'debug', 'web']);
  const debug = await runBerth(['render', 'app', '--catalog', tmp.path, '--profile', 'debug']);
  assert.equal(debug.code, 0, debug.stderr);
  assert.deepEqual(services(debug.stdout), ['debug', 'web']);
  const both = await runBerth(['render', 'app', '--catalog', tmp.path, '--profile', 'tools', '--profile', 'data']);
  assert.deepEqual(services(both.stdout), ['admin', 'db', 'web']);
  const star = await runBerth(['render', 'app', '--catalog', tmp.path, '--profile', '*']);
  assert.deepEqual(services(star.stdout), ['admin', 'db', 'debug', 'web']);
});

test('a profile that leaves out a service an enabled one needs is an error naming both', async () => {
  const r = await runBerth(['render', 'app', '--catalog', tmp.path, '--profile', 'tools']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /service "admin" needs service "db", which runs only with profile data/);
});
