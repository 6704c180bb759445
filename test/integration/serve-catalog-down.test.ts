// One unreachable catalog fails only the stacks that use it (docs/security.md): `berth serve` against an
// environment on the harness git server naming two url: catalogs, one served by that server and one whose
// server is down. The stack on the reachable catalog deploys on h1; the other is not Ready, its error names the
// catalog; the warning is logged once, not on every tick; when the catalog's server comes up, its stack deploys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { dockerGate, tempDir, waitFor } from '../harness/env.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const UP = 'cd-up';
const DOWN = 'cd-down';
const TOKEN = 'catalog-down-t0ken';
const tmp = tempDir('berth-catalog-down-');
const servers: GitServer[] = [];
let serve: Serve | undefined;

useHarnessStacks(gate, [UP, DOWN], async () => {
  await serve?.stop();
  for (const s of servers) await s.close().catch(() => {});
  tmp.remove();
});

const CATALOG = {
  'templates/sleeper/config.yml': 'name: sleeper\ndescription: one sleeping service\n',
  'templates/sleeper/1.0.0/berth.yml': 'version: 1.0.0\ndescription: sleeper\nquestions: []\n',
  'templates/sleeper/1.0.0/docker-compose.yml.hbs': 'services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "3600"]\n    stop_grace_period: 1s\n',
};

async function running(stack: string): Promise<number> {
  const list = await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
  return list.filter((c) => c.State === 'running').length;
}

test('an unreachable url: catalog fails only its stacks; the others deploy; its warning is logged once; it recovers', gate.opts, async () => {
  const git = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
  servers.push(git);
  git.createBareRepo('catalog');
  git.commitFiles('catalog', CATALOG, { message: 'catalog' });
  // The second catalog's server: its repository is made, then the server is closed, so its port refuses.
  const other = await startGitServer({ root: path.join(tmp.path, 'git-other') });
  servers.push(other);
  other.createBareRepo('vendor');
  other.commitFiles('vendor', CATALOG, { message: 'vendor catalog' });
  const vendorUrl = other.repoUrl('vendor');
  await other.close();

  git.createBareRepo('env');
  const berth = {
    catalogs: [{ name: 'vendor', url: vendorUrl, branch: 'main' }, { name: 'ours', url: git.repoUrl('catalog'), branch: 'main' }],
    hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost }],
  };
  git.commitFiles('env', {
    'berth.yml': stringify(berth),
    [`stacks/${UP}.yml`]: stringify({ template: 'sleeper', version: '1.0.0', catalog: 'ours' }),
    // No catalog: the default is the first one declared, the unreachable one.
    [`stacks/${DOWN}.yml`]: stringify({ template: 'sleeper', version: '1.0.0' }),
  }, { message: 'env' });

  serve = await Serve.start([
    'serve', '--env', git.repoUrl('env'), '--env-token-env', 'CD_TOKEN', '--listen', '127.0.0.1:0',
    '--interval-seconds', '1', '--cache-dir', path.join(tmp.path, 'cache'), '--deadline', '1m',
  ], { CD_TOKEN: TOKEN });

  await waitFor(async () => (await running(UP)) === 1, { timeoutMs: 60_000, what: `${UP} running on h1` });
  const up = await waitFor(async () => {
    const s = await serve!.json<StackState>(`/api/stacks/${UP}`);
    return s.status === 'Ready' && s;
  }, { timeoutMs: 30_000, what: `${UP} Ready` });
  assert.equal(up.status, 'Ready');

  const down = await waitFor(async () => {
    const s = await serve!.json<StackState>(`/api/stacks/${DOWN}`);
    return s.lastError ? s : undefined;
  }, { timeoutMs: 30_000, what: `${DOWN} to report its error` });
  assert.deepEqual([down.status, down.reason], ['Failed', 'CATALOG_UNAVAILABLE']);
  assert.match(down.lastError!, /^stack cd-down uses catalog vendor, which cannot be synced: .*vendor\.git.*ECONNREFUSED/);
  assert.equal(await running(DOWN), 0);

  const env = await serve.json<{ error?: string; catalogs: Record<string, string> }>('/api/environment');
  assert.equal(env.error, undefined, 'the environment itself is fine');
  assert.equal(env.catalogs.ours, git.revParse('catalog', 'refs/heads/main'));

  // Several ticks later: the unreachable catalog was warned about once, not on every tick.
  await sleep(5_000);
  const about = (l: Record<string, unknown>) => JSON.stringify(l).includes(vendorUrl.replace(/^https?:\/\//, '').replace(/\.git$/, ''));
  const show = (ls: Array<Record<string, unknown>>) => ls.map((l) => JSON.stringify(l)).join('\n');
  const warnings = serve.logs.filter((l) => l.level === 40 && about(l));
  assert.equal(warnings.length, 1, `one warning about the unreachable catalog, got:\n${show(warnings)}`);
  assert.match(String(warnings[0].msg), /^cannot sync .*vendor\.git/);
  // The stack's own failure is logged per attempt, and attempts back off (10 s, then doubling): not every tick.
  const failures = serve.logs.filter((l) => l.level === 50 && l.stack === DOWN);
  assert.ok(failures.length >= 1 && failures.length <= 2, `the failing stack is retried with backoff, got:\n${show(failures)}`);
  assert.ok(serve.logs.filter((l) => l.level === 50 && l.stack === UP).length === 0, 'the other stack has no error');
  assert.ok(!JSON.stringify(serve.logs).includes(TOKEN), 'the token is never logged');

  // The catalog's server comes back on the same port: the stack that uses it deploys, and that is said once.
  const port = Number(new URL(vendorUrl).port);
  const back = await startGitServer({ root: path.join(tmp.path, 'git-other'), port });
  servers.push(back);
  await waitFor(async () => (await running(DOWN)) === 1, { timeoutMs: 90_000, what: `${DOWN} running once its catalog is reachable` });
  await waitFor(async () => (await serve!.json<StackState>(`/api/stacks/${DOWN}`)).status === 'Ready', { timeoutMs: 30_000, what: `${DOWN} Ready` });
  assert.equal(await running(UP), 1);
});
