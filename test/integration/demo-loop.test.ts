// The README's demo as a person runs it: `berth demo` left running (it watches its environment repository),
// the hints it prints followed by hand — a commit redeploys, `berth rollback` rolls back — then Ctrl-C.
// Against the default engine (/var/run/docker.sock) with the nginx stand-in loaded, like demo.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../harness/env.ts';
import type { HistoryEntry } from '../../ledger/ledger.ts';
import type { StackState } from '../../controller/stack-state.ts';
import { BERTH_BIN, REPO_ROOT, runBerth } from './converge-fixtures.ts';
import { containers, freePort, servedTitle, STACK, useDemoEngine } from './demo-fixtures.ts';

const ENGINE = { DOCKER_HOST: 'unix:///var/run/docker.sock' };
// git as a person's would be, minus their config: no global or system file, an identity from the environment.
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t',
};
let demo: ChildProcess | undefined;
const { opts, folder } = await useDemoEngine('berth-demo-loop-', () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
});

function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: { ...process.env, ...GIT_ENV }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve(stdout);
    });
  });
}

test('berth demo: the loop deploys, a commit redeploys, berth rollback rolls back, Ctrl-C leaves the stack running', { ...opts, timeout: 150_000 }, async (t) => {
  const dir = path.join(folder(), 'demo');
  const port = await freePort();
  let listen = await freePort();
  while (listen === port) listen = await freePort();

  let stdout = '';
  let stderr = '';
  const proc = spawn(process.execPath, [BERTH_BIN, 'demo', '--dir', dir, '--port', String(port), '--listen', `127.0.0.1:${listen}`, '--interval-seconds', '1'], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ENGINE, BERTH_LOG_FORMAT: 'json' },
  });
  demo = proc;
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    if (process.env.BERTH_TEST_VERBOSE) process.stderr.write(c);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const output = () => `\n--- stdout\n${stdout}\n--- stderr\n${stderr.split('\n').slice(-40).join('\n')}`;
  // Every wait fails at once, with the demo's output, if the demo dies on the way.
  const whileRunning = async <T>(what: Promise<T>): Promise<T> => {
    const died = exited.then(({ code, signal }) => {
      throw new Error(`berth demo exited early (${code ?? signal})${output()}`);
    });
    died.catch(() => {});
    try {
      return await Promise.race([what, died]);
    } catch (e) {
      throw proc.exitCode === null && proc.signalCode === null ? new Error(`${(e as Error).message}${output()}`) : e;
    }
  };
  const stackState = async () => {
    const r = await fetch(`http://127.0.0.1:${listen}/api/stacks`);
    return ((await r.json()) as StackState[]).find((s) => s.stack === STACK);
  };
  const head = async () => (await run('git', ['rev-parse', 'HEAD'], dir)).trim();
  const ledger = async () => (await run('git', ['log', '--format=%s', 'berth/deployed'], dir)).split('\n').filter(Boolean);
  const deploys = async () => (await ledger()).filter((s) => s.startsWith(`deploy ${STACK}`));

  // 1. It starts, deploys the site, and says so on /api/stacks.
  await whileRunning(servedTitle(port, 'Hello from Berth', 60_000));
  const first = await whileRunning(waitFor(async () => {
    const s = await stackState();
    return s?.status === 'Ready' && s.deployedCommit ? s : undefined;
  }, { timeoutMs: 30_000, what: `${STACK} Ready on /api/stacks` }));
  assert.equal(first.desiredCommit, await head());
  const deployed = await containers();
  assert.deepEqual(deployed.map((c) => c.name), ['static-site-lb-1', 'static-site-web-1', 'static-site-web-2']);

  // What the README relies on, printed before the loop starts.
  const hint = (label: string) => {
    const m = new RegExp(`^  ${label} +(.+)$`, 'm').exec(stdout);
    assert.ok(m, `no "${label}" line in:\n${stdout}`);
    return m[1].replace(/ {2,}\(.*\)$/, '');
  };
  const rel = path.relative(REPO_ROOT, dir);
  assert.equal(hint('open'), `http://localhost:${port}/`);
  assert.equal(hint('status'), `http://127.0.0.1:${listen}/api/stacks`);
  const redeploy = hint('redeploy');
  assert.ok(redeploy.startsWith(`cd ${rel} && `) && redeploy.endsWith('git commit -qam "New title"'), redeploy);
  assert.equal(hint('history'), `npx berth history ${STACK} --env ${rel}`);
  assert.equal(hint('roll back'), `npx berth rollback ${STACK} --env ${rel}`);
  assert.match(stdout, /^Ctrl-C stops Berth; the stack keeps running\.$/m);

  // 2. Redeploy as printed: the line itself, in a shell, from where the demo was started.
  await run('sh', ['-c', redeploy], REPO_ROOT);
  assert.match(readFileSync(path.join(dir, 'stacks', 'static-site.yml'), 'utf8'), /^ {2}site_title: Hello again$/m);
  assert.equal((await run('git', ['log', '-1', '--format=%s'], dir)).trim(), 'New title');
  assert.equal((await run('git', ['status', '--porcelain'], dir)).trim(), '', 'the commit took the edit');
  const committed = await head();
  const t0 = Date.now();
  await whileRunning(servedTitle(port, 'Hello again', 30_000));
  const pickedUp = Date.now() - t0;
  assert.ok(pickedUp < 15_000, `the loop took ${pickedUp} ms to serve the commit`);
  t.diagnostic(`the new title was served ${pickedUp} ms after the commit`);
  await whileRunning(waitFor(async () => {
    const s = await stackState();
    return s?.status === 'Ready' && s.desiredCommit === committed;
  }, { timeoutMs: 20_000, what: `${STACK} Ready at ${committed.slice(0, 7)}` }));
  const redeployed = await containers();
  assert.deepEqual(redeployed.map((c) => c.name), ['static-site-lb-1', 'static-site-web-1', 'static-site-web-2'], 'no old replicas left over');
  for (const c of redeployed.filter((x) => x.name.includes('-web-'))) assert.ok(c.env.includes('SITE_TITLE=Hello again'), `${c.name}: ${c.env.join(' ')}`);

  // One ledger commit per deploy: the first and the redeploy (timer ticks that change nothing write none).
  await whileRunning(waitFor(async () => (await deploys()).length === 2, { timeoutMs: 15_000, what: 'two deploys on berth/deployed' }));
  const subjects = await deploys();
  assert.match(subjects[0], /^deploy static-site: static-site 1\.0\.0 on 1 host/, subjects.join('\n'));
  assert.match(subjects[1], /^deploy static-site: static-site 1\.0\.0 on 1 host/, subjects.join('\n'));

  // 3. Roll back as printed (`npx berth` is bin/berth.js here), from the same folder.
  const back = await runBerth(hint('roll back').split(' ').slice(2), { env: ENGINE, timeoutMs: 60_000 });
  assert.equal(back.code, 0, back.stdout + back.stderr);
  const revert = /\(commit ([0-9a-f]{7})\)/.exec(back.stdout)?.[1];
  assert.ok(revert, back.stdout);
  assert.match(back.stdout, /berth serve converges the hosts to it on its next run/);
  await whileRunning(servedTitle(port, 'Hello from Berth', 30_000));

  // History names the rollback first: Berth's record of deploying it, over the revert `berth rollback` wrote.
  const history = async () => {
    const h = await runBerth([...hint('history').split(' ').slice(2), '--json'], { timeoutMs: 60_000 });
    assert.equal(h.code, 0, h.stdout + h.stderr);
    return JSON.parse(h.stdout) as HistoryEntry[];
  };
  const rows = await whileRunning(waitFor(async () => {
    const h = await history();
    return h[0]?.subject.startsWith(`roll back ${STACK} to `) && h;
  }, { timeoutMs: 20_000, intervalMs: 500, what: 'the rollback recorded on berth/deployed' }));
  assert.equal(rows[0].mode, 'rollback', JSON.stringify(rows[0]));
  assert.equal(rows[0].outcome, 'converged', JSON.stringify(rows[0]));
  assert.equal(rows[1].commit.slice(0, 7), revert, JSON.stringify(rows, null, 2));
  assert.equal(rows[1].trigger, 'revert');
  assert.deepEqual(rows.slice(2).map((r) => r.subject), subjects, 'then the two deploys, newest first');
  assert.equal(rows.length, 4, JSON.stringify(rows, null, 2));
  // Recorded after the rollout: the replicas set aside are gone, the new ones serve the old title.
  const rolledBack = await containers();
  assert.deepEqual(rolledBack.map((c) => c.name), ['static-site-lb-1', 'static-site-web-1', 'static-site-web-2'], 'no old replicas left over');
  for (const c of rolledBack.filter((x) => x.name.includes('-web-'))) assert.ok(c.env.includes('SITE_TITLE=Hello from Berth'), `${c.name}: ${c.env.join(' ')}`);

  // The timer carried out the rollback; that is a person's intent, not drift.
  const metrics = await (await fetch(`http://127.0.0.1:${listen}/metrics`)).text();
  assert.doesNotMatch(metrics, /^berth_drift_heals_total\{stack="static-site"\} [1-9]/m);
  assert.doesNotMatch(stderr, /drift undone/);

  // The rollback stays in force over the next ticks, and they record nothing.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal((await history()).length, 4);
  await servedTitle(port, 'Hello from Berth', 5_000);
  // plan and status see the rollback as what should run, not as something to undo.
  const planned = await runBerth(['plan', '--env', dir], { env: ENGINE, timeoutMs: 60_000 });
  assert.equal(planned.code, 0, planned.stdout + planned.stderr);
  assert.match(planned.stdout, /No changes: 3 unchanged\./, planned.stdout);
  const status = await runBerth(['status', '--env', dir], { env: ENGINE, timeoutMs: 60_000 });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /: converged$/m, status.stdout);
  const settled = await containers();

  // 4. Ctrl-C: Berth stops in time; the stack keeps running, untouched.
  assert.equal(proc.exitCode, null, `berth demo exited early${output()}`);
  const t1 = Date.now();
  proc.kill('SIGINT');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 35_000);
  const end = await exited.finally(() => clearTimeout(timer));
  t.diagnostic(`berth demo stopped ${Date.now() - t1} ms after SIGINT (${end.code ?? end.signal})`);
  assert.ok(end.code === 0 || end.signal === 'SIGINT', `berth demo ended with ${end.code ?? end.signal}${output()}`);
  const after = await containers();
  assert.deepEqual(after.map((c) => `${c.name} ${c.state}`), ['static-site-lb-1 running', 'static-site-web-1 running', 'static-site-web-2 running']);
  assert.deepEqual(after.map((c) => c.id), settled.map((c) => c.id), 'the same containers');
  await servedTitle(port, 'Hello from Berth', 5_000);
});
