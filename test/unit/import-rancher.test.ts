import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importRancher } from '../../importers/rancher/import.ts';
import { reportMarkdown } from '../../importers/rancher/report.ts';
import { lintCatalog } from '../../catalog/lint.ts';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { checkAnswersOrThrow } from '../../catalog/answers.ts';
import { renderVersion } from '../../catalog/render.ts';
import type { StackModel } from '../../catalog/model.ts';
import type { ImportReport } from '../../importers/rancher/report-types.ts';
import { CATALOG, writeTree } from './import-rancher-fixtures.ts';

async function imported(): Promise<{ dest: string; report: ImportReport }> {
  const src = await writeTree(CATALOG);
  const dest = await mkdtemp(path.join(tmpdir(), 'berth-rancher-dest-'));
  const report = await importRancher({ src, dest });
  await rm(src, { recursive: true, force: true });
  return { dest, report };
}

const shared = imported();

async function render(ref: string, answers: Record<string, unknown> = {}): Promise<StackModel> {
  const { dest } = await shared;
  const catalog = await loadCatalogOrThrow(dest);
  const [name, version] = ref.split('@');
  const template = catalog.templates.get(name)!;
  const v = template.versions.find((x) => x.version === version) ?? template.versions.at(-1)!;
  const values = checkAnswersOrThrow(v.questions, answers, ref);
  return renderVersion({ template, version: v, catalogRoot: catalog.root, values, context: { stack: 'shop', template: { name, version: v.version } } }).model;
}

function findingsOf(report: ImportReport, template: string, folder = '0') {
  return report.templates.find((t) => t.name === template)!.versions.find((v) => v.folder === folder)!.findings;
}

test('the imported catalog passes berth catalog lint, and the report counts every version', async () => {
  const { dest, report } = await shared;
  const { problems, checked } = await lintCatalog(dest);
  assert.deepEqual(problems, []);
  assert.equal(checked.length, 4);
  assert.deepEqual(report.totals, { templates: 4, versions: 6, converted: 1, approximated: 3, skipped: 2 });
  const md = reportMarkdown(report);
  assert.ok(md.indexOf('| 4 | 6 | 1 | 3 | 2 |') < md.indexOf('## '), 'totals come first');
});

test('questions: every Rancher type maps to Berth\'s, and the certificate difference is reported', async () => {
  const { dest, report } = await shared;
  const catalog = await loadCatalogOrThrow(dest);
  const v = catalog.templates.get('questions')!.versions[0];
  const byName = Object.fromEntries(v.questions.map((q) => [q.variable, q]));
  assert.deepEqual(Object.fromEntries(v.questions.map((q) => [q.variable, q.type])), {
    NAME: 'string', REPLICAS: 'int', RATIO: 'float', DEBUG: 'boolean', EDITION: 'enum', SECRET: 'password',
    MOTD: 'multiline', STARTS: 'date', UPSTREAM: 'service', TLS_CERT: 'certificate',
  });
  assert.equal(byName.NAME.min_length, 2);
  assert.equal(byName.NAME.valid_chars, 'abcdefghijklmnopqrstuvwxyz-');
  assert.equal(byName.REPLICAS.default, 2);
  assert.equal(byName.REPLICAS.max, 5);
  assert.equal(byName.DEBUG.default, false);
  assert.deepEqual(byName.EDITION.options, ['community', 'enterprise']);
  assert.equal(byName.TLS_CERT.default, undefined, 'a Rancher certificate name is not a PEM block');
  const findings = findingsOf(report, 'questions');
  assert.ok(findings.some((f) => f.feature === 'question type certificate' && /PEM/.test(f.message)));
  assert.ok(findings.some((f) => f.feature === 'question default' && /TLS_CERT/.test(f.message)));
  assert.equal(v.version, '1.0.0');
  assert.equal(v.description, 'every question type');
  assert.match(v.releaseNotes ?? '', /First release/);
  const t = catalog.templates.get('questions')!;
  assert.equal(t.config.category, 'Test');
  assert.equal(t.config.license, 'Apache-2.0');
  assert.equal(t.icon, 'templates/questions/catalogIcon-questions.svg');
});

