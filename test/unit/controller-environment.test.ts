import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadEnvironment, selectHosts } from '../../environment/environment.ts';
import { UserError, ValidationError, formatProblem } from '../../lib/errors.ts';
import { builtinCatalogRoot } from '../../lib/version.ts';

function envDir(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-env-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

const BERTH_YML = `catalogs:
  - name: main
    path: ../catalog
hosts:
  - name: laptop
    endpoint: unix:///var/run/docker.sock
    labels: { role: web }
  - name: dc1-db
    endpoint: tcp://10.0.0.12:2376
    tls: { ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem }
    labels: { role: db, rack: 1.10, gpu: true }
  - name: dc1-web
    endpoint: ssh://deploy@10.0.0.13
    ssh: { key: keys/id_ed25519 }
    labels: { role: web }
  - name: plain
    endpoint: tcp://10.0.0.14:2375
registries:
  - server: registry.example.com
    username: deploy
    password_env: REGISTRY_PASSWORD
`;

async function problemsOf(root: string): Promise<string[]> {
  const err = await loadEnvironment(root).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
  assert.equal(err.code, 'ENVIRONMENT_INVALID');
  return err.problems.map(formatProblem);
}

test('loads the documented example: paths made absolute, labels as text, stacks with selectors', async () => {
  const root = envDir({
    'env/berth.yml': BERTH_YML,
    'catalog/templates/.keep': '',
    'env/stacks/site.yml': 'template: static-site\nversion: 1.0.0\ncatalog: main\nanswers:\n  site_title: Hello\nhosts: { role: web }\n',
    'env/stacks/db.yaml': 'template: postgres\nversion: 3\n',
    'env/stacks/README.md': 'not a stack',
  });
  const env = await loadEnvironment(path.join(root, 'env'));
  assert.equal(env.root, path.join(root, 'env'));
  assert.deepEqual(env.catalogs, [{ name: 'main', root: path.join(root, 'catalog') }]);
  assert.deepEqual(env.hosts.map((h) => h.name), ['laptop', 'dc1-db', 'dc1-web', 'plain']);
  assert.deepEqual(env.hosts[1].tls, { ca: path.join(root, 'env/certs/ca.pem'), cert: path.join(root, 'env/certs/cert.pem'), key: path.join(root, 'env/certs/key.pem') });
  assert.deepEqual(env.hosts[1].labels, { role: 'db', rack: '1.10', gpu: 'true' });
  assert.deepEqual(env.hosts[2].ssh, { privateKeyFile: path.join(root, 'env/keys/id_ed25519') });
  assert.equal(env.hosts[3].tls, undefined);
  assert.deepEqual(env.registries, [{ server: 'registry.example.com', username: 'deploy', passwordEnv: 'REGISTRY_PASSWORD' }]);
  assert.deepEqual(env.stacks, [
    { name: 'db', file: 'stacks/db.yaml', template: 'postgres', version: '3', answers: {}, hosts: {}, lines: { template: 1, version: 2, answers: {} } },
    {
      name: 'site', file: 'stacks/site.yml', template: 'static-site', version: '1.0.0', catalog: 'main', answers: { site_title: 'Hello' }, hosts: { role: 'web' },
      lines: { template: 1, version: 2, answers: { site_title: 5 } },
    },
  ]);
  assert.deepEqual(selectHosts(env.hosts, { role: 'web' }).map((h) => h.name), ['laptop', 'dc1-web']);
  assert.deepEqual(selectHosts(env.hosts, { hostname: 'plain' }).map((h) => h.name), ['plain']);
});

test('without catalogs and hosts: the built-in catalog and the local Docker ($DOCKER_HOST when set)', async () => {
  const root = envDir({ 'berth.yml': '# nothing yet\n' });
  const env = await loadEnvironment(root, { processEnv: {} });
  assert.deepEqual(env.catalogs, [{ name: 'builtin', root: builtinCatalogRoot() }]);
  assert.deepEqual(env.hosts, [{ name: 'local', endpoint: 'unix:///var/run/docker.sock', labels: {} }]);
  assert.deepEqual(env.stacks, []);
  const remote = await loadEnvironment(root, { processEnv: { DOCKER_HOST: 'tcp://10.1.1.1:2376', DOCKER_CERT_PATH: '/certs' } });
  assert.deepEqual(remote.hosts, [{ name: 'local', endpoint: 'tcp://10.1.1.1:2376', tls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' }, labels: {} }]);
});

test('every problem is reported at once, located at file, line and field', async () => {
  const root = envDir({
    'berth.yml': `catalogs:
  - name: main
    path: ./nowhere
  - name: remote
    url: https://git.example.com/catalog.git
    branch: main
hostz: []
hosts:
  - name: a
    endpoint: http://10.0.0.1
    labels: { role: web }
  - name: a
    endpoint: unix:///var/run/docker.sock
    tls: { ca: ca.pem, cert: cert.pem, key: key.pem }
  - endpoint: tcp://10.0.0.2
    labls: {}
registries:
  - server: r.example.com
    username: 12
    password: hunter2
`,
  });
  // Unknown keys are worded by the catalog's shared YAML reader; here only where and what it suggests matter.
  const problems = await problemsOf(root);
  assert.match(problems[0], /^berth\.yml:7: hostz: .*did you mean "hosts"\?/);
  assert.match(problems[6], /^berth\.yml:16: hosts\[2\]\.labls: .*did you mean "labels"\?/);
  assert.deepEqual(problems.filter((_, i) => i !== 0 && i !== 6), [
    `berth.yml:3: catalogs[0].path: no folder at ${path.join(root, 'nowhere')}`,
    'berth.yml:5: catalogs[1].url: git catalogs are not supported yet in this Berth; clone the repository and give its folder with path:',
    'berth.yml:12: hosts[1].name: host "a" is declared twice; each must be distinct',
    'berth.yml:10: hosts[0].endpoint: scheme "http" is not supported; use unix://, tcp:// or ssh://',
    'berth.yml:14: hosts[1].tls: only applies to tcp:// endpoints; this host\'s endpoint is unix:///var/run/docker.sock',
    'berth.yml:15: hosts[2].name: is required; add "name: ..."',
    'berth.yml:15: hosts[2].endpoint: tcp:// needs a host and a port, e.g. tcp://10.0.0.12:2376',
    'berth.yml:20: registries[0].password: passwords never go in berth.yml; put it in an environment variable and name that variable with password_env:',
    'berth.yml:19: registries[0].username: must be text, got the number 12; put it in quotes: username: "12"',
    'berth.yml:18: registries[0].password_env: is required; add "password_env: ..."',
  ]);
});

test('a broken stack file fails only its own stack, with every problem at its file and line', async () => {
  const root = envDir({
    'berth.yml': 'catalogs:\n  - name: main\n    builtin: true\nhosts:\n  - name: a\n    endpoint: unix:///var/run/docker.sock\n',
    'stacks/shop.yml': 'template: acme\nversion: 1.10\ncatalog: mian\nanswers: [1]\nhosts: { role: db }\n',
    'stacks/Bad.yml': 'template: x\n',
    'stacks/bomb.yml': `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i ? `*b${i - 1}` : '*a').join(', ')}]`).join('\n')}\n`,
    'stacks/yaml.yml': 'template: [\n',
    'stacks/good.yml': 'template: static-site\nversion: "1.0.0"\n',
  });
  const env = await loadEnvironment(root);
  assert.deepEqual(env.stacks.map((s) => [s.name, Boolean(s.invalid)]), [['Bad', true], ['bomb', true], ['good', false], ['shop', true], ['yaml', true]]);
  const problems = (name: string) => (env.stacks.find((s) => s.name === name)!.invalid as ValidationError).problems.map(formatProblem);
  assert.deepEqual(problems('Bad'), [
    'stacks/Bad.yml: "Bad" is not a valid stack name; rename the file using lowercase letters, digits, "_" and "-"',
    'stacks/Bad.yml:1: version: is required; add "version: ..."',
  ]);
  assert.deepEqual(problems('shop'), [
    'stacks/shop.yml:2: version: must be text, got the number 1.10; put it in quotes: version: "1.10"',
    'stacks/shop.yml:3: catalog: names catalog "mian", which berth.yml does not declare; did you mean "main"?',
    'stacks/shop.yml:4: answers: must be a map of variable: value, got a list',
    'stacks/shop.yml:5: hosts: selects no host; hosts are a {}',
  ]);
  assert.match(problems('bomb')[0], /^stacks\/bomb\.yml:\d+: expands to more than 100000 values/);
  assert.match(problems('yaml')[0], /^stacks\/yaml\.yml:\d+: is not valid YAML/);
  assert.match(env.stacks.find((s) => s.name === 'bomb')!.invalid!.message, /^stacks\/bomb\.yml has 1 problem/);
});

test('tcp without tls is allowed; ssh settings on a unix endpoint are not', async () => {
  const ok = envDir({ 'berth.yml': 'hosts:\n  - name: plain\n    endpoint: tcp://10.0.0.14:2375\n' });
  assert.equal((await loadEnvironment(ok)).hosts[0].tls, undefined);
  const bad = envDir({ 'berth.yml': 'hosts:\n  - name: x\n    endpoint: unix://var/run/docker.sock\n    ssh: { key: k, user: me }\n' });
  const problems = await problemsOf(bad);
  assert.deepEqual(problems.slice(0, 2), [
    'berth.yml:3: hosts[0].endpoint: unix:// needs an absolute socket path after three slashes, e.g. unix:///var/run/docker.sock',
    'berth.yml:4: hosts[0].ssh: only applies to ssh:// endpoints; this host\'s endpoint is unix://var/run/docker.sock',
  ]);
  assert.match(problems[2], /^berth\.yml:4: hosts\[0\]\.ssh\.user: /);
  assert.equal(problems.length, 3);
});

test('YAML syntax errors are located', async () => {
  const root = envDir({ 'berth.yml': 'hosts:\n  - name: a\n   endpoint: [\n' });
  const problems = await problemsOf(root);
  assert.ok(problems.length > 0 && problems.every((p) => p.startsWith('berth.yml:')), problems.join('\n'));
});

test('a missing folder or berth.yml is a user error with a hint to start', async () => {
  for (const root of [path.join(tmpdir(), 'berth-no-such-env'), envDir({ 'stacks/x.yml': '' })]) {
    const err = await loadEnvironment(root).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UserError);
    assert.equal(err.code, 'ENVIRONMENT_NOT_FOUND');
    assert.match(err.hint ?? '', /berth\.yml/);
    assert.match(err.hint ?? '', /endpoint: unix:\/\/\/var\/run\/docker\.sock/);
  }
});

test('snapshots: keep and helper_image are read; a keep of 0, a stray key or a non-image are problems at their line', async () => {
  const env = await loadEnvironment(envDir({ 'berth.yml': 'snapshots:\n  keep: 5\n  helper_image: registry.local/tools/busybox:1.36\n' }));
  assert.deepEqual(env.snapshots, { keep: 5, helperImage: 'registry.local/tools/busybox:1.36' });
  assert.equal((await loadEnvironment(envDir({ 'berth.yml': 'name: prod\n' }))).snapshots, undefined);
  await assert.rejects(loadEnvironment(envDir({ 'berth.yml': 'snapshots:\n  keep: 0\n  helper_image: "a b"\n  keep_days: 3\n' })), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    const text = e.problems.map(formatProblem).join('\n');
    assert.match(text, /berth\.yml:2.*snapshots\.keep.*at least 1/);
    assert.match(text, /berth\.yml:3.*snapshots\.helper_image.*not an image reference/);
    assert.match(text, /keep_days/);
    return true;
  });
});
