// Desired state from a tiny catalog and environment on disk: render, place, read files, hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { desiredEnvironment, desiredStack, parseEnvFile, placementError } from '../../engines/standalone/desired.ts';
import { planStack } from '../../engines/standalone/plan.ts';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { observed, observedHost } from './controller-fixtures.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { ValidationError } from '../../lib/errors.ts';

const COMPOSE = `services:
  web:
    image: nginx:1.27-alpine
    environment:
      DB_PASSWORD: "{{db_password}}"
      MODE: explicit
    env_file: [app.env]
    configs: [site_conf]
    secrets: [api_key]
    deploy:
      replicas: {{replicas}}
      placement:
        constraints: [node.labels.role == web]
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
    deploy:
      placement:
        constraints: [node.labels.role == {{db_role}}]
networks:
  back: {}
volumes:
  data: {}
configs:
  site_conf:
    file: site.conf
secrets:
  api_key:
    environment: API_KEY
`;

const QUESTIONS = `version: 1.0.0
questions:
  - { variable: db_password, label: DB password, type: password, required: true }
  - { variable: replicas, label: Replicas, type: int, default: 3 }
  - { variable: db_role, label: DB role, type: string, default: db }
`;

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

function fixture(stacks: Record<string, string>, envFiles: Record<string, string> = { 'env/app.env': '# app\nMODE=from-file\nexport TOKEN="a b"\nLEVEL=debug # inline\n', 'env/site.conf': 'listen 80;\n' }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-desired-'));
  write(root, {
    'catalog/templates/demo/config.yml': 'name: demo\ndescription: Demo.\n',
    'catalog/templates/demo/0/berth.yml': QUESTIONS,
    'catalog/templates/demo/0/docker-compose.yml.hbs': COMPOSE,
    'env/berth.yml': 'allow_env: [API_KEY, HOME]\ncatalogs:\n  - { name: main, path: ../catalog }\nhosts:\n  - { name: h1, endpoint: "unix:///a.sock", labels: { role: web } }\n  - { name: h2, endpoint: "unix:///b.sock", labels: { role: db } }\n  - { name: h3, endpoint: "unix:///c.sock", labels: { role: web } }\n',
    ...Object.fromEntries(Object.entries(stacks).map(([n, t]) => [`env/stacks/${n}.yml`, t])),
    ...envFiles,
  });
  return path.join(root, 'env');
}

test('env files: comments, export, quotes, inline comments, bare names from the environment', () => {
  assert.deepEqual(parseEnvFile('# c\n\nA=1\nexport B="x y"\nC=\'q\'\nD=v # note\nE\nF\n', { E: 'from-env' }), { A: '1', B: 'x y', C: 'q', D: 'v', E: 'from-env' });
});

test('a stack becomes hosts with placed replicas, merged env files, file contents and masked configs', async () => {
  const env = await loadEnvironment(fixture({ shop: 'template: demo\nversion: 1.0.0\nanswers: { db_password: pw-123456 }\n' }));
  const d = await desiredStack(env, env.stacks[0], { processEnv: { API_KEY: 'key-abc' } });
  assert.equal(d.source, 'demo@1.0.0');
  assert.deepEqual(d.secrets, ['pw-123456']);
  assert.deepEqual(Object.keys(d.hosts), ['h1', 'h2', 'h3']);
  assert.deepEqual(d.hosts.h1.replicas, [{ service: 'web', number: 1 }, { service: 'web', number: 3 }]);
  assert.deepEqual(d.hosts.h2.replicas, [{ service: 'db', number: 1 }]);
  assert.deepEqual(d.hosts.h2.networks.map((n) => n.name), ['shop_back']);
  assert.deepEqual(d.hosts.h2.volumes.map((v) => v.name), ['shop_data']);
  const web = d.hosts.h1.services.web;
  assert.deepEqual(web.model.env_file, []);
  assert.deepEqual(web.model.environment, { TOKEN: 'a b', LEVEL: 'debug', MODE: 'explicit', DB_PASSWORD: 'pw-123456' });
  assert.deepEqual(web.files, { site_conf: 'listen 80;\n', api_key: 'key-abc' });
  assert.equal(d.hosts.h3.services.web.hash, web.hash);
  const stored = JSON.stringify(web.config);
  for (const secret of ['pw-123456', 'key-abc', 'a b', 'listen 80']) assert.ok(!stored.includes(secret), `config holds ${secret}`);
});