test('plain compose keeps ${VAR} interpolation; a name that is not a question renders empty and is reported', async () => {
  const { dest, report } = await shared;
  assert.match(await readFile(path.join(dest, 'templates/questions/0/docker-compose.yml'), 'utf8'), /\$\{NAME\}/);
  const env = (await render('questions', { UPSTREAM: 'db' })).services.app.environment;
  assert.equal(env.NAME, 'demo');
  assert.equal(env.EDITION, 'community');
  assert.equal(env.MISSING, '');
  assert.equal(env.WITH_DEFAULT, 'fallback');
  assert.equal(env.DOLLAR, '$HOME');
  assert.ok(findingsOf(report, 'questions').some((f) => f.feature === 'variable' && /NOT_A_QUESTION/.test(f.message)));
});

test('Go templates become Handlebars: if/else if/else, comparisons, and/or/not, printf, contains, replace, range/until, .Stack.Name', async () => {
  const { dest } = await shared;
  const hbs = await readFile(path.join(dest, 'templates/gotpl/0/docker-compose.yml.hbs'), 'utf8');
  assert.doesNotMatch(hbs, /\.Values|\{\{-/);
  const b = await render('gotpl');
  const env = b.services.app.environment;
  assert.equal(b.services.app.image, 'registry.example.com/app:latest');
  assert.equal(env.STACK, 'shop');
  assert.equal(env.MODE_TEXT, 'second');
  assert.equal(env.BIG, 'yes');
  assert.equal(env.BOTH, 'both');
  assert.equal(env.EITHER, 'either');
  assert.equal(env.FIRST, 'r');
  assert.equal(env.PADDED, 'b-7');
  assert.equal(env.SLASHED, 'has-slash');
  assert.equal(env.REPLACED, 'registry_example_com/app');
  assert.equal(env.PIPED, 'mode=b');
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('NODE_')), ['NODE_0', 'NODE_1', 'NODE_2']);
  assert.equal(env.NODE_2, 'node2.shop');
  assert.equal(b.services.app.command, undefined);
  assert.ok(b.services.cache);
  const other = await render('gotpl', { MODE: 'c', NODES: 1, EXTRA: 'x', ENABLE_CACHE: false });
  assert.equal(other.services.app.environment.MODE_TEXT, 'other');
  assert.equal(other.services.app.environment.BIG, 'no');
  assert.equal(other.services.app.environment.BOTH, '');
  assert.deepEqual(other.services.app.command, ['run', 'x']);
  assert.equal(other.services.cache, undefined);
  assert.deepEqual(Object.keys(other.services.app.environment).filter((k) => k.startsWith('NODE_')), ['NODE_0']);
});

test('compose v1 is wrapped and its old keys translated; Rancher labels and rancher-compose.yml become compose keys', async () => {
  const m = await render('classic');
  const web = m.services.web;
  assert.equal(web.network_mode, 'bridge');
  assert.deepEqual(web.logging, { driver: 'json-file', options: { 'max-size': '10m' } });
  assert.equal(web.mem_limit_bytes, 64 * 1024 * 1024);
  assert.ok(m.volumes.webdata, 'a named volume is declared at the top level');
  assert.equal(web.deploy.replicas, 2);
  assert.deepEqual(web.deploy.placement.constraints.map((c) => c.text), ['node.labels.role == web', 'node.labels.zone == a', 'node.labels.broken != true']);
  assert.equal(web.pull_policy, 'always');
  assert.equal(web.deploy.update_config.order, 'start-first');
  assert.equal(web.deploy.update_config.parallelism, 1);
  assert.equal(web.deploy.update_config.delay_ms, 3000);
  assert.deepEqual(web.healthcheck?.test.slice(0, 1), ['CMD-SHELL']);
  assert.match(web.healthcheck!.test[1], /http:\/\/127\.0\.0\.1:80\/healthz/);
  assert.equal(web.healthcheck?.interval_ms, 2000);
  assert.equal(web.healthcheck?.timeout_ms, 1500);
  assert.equal(web.healthcheck?.retries, 3);
  assert.equal(web.healthcheck?.start_period_ms, 10000);
  assert.match(m.services.agent.healthcheck!.test[1], /nc -z 127\.0\.0\.1 9000/);
  assert.equal(m.services.agent.deploy.mode, 'global');
  assert.equal(m.services.setup.restart, 'no');
  assert.deepEqual(m.services.api.deploy.placement.constraints.map((c) => c.text), ['node.labels.role == web']);
  const answered = await render('classic', { HOST_LABEL: 'tier=api, zone=b' });
  assert.deepEqual(answered.services.api.deploy.placement.constraints.map((c) => c.text), ['node.labels.tier == api', 'node.labels.zone == b']);
  const none = await render('classic', { HOST_LABEL: '' });
  assert.deepEqual(none.services.api.deploy.placement.constraints, []);
});

