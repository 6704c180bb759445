// A stack file removed from the environment under `berth serve`: the stack is pruned from h1 (containers and
// networks; its named volume kept), the removal is one commit on the ledger branch, and a person's `git revert` of
// that commit brings the stack back. A stack file that fails to parse is not a removed stack, and a stack another
// environment deployed on the same host is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { dockerGate, waitFor } from '../harness/env.ts';
import { useHarnessStacks, writeCatalog } from './converge-fixtures.ts';
import { ServeWorld, type Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const STACK = 'sv-rm';
const KEEP = 'sv-rm-keep';
const FOREIGN = 'sv-rm-foreign';
const worlds: ServeWorld[] = [];
const serves: Serve[] = [];

useHarnessStacks(gate, [STACK, KEEP, FOREIGN], async () => {
  for (const s of serves) await s.stop();
  for (const w of worlds) await w.dispose();
  if (gate.ok) await gate.docker('h1').getVolume(`${STACK}_data`).remove().catch(() => {});
});

/** A service with a named volume and a network of its own: what a prune removes and what it keeps. */
const WEBVOL = `services:
  web:
    image: berth-test/web:{{web_version}}
    command: [httpd, -f, -p, "80", -h, /www]
    stop_grace_period: 1s
    volumes: [data:/data]
    networks: [back]
volumes:
  data: {}
networks:
  back: {}
`;

function git(args: string[], cwd?: string): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: cwd ?? '/tmp', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Ops Person', GIT_AUTHOR_EMAIL: 'ops@example.com', GIT_COMMITTER_NAME: 'Ops Person', GIT_COMMITTER_EMAIL: 'ops@example.com' };
  return promisify(execFile)('git', args, { cwd, env }).then((r) => r.stdout);
}

