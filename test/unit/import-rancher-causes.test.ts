/**
 * The causes that kept real Rancher catalogs from importing, each as a small template written for this test in
 * Rancher's documented format: CRLF files, Go actions in a plain docker-compose.yml, `{{$x := …}}`, volumes
 * named from part of an answer, sidekick chains, keys written twice, answers pasted in as YAML, Rancher keys in
 * docker-compose.yml, millisecond answers, bare request lines, number answers as arguments, host labels Berth
 * cannot name. Every converted version must lint and render; every refusal names its file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importRancher } from '../../importers/rancher/import.ts';
import { lintCatalog } from '../../catalog/lint.ts';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { checkAnswersOrThrow } from '../../catalog/answers.ts';
import { renderVersion } from '../../catalog/render.ts';
import type { StackModel } from '../../catalog/model.ts';
import type { Finding, ImportReport } from '../../importers/rancher/report-types.ts';
import { writeTree, type Files } from './import-rancher-fixtures.ts';

const rc = (version: string, questions = ''): string => `.catalog:\n  version: ${version}\n${questions ? `  questions:\n${questions}` : ''}`;
const q = (variable: string, type: string, def?: string | number | boolean): string =>
  `    - variable: ${variable}\n      label: ${variable}\n      type: ${type}\n      required: false\n${def === undefined ? '' : `      default: ${JSON.stringify(def)}\n`}`;
const config = (name: string): string => `name: ${name}\ndescription: ${name}\n`;

const CATALOG: Files = {
  // CRLF line ends, with `{{-` trimming across them.
  'templates/crlf/config.yml': config('crlf'),
  'templates/crlf/0/rancher-compose.yml': rc('1.0.0', q('EXTERNAL_DB', 'string', '')).replace(/\n/g, '\r\n'),
  'templates/crlf/0/docker-compose.yml.tpl': "version: '2'\n{{- if not .Values.EXTERNAL_DB }}\nvolumes:\n  dbdata:\n    driver: local\n{{- end }}\nservices:\n  app:\n    image: busybox:1\n".replace(/\n/g, '\r\n'),
  // Go actions in a plain docker-compose.yml, and a declared variable.
  'templates/plainactions/config.yml': config('plainactions'),
  'templates/plainactions/0/rancher-compose.yml': rc('1.0.0', q('DEBUG', 'boolean', false) + q('TAG', 'string', '1.2')),
  'templates/plainactions/0/docker-compose.yml': [
    "version: '2'",
    '{{- $image := printf "example/app:%s" .Values.TAG }}',
    '{{- $plain := "example/sidecar:3" }}',
    'services:',
    '  app:',
    '    image: {{ $image }}',
    '    command: app {{- if eq .Values.DEBUG "true" }} --debug {{- end }} --serve',
    '  sidecar:',
    '    image: {{$plain}}',
    '    environment:',
    '{{- range $i, $e := until 2 }}',
    '      IMAGE_{{$i}}: {{ $image }}',
    '{{- end }}',
    '',
  ].join('\n'),
  // Volumes named from an answer plus text, with the volume_driver of v1; a mount whose source is a path
  // only in one branch.
  'templates/prefixed/config.yml': config('prefixed'),
  'templates/prefixed/0/rancher-compose.yml': rc('1.0.0', q('PFX', 'string', 'shop') + q('DRIVER', 'string', '') + q('DATA', 'string', 'local')),
  'templates/prefixed/0/docker-compose.yml.tpl': [
    'db:',
    '  image: example/db:1',
    '  volume_driver: ${DRIVER}',
    '  volumes:',
    '    - ${PFX}-db:/var/lib/db',
    'web:',
    '  image: example/web:1',
    '  volumes:',
    '    - ${PFX}-db:/srv/db:ro',
    '  {{- if eq (printf "%.1s" .Values.DATA) "/" }}',
    '    - ${DATA}:/data',
    '  {{- else }}',
    '    - webdata:/data',
    '  {{- end }}',
    '',
  ].join('\n'),
  // A chain of sidekicks: the primary links to one, which mounts a data sidekick's volumes.
  'templates/chain/config.yml': config('chain'),
  'templates/chain/0/rancher-compose.yml': rc('1.0.0'),
  'templates/chain/0/docker-compose.yml': [
    'agent:',
    '  image: example/agent:1',
    '  links:',
    '    - store',
    '    - configure',
    '  labels:',
    '    io.rancher.sidekicks: store,store-data,helper',
    'store:',
    '  image: example/store:1',
    '  net: host',
    '  volumes_from:',
    '    - store-data',
    'store-data:',
    '  image: example/store:1',
    '  entrypoint: /bin/true',
    '  volumes:',
    '    - /data',
    '  labels:',
    '    io.rancher.container.start_once: true',
    'helper:',
    '  image: example/helper:1',
    'configure:',
    '  image: example/configure:1',
    '  depends_on:',
    '    - helper',
    '',
  ].join('\n'),
  // A key written twice in one map (Rancher's YAML reader kept the last), and the same key in two branches.
  'templates/twice/config.yml': config('twice'),
  'templates/twice/0/rancher-compose.yml': rc('1.0.0', q('MODE', 'string', 'a')),
  'templates/twice/0/docker-compose.yml.tpl': [
    'services:',
    '  app:',
    '    labels:',
    '      role: first',
    '    image: example/app:1',
    '    labels:',
    '      role: second',
    '    {{- if eq .Values.MODE "a" }}',
    '    command: run-a',
    '    {{- else }}',
    '    command: run-b',
    '    {{- end }}',
    '',
  ].join('\n'),
  // An answer pasted in as YAML; Rancher keys written in docker-compose.yml; a health check interval from an
  // answer in milliseconds; a request line that is only a path; a number answer as an argument; a host label
  // Berth's constraints cannot name; a key only Rancher read.
  'templates/rancherisms/config.yml': config('rancherisms'),
  'templates/rancherisms/0/rancher-compose.yml': rc('1.0.0', q('DRIVER_OPT', 'string') + q('CHECK_MS', 'int', 3000) + q('TIMEOUT', 'int', 1000)),
  'templates/rancherisms/0/docker-compose.yml.tpl': [
    "version: '2'",
    'services:',
    '  app:',
    '    image: example/app:1',
    '    network_driver:',
    '      name: Rancher IPsec',
    '    command:',
    '      - serve',
    '      - --timeout',
    '      - ${TIMEOUT}',
    '    labels:',
    '      io.rancher.scheduler.affinity:host_label: example.com/storage=true,zone=a',
    '    health_check:',
    '      port: 8080',
    "      request_line: '/healthz'",
    '      interval: ${CHECK_MS}',
    '      unhealthy_threshold: 3',
    'volumes:',
    '  data:',
    '    driver: local',
    '    driver_opts:',
    '      {{.Values.DRIVER_OPT}}',
    '',
  ].join('\n'),
  // A template Go itself refuses: a parenthesised value given arguments.
  'templates/refused/config.yml': config('refused'),
  'templates/refused/0/rancher-compose.yml': rc('1.0.0', q('A', 'string', 'x')),
  'templates/refused/0/docker-compose.yml.tpl': 'services:\n  app:\n    image: example/app:1\n    {{- if (ne .Values.A "y") and .Values.A }}\n    command: go\n    {{- end }}\n',
};

async function importFixtures(): Promise<{ dest: string; report: ImportReport }> {
  const src = await writeTree(CATALOG);
  const dest = await mkdtemp(path.join(tmpdir(), 'berth-rancher-causes-'));
  const report = await importRancher({ src, dest });
  await rm(src, { recursive: true, force: true });
  return { dest, report };
}

const shared = importFixtures();

async function render(name: string, answers: Record<string, unknown> = {}): Promise<StackModel> {
  const { dest } = await shared;
  const catalog = await loadCatalogOrThrow(dest);
  const template = catalog.templates.get(name)!;
  const v = template.versions.at(-1)!;
  const values = checkAnswersOrThrow(v.questions, answers, name);
  return renderVersion({ template, version: v, catalogRoot: catalog.root, values, context: { stack: 'demo', template: { name, version: v.version } } }).model;
}

async function findings(name: string): Promise<Finding[]> {
  const { report } = await shared;
  return report.templates.find((t) => t.name === name)!.versions[0].findings;
}

test('every version but the one Go refuses imports, lints and renders; the refusal names file and line', async () => {
  const { dest, report } = await shared;
  const { problems } = await lintCatalog(dest);
  assert.deepEqual(problems, []);
  const skipped = report.templates.flatMap((t) => t.versions.filter((v) => v.outcome === 'skipped').map((v) => `${t.name}: ${v.reason}`));
  assert.equal(skipped.length, 1, skipped.join('\n'));
  assert.match(skipped[0], /^refused: templates\/refused\/0\/docker-compose\.yml\.tpl:4: a value is given arguments as if it were a function/);
});

test('CRLF files: Go trimming and YAML read them as Rancher did', async () => {
  const m = await render('crlf');
  assert.ok(m.volumes.dbdata, 'the volume inside {{- if}} exists by default');
  assert.equal(m.services.app.image, 'busybox:1');
  const external = await render('crlf', { EXTERNAL_DB: 'db.example.com' });
  assert.equal(external.volumes.dbdata, undefined);
});

test('a plain docker-compose.yml with Go actions is a template, as Rancher ran it; {{$x := …}} is written where used', async () => {
  const { dest } = await shared;
  const hbs = await readFile(path.join(dest, 'templates/plainactions/0/docker-compose.yml.hbs'), 'utf8');
  assert.doesNotMatch(hbs, /\$image|\$plain|\.Values/);
  const m = await render('plainactions');
  assert.equal(m.services.app.image, 'example/app:1.2');
  assert.equal(m.services.sidecar.image, 'example/sidecar:3', 'a literal prints itself');
  assert.deepEqual(m.services.app.command, ['app', '--serve']);
  assert.deepEqual(m.services.sidecar.environment, { IMAGE_0: 'example/app:1.2', IMAGE_1: 'example/app:1.2' }, 'inside range too');
  const debug = await render('plainactions', { DEBUG: true, TAG: '2.0' });
  assert.deepEqual(debug.services.app.command, ['app', '--debug', '--serve']);
  assert.equal(debug.services.app.image, 'example/app:2.0');
  assert.ok((await findings('plainactions')).some((f) => f.feature === 'docker-compose.yml' && /Go template actions/.test(f.message)));
});

test('a volume named from part of an answer is declared under the rendered name, once, with the service\'s volume_driver', async () => {
  const m = await render('prefixed');
  assert.deepEqual(Object.keys(m.volumes).sort(), ['shop-db', 'webdata']);
  assert.equal(m.volumes['shop-db'].driver, 'local', 'volume_driver left unanswered is Docker\'s default');
  const other = await render('prefixed', { PFX: 'acme', DRIVER: 'convoy', DATA: '/srv/data' });
  assert.ok(other.volumes['acme-db'] && !Object.keys(other.volumes).some((v) => v.includes('/')), 'a path answer declares no volume');
  assert.equal(other.volumes['acme-db'].driver, 'convoy');
  const named = await render('prefixed', { DATA: 'shared-data' });
  assert.deepEqual(Object.keys(named.volumes).sort(), ['shop-db', 'webdata'], 'the answer is only a volume in the branch Go takes');
});

test('sidekicks: one another service mounts keeps its network; one that would make a cycle keeps its own; others share the primary\'s', async () => {
  const m = await render('chain');
  assert.equal(m.services['store-data'].network_mode, undefined);
  assert.equal(m.services.helper.network_mode, undefined, 'agent → configure → helper: sharing agent\'s namespace would be a cycle');
  assert.equal(m.services.store.network_mode, 'host');
  const f = await findings('chain');
  assert.ok(f.some((x) => x.service === 'store-data' && /store mounts its volumes/.test(x.message)));
  assert.ok(f.some((x) => x.service === 'helper' && /agent → configure → helper → agent/.test(x.message)));
});

test('a key written twice in one map keeps the last, as Rancher did, and says so; the same key in two branches is not a duplicate', async () => {
  const m = await render('twice');
  assert.equal(m.services.app.labels.role, 'second');
  assert.deepEqual(m.services.app.command, ['run-a']);
  assert.deepEqual((await render('twice', { MODE: 'b' })).services.app.command, ['run-b']);
  const f = (await findings('twice')).filter((x) => x.feature === 'duplicate key');
  assert.equal(f.length, 1);
  assert.match(f[0].message, /services\.app\.labels is written twice; the last one was kept/);
});

test('Rancher-isms: pasted YAML, Rancher keys in docker-compose.yml, millisecond answers, bare request lines, number arguments, unnamed host labels', async () => {
  const m = await render('rancherisms');
  const app = m.services.app;
  assert.deepEqual(app.command, ['serve', '--timeout', '1000'], 'a number answer stays a word');
  assert.deepEqual(m.volumes.data.driver_opts ?? {}, {}, 'the pasted key is left out while its answer is empty');
  assert.match(app.healthcheck!.test[1], /http:\/\/127\.0\.0\.1:8080\/healthz/, 'a request line that is only a path is HTTP');
  assert.equal(app.healthcheck!.interval_ms, 3000, 'an answer given in milliseconds');
  assert.equal(app.healthcheck!.retries, 3);
  assert.deepEqual(app.deploy.placement.constraints.map((c) => c.text), ['node.labels.zone == a']);
  assert.equal((await render('rancherisms', { CHECK_MS: 500 })).services.app.healthcheck!.interval_ms, 500);
  const f = await findings('rancherisms');
  const about = (feature: string): Finding | undefined => f.find((x) => x.feature === feature);
  assert.equal(about('driver_opts')?.kind, 'decision');
  assert.match(about('driver_opts')!.message, /answer DRIVER_OPT pasted in as YAML/);
  assert.equal(about('network_driver')?.kind, 'decision');
  assert.ok(f.some((x) => x.kind === 'decision' && /host label "example\.com\/storage" cannot be named/.test(x.message)));
});
