// serve's ledger pushes in the background (deferPush): a push that failed is not tried again at every later commit
// (each try carries every commit so far, and a timed-out one keeps building its pack) but after a backoff, and
// flush() — serve stopping — tries at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import git from 'isomorphic-git';
import { StandaloneEngine } from '../../engines/standalone/engine.ts';
import type { EngineDriver } from '../../engines/standalone/driver.ts';
import { Ledger, type RecordContext } from '../../ledger/ledger.ts';
import type { StackOutcome } from '../../controller/reconcile.ts';
import type { DesiredStack, ObservedHost } from '../../engines/standalone/types.ts';
import type { StackSpec } from '../../environment/types.ts';
import { createLogger } from '../../lib/log.ts';
import { desired, host, service, stackModel } from './controller-fixtures.ts';

const hosts = [host('h1')];
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const spec = (name: string): StackSpec => ({ name, file: `stacks/${name}.yml`, template: 'acme', version: '1.0.0', answers: {}, hosts: {} });
const drivers: Record<string, EngineDriver> = {
  h1: {
    host: hosts[0],
    observe: async (stack: string): Promise<ObservedHost> => ({
      host: 'h1', reachable: true, networks: [], volumes: [], images: {},
      containers: [{ id: `${stack}web`, name: `${stack}-web-1`, service: 'web', number: 1, image: 'x', imageId: 'sha256:abc', state: 'running' as const }],
    }),
    imageDigests: async (refs: string[]) => Object.fromEntries(refs.map((r) => [r, { id: r, repoDigests: [] }])),
  } as unknown as EngineDriver,
};

function outcome(stack: string): StackOutcome {
  const d: DesiredStack = desired(stackModel(stack, [service('web', { image: 'acme/web:1' })]), hosts, 'acme@1.0.0');
  const observed = { name: stack, hosts: { h1: { host: 'h1', reachable: true, containers: [], networks: [], volumes: [] } } };
  const plan = { stack, source: d.source, errors: [], hosts: [{ host: 'h1', operations: [] }] };
  return { stack, why: 'test', outcome: 'converged', desired: d, observed, plan, startedAt: '', durationMs: 0 };
}

const ctx = (stack: string): RecordContext => ({
  spec: spec(stack), engine: new StandaloneEngine(drivers), sources: { environment: 'e1'.padEnd(40, '0'), catalogs: {} }, trigger: { kind: 'timer', why: 'timer' }, mode: 'render', catalog: 'main',
});

/** A port nothing listens on: every push fails at once (connection refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('after a failed background push, later commits do not push again until the backoff; flush() pushes at once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-ledger-push-'));
  dirs.push(dir);
  await git.init({ fs, dir, defaultBranch: 'main' });
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }) });
  const ledger = new Ledger({ dir, log, deferPush: true, remote: { url: `http://127.0.0.1:${await closedPort()}/env.git` } });
  const failures = () => lines.filter((l) => String(l.msg).startsWith('ledger: push failed')).length;

  const first = await ledger.record(outcome('s1'), ctx('s1'));
  assert.ok(first, 'the first record is a commit');
  for (let i = 0; i < 50 && failures() === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(failures(), 1, 'the first push was tried and failed');
  assert.equal(lines.find((l) => String(l.msg).startsWith('ledger: push failed'))!.retryInMs, 15_000);

  // Four more commits, each of which would have started another push (carrying every commit) at once.
  for (const s of ['s2', 's3', 's4', 's5']) assert.ok(await ledger.record(outcome(s), ctx(s)));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(failures(), 1, 'no push was tried during the backoff');

  // Stopping: the pending commits are tried once more at once, and flush() returns.
  await ledger.flush();
  assert.equal(failures(), 2);
  assert.equal(lines.at(-1)!.retryInMs, 30_000, 'the backoff doubles');
});