test('a removed stack file prunes the stack (volume kept), records it on the ledger, and a revert brings it back', gate.opts, async () => {
  const w = await ServeWorld.create(gate, STACK, { web_version: '1' });
  worlds.push(w);
  writeCatalog(w.catalogDir, { webvol: { description: 'web with a volume', versions: { '1.0.0': { questions: [{ variable: 'web_version', type: 'string', default: '1' }], compose: WEBVOL } } } });
  const stackText = (v: string) => stringify({ template: 'webvol', version: '1.0.0', answers: { web_version: v } });
  w.git.commitFiles('env', { [`stacks/${STACK}.yml`]: stackText('1'), [`stacks/${KEEP}.yml`]: w.stackYaml({ web_version: '1' }) }, { message: 'two stacks' });
  const docker = gate.docker('h1');
  // Another environment's stack on the same host: never Berth's to prune, whatever this environment's files say.
  const foreign = await docker.createContainer({
    name: `${FOREIGN}-web-1`, Image: 'berth-test/busybox:1', Cmd: ['sleep', '3600'],
    Labels: { 'berth.managed': 'true', 'berth.stack': FOREIGN, 'berth.service': 'web', 'berth.number': '1', 'berth.owner': 'https://git.example.com/someone/else', 'berth-test': 'true' },
  });
  await foreign.start();

  const s = await w.serve({ intervalSeconds: 2 });
  serves.push(s);
  await w.converged('1');
  await waitFor(async () => (await s.json<StackState>(`/api/stacks/${KEEP}`)).status === 'Ready', { what: `${KEEP} Ready` });
  const deployed = (await waitFor(async () => {
    const st = await s.json<StackState>(`/api/stacks/${STACK}`);
    return st.status === "Ready" && st.deployedCommit ? st : undefined;
  }, { what: `${STACK} Ready and recorded` })).deployedCommit!;
  await w.ledgerUpTo(deployed);
  const networks = async () => (await docker.listNetworks({ filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) })).map((n) => n.Name).sort();
  assert.deepEqual(await networks(), [`${STACK}_back`]);

  // 1. A stack file that fails to parse is not a removed stack: the stack stalls, its containers stay.
  let sha = w.git.commitFiles('env', { [`stacks/${STACK}.yml`]: 'template: [webvol\n' }, { message: 'broken stack file' });
  assert.equal((await s.hook('github', w.githubPush(sha))).status, 202);
  const stalled = await waitFor(async () => {
    const st = await s.json<StackState>(`/api/stacks/${STACK}`);
    return st.desiredCommit === sha && st.status === 'Stalled' && st;
  }, { what: 'the broken file stalls the stack' });
  assert.equal(stalled.reason, 'STACK_INVALID');
  // Two timer passes (2 s each) on the broken file.
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal((await w.containers()).length, 1, 'a parse error removes nothing');
  assert.deepEqual(await networks(), [`${STACK}_back`]);
  assert.equal((await w.ledger())[0].sha, deployed, 'and records nothing');

  // 2. The file removed: containers and network go, the named volume stays, one ledger commit says why.
  sha = w.git.commitFiles('env', { [`stacks/${STACK}.yml`]: null }, { message: 'retire sv-rm' });
  assert.equal((await s.hook('github', w.githubPush(sha))).status, 202);
  await waitFor(async () => (await w.containers()).length === 0 && (await networks()).length === 0, { timeoutMs: 60_000, what: 'the stack pruned from h1' });
  assert.ok(await docker.getVolume(`${STACK}_data`).inspect(), 'the named volume is kept');
  const removal = await waitFor(async () => {
    const l = await w.ledger();
    return l[0] && l[0].sha !== deployed && l;
  }, { timeoutMs: 30_000, what: 'the removal pushed to the ledger' });
  assert.match(removal[0].message, new RegExp(`^remove ${STACK}: stack file removed\\n`));
  assert.match(removal[0].message, /^Removed from h1; named volumes are kept\.$/m);
  assert.match(removal[0].message, /^Berth-Mode: remove$/m);
  assert.match(removal[0].message, new RegExp(`^Berth-Environment-Commit: ${sha}$`, 'm'));
  const pruneLog = s.logs.find((l) => l.stack === STACK && String(l.msg).includes('its file was removed; removed it from h1'));
  assert.ok(pruneLog, 'the prune is logged');
  const listed = await s.json<StackState[]>('/api/stacks');
  assert.deepEqual(listed.map((x) => x.stack), [KEEP]);
  // Further passes: nothing more to remove, nothing more recorded; the other stacks are untouched.
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal((await w.ledger()).length, removal.length, 'no second removal commit');
  assert.equal((await docker.getContainer(foreign.id).inspect()).State.Running, true, "another environment's stack is left alone");
  assert.equal((await s.json<StackState>(`/api/stacks/${KEEP}`)).status, 'Ready');

  // 3. A person reverts the removal on the ledger branch: the stack runs again, from the recorded state.
  const clone = path.join(w.catalogDir, '..', 'person');
  mkdirSync(clone, { recursive: true });
  await git(['clone', '--quiet', w.git.authedUrl('env'), clone]);
  await git(['checkout', '--quiet', '-B', 'berth/deployed', 'origin/berth/deployed'], clone);
  await git(['revert', '--no-edit', removal[0].sha], clone);
  await git(['push', '--quiet', 'origin', 'berth/deployed'], clone);
  // A rollback runs the pinned image: the container names web:1 by its image ID.
  const web1 = (await docker.getImage('berth-test/web:1').inspect()).Id;
  await waitFor(async () => {
    const cs = await docker.listContainers({ filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) });
    return cs.length === 1 && cs[0].ImageID === web1 && cs[0].State === 'running';
  }, { timeoutMs: 60_000, what: 'the reverted removal deployed: web:1 running again' });
  assert.deepEqual(await networks(), [`${STACK}_back`]);
  const back = await waitFor(async () => {
    const l = await w.ledger();
    return /^roll back /.test(l[0]?.message ?? '') && l;
  }, { timeoutMs: 30_000, what: 'the rollback recorded' });
  assert.match(back[0].message, new RegExp(`^roll back ${STACK} to ${deployed.slice(0, 7)}`));
  assert.match(back[1].message, /^Revert "remove sv-rm: stack file removed"/);

  // 4. The file restored (web:2): the stack renders from the environment again.
  sha = w.git.commitFiles('env', { [`stacks/${STACK}.yml`]: stackText('2') }, { message: 'sv-rm is back' });
  assert.equal((await s.hook('github', w.githubPush(sha))).status, 202);
  await w.converged('2', 1, 60_000);
  await waitFor(async () => (await s.json<StackState>(`/api/stacks/${STACK}`)).status === 'Ready', { what: `${STACK} Ready again` });
});