test('missing files and unset variables are reported together, naming service, key and path', async () => {
  const env = await loadEnvironment(fixture({ shop: 'template: demo\nversion: 1.0.0\nanswers: { db_password: pw }\n' }, {}));
  const err = await desiredStack(env, env.stacks[0], { processEnv: {} }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ValidationError);
  assert.equal(err.code, 'STACK_FILES_MISSING');
  const messages = err.problems.map((p) => p.message);
  assert.equal(messages.length, 3);
  assert.match(messages[0], /^service "web" config "site_conf" reads site\.conf \(.*\/env\/site\.conf\), which does not exist/);
  assert.match(messages[1], /^service "web" secret "api_key" comes from the environment variable API_KEY, which is not set/);
  assert.match(messages[2], /^service "web" env_file reads app\.env/);
});

test('placement errors fail the stack; other stacks of the environment still resolve', async () => {
  const env = await loadEnvironment(fixture({
    bad: 'template: demo\nversion: 1.0.0\nanswers: { db_password: pw, db_role: gpu }\n',
    good: 'template: demo\nversion: 1.0.0\nanswers: { db_password: pw, replicas: 0 }\nhosts: { role: db }\n',
  }));
  const results = await desiredEnvironment(env, { processEnv: { API_KEY: 'k' } });
  assert.deepEqual(results.map((r) => r.stack), ['bad', 'good']);
  assert.ok(results[0].error instanceof ValidationError);
  assert.equal((results[0].error as ValidationError).code, 'PLACEMENT_FAILED');
  assert.match((results[0].error as Error).message, /service "db": no host satisfies node\.labels\.role == gpu \(hosts: h1 \{role=web\}, h2 \{role=db\}, h3 \{role=web\}\)/);
  assert.deepEqual(Object.keys(results[1].desired!.hosts), ['h2']);
  assert.deepEqual(results[1].desired!.hosts.h2.replicas, [{ service: 'db', number: 1 }]);
});

test('a wrong template, version or answer is located at the line of the stack file that chose it', async () => {
  const env = await loadEnvironment(fixture({
    nosuch: '# the shop\ntemplate: dem\nversion: 1.0.0\n',
    old: 'template: demo\n\nversion: 0.9.0\n',
    wrong: 'template: demo\nversion: 1.0.0\nanswers:\n  db_password: pw\n  replicas: many\n  colour: red\n',
  }));
  const failure = (name: string) => desiredStack(env, env.stacks.find((s) => s.name === name)!, { processEnv: { API_KEY: 'k' } }).then(() => assert.fail(`${name} resolved`), (e: unknown) => e as ValidationError);
  const t = await failure('nosuch');
  assert.equal(t.code, 'TEMPLATE_NOT_FOUND');
  assert.match(t.message, /^stacks\/nosuch\.yml:2: no template "dem"/);
  assert.match(t.message, /did you mean "demo"/);
  const v = await failure('old');
  assert.equal(v.code, 'VERSION_NOT_FOUND');
  assert.match(v.message, /^stacks\/old\.yml:3: template "demo" has no version "0\.9\.0"/);
  assert.match(v.hint ?? '', /1\.0\.0/, 'the hint still lists what exists');
  const a = await failure('wrong');
  assert.equal(a.code, 'ANSWERS_INVALID');
  assert.deepEqual(a.problems.map((p) => [p.file, p.line, p.field]), [['stacks/wrong.yml', 5, 'replicas'], ['stacks/wrong.yml', 6, 'colour']]);
  assert.match(a.message, /stacks\/wrong\.yml:5: replicas: /);
});

test('berth plan shows a placement error as a plan error, beside what the placeable services would do', async () => {
  const env = await loadEnvironment(fixture({ bad: 'template: demo\nversion: 1.0.0\nanswers: { db_password: pw, db_role: gpu }\n' }));
  const desired = await desiredStack(env, env.stacks[0], { processEnv: { API_KEY: 'k' } });
  assert.equal(desired.placementErrors?.length, 1);
  const plan = planStack(desired, observed('bad', ['h1', 'h2', 'h3'].map((h) => observedHost(h, []))));
  assert.match(plan.errors[0] ?? '', /^service "db": no host satisfies node\.labels\.role == gpu/);
  assert.ok(plan.hosts.some((h) => h.operations.some((o) => o.kind === 'create' && o.service === 'web')), 'the placeable services are planned');
  assert.match(formatPlan(plan), /error: service "db": no host satisfies/);
  assert.equal(placementError(desired, env.stacks[0])?.code, 'PLACEMENT_FAILED', 'and apply stops the stack with it');
});