test('a sidekick shares its primary\'s network namespace, runs with it, and its ports move to the primary', async () => {
  const { report } = await shared;
  const m = await render('classic');
  const side = m.services['web-logger'];
  assert.equal(side.network_mode, 'service:web');
  assert.equal(side.hostname, undefined);
  assert.deepEqual(side.ports, []);
  assert.ok(m.services.web.ports.some((p) => p.target === 9100));
  assert.equal(side.deploy.replicas, 2, 'scaled like its primary');
  assert.deepEqual(side.deploy.placement.constraints.map((c) => c.text), m.services.web.deploy.placement.constraints.map((c) => c.text));
  assert.ok(findingsOf(report, 'classic', '1').some((f) => f.feature === 'io.rancher.sidekicks' && f.service === 'web-logger'));
});

test('the load balancer becomes HAProxy routing each port rule by host name and path to its service', async () => {
  const m = await render('classic', { PUBLIC_PORT: 8081 });
  const lb = m.services.lb;
  assert.equal(lb.image, 'haproxy:2.6');
  assert.equal(lb.configs[0].target, '/usr/local/etc/haproxy/haproxy.cfg');
  assert.deepEqual(lb.ports.map((p) => [p.published, p.target]), [['8081', 80]]);
  const cfg = m.configs[lb.configs[0].source].content ?? '';
  assert.match(cfg, /bind \*:80\n/);
  assert.match(cfg, /acl rule0_host hdr_dom\(host\) -i api\.example\.com\n  acl rule0_path path_beg \/v1\n  use_backend api_8000 if rule0_host rule0_path/);
  assert.match(cfg, /use_backend web_80 if rule1_host/);
  assert.match(cfg, /server-template web 1-16 web:80 resolvers docker/);
  assert.match(cfg, /nameserver dns 127\.0\.0\.11:53/);
});

test('Rancher-only services are removed with the reason, and references to them dropped', async () => {
  const { report } = await shared;
  const m = await render('classic');
  assert.equal(m.services.alias, undefined);
  const f = findingsOf(report, 'classic', '1').find((x) => x.feature === 'rancher/dns-service');
  assert.equal(f?.kind, 'decision');
  assert.ok(findingsOf(report, 'classic', '1').some((x) => x.feature === 'cpu_shares'), 'a key Berth cannot honour is dropped and reported');
});

test('a version whose version string collides, or that cannot be converted, is skipped with the reason', async () => {
  const { report } = await shared;
  const classic = report.templates.find((t) => t.name === 'classic')!;
  const dup = classic.versions.find((v) => v.folder === '0')!;
  assert.equal(dup.outcome, 'skipped');
  assert.match(dup.reason ?? '', /"0\.9\.0" is also the version of the newer folder 1, which was imported/);
  const broken = report.templates.find((t) => t.name === 'broken')!;
  assert.equal(broken.versions[0].outcome, 'skipped');
  assert.match(broken.versions[0].reason ?? '', /docker-compose\.yml\.tpl:3: the template function "nosuchfunction" has no Berth equivalent/);
  assert.equal(broken.versions[1].outcome, 'converted');
  assert.equal(broken.latest, '1.1.0');
});

test('the source is untrusted: a symbolic link is never followed, and the error names the file', async () => {
  const src = await writeTree({ 'templates/leak/config.yml': 'name: Leak\ndescription: d\n', 'templates/leak/0/rancher-compose.yml': '.catalog:\n  version: 1.0.0\n' });
  await symlink('/etc/hostname', path.join(src, 'templates/leak/0/docker-compose.yml'));
  const dest = await mkdtemp(path.join(tmpdir(), 'berth-rancher-dest-'));
  const report = await importRancher({ src, dest });
  const v = report.templates[0].versions[0];
  assert.equal(v.outcome, 'skipped');
  assert.match(v.reason ?? '', /templates\/leak\/0\/docker-compose\.yml is a symbolic link/);
  await rm(src, { recursive: true, force: true });
  await rm(dest, { recursive: true, force: true });
});
