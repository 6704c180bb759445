// The crash harness: a real `berth` process SIGKILLed at a chosen step — the n-th Docker event of the stack on a
// harness engine (its event stream drives the kill), or a failpoint of the git layer (lib/failpoint.ts) — and
// what the next run must find: every replica once, under its name, on the new version, nothing `-old-` left
// over, and exactly one ledger record per deploy.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { BERTH_BIN, REPO_ROOT } from './converge-fixtures.ts';

const run = promisify(execFile);

/** Container events that are steps of an update (exec_* of healthchecks come and go with timing, so they are not). */
const STEP_ACTIONS = /^(create|start|kill|die|stop|rename|destroy|health_status.*)$/;

export interface StepEvent {
  action: string;
  name: string;
  id: string;
}

export const describeEvent = (e: StepEvent) => `${e.action} ${e.name}`;

/** Follows a host's container events for one stack; `onEvent` sees each step as it happens. */
export async function followSteps(docker: Docker, stack: string, onEvent: (e: StepEvent, index: number) => void): Promise<{ events: StepEvent[]; stop(): void }> {
  const stream = (await docker.getEvents({ filters: JSON.stringify({ type: ['container'], label: [`berth.stack=${stack}`] }) })) as NodeJS.ReadableStream & { destroy(): void };
  const events: StepEvent[] = [];
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const raw = JSON.parse(line) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } };
      if (!STEP_ACTIONS.test(raw.Action)) continue;
      const e = { action: raw.Action, name: raw.Actor.Attributes.name ?? '', id: raw.Actor.ID };
      events.push(e);
      onEvent(e, events.length - 1);
    }
  });
  stream.on('error', () => {});
  return { events, stop: () => stream.destroy() };
}

export interface Killed {
  /** The process was SIGKILLed (false: it ended on its own before the kill point). */
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** What it was killed at: the event or failpoint. */
  at?: string;
}

/** A berth process; `kill` SIGKILLs it, `done` resolves when it is gone. */
export function startBerth(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: { stdout: string; stderr: string }; done: Promise<number | null> } {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, BERTH_LOG_LEVEL: 'info', BERTH_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString('utf8')));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, done };
}

/** Runs `berth ARGS` and SIGKILLs it at the `index`-th step event of `stack` on `docker`. */
export async function killAtEvent(docker: Docker, stack: string, index: number, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Killed> {
  let at: string | undefined;
  let p: ReturnType<typeof startBerth> | undefined;
  const follow = await followSteps(docker, stack, (e, i) => {
    if (i !== index || !p) return;
    at = describeEvent(e);
    p.child.kill('SIGKILL');
  });
  p = startBerth(args, env);
  const code = await p.done;
  follow.stop();
  return { killed: p.child.signalCode === 'SIGKILL', code, ...p.out, at };
}

/** Runs `berth ARGS` with a failpoint armed and SIGKILLs it when it gets there. */
export async function killAtFailpoint(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Killed> {
  const p = startBerth(args, { ...env, BERTH_FAILPOINTS: name });
  p.child.stderr!.on('data', () => {
    if (p.out.stderr.includes(`berth failpoint: ${name}\n`)) p.child.kill('SIGKILL');
  });
  const code = await p.done;
  return { killed: p.child.signalCode === 'SIGKILL', code, ...p.out, at: name };
}

/** Every container of the stack on one engine: `name state image health`, sorted. */
export async function containersOf(docker: Docker, stack: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
  const out: string[] = [];
  for (const c of list) {
    const info = await docker.getContainer(c.Id).inspect();
    out.push(`${info.Name.replace(/^\//, '')} ${info.State.Status} ${info.Config.Image}${info.State.Health ? ` ${info.State.Health.Status}` : ''}`);
  }
  return out.sort();
}

/** The commits of the ledger branch that touched the stack's folder, oldest first: `subject`. */
export async function ledgerRecords(repo: string, stack: string, branch = 'berth/deployed'): Promise<string[]> {
  const { stdout } = await run('git', ['-C', repo, 'log', '--reverse', '--format=%s', branch, '--', `stacks/${stack}`]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean);
}

export async function git(repo: string, ...args: string[]): Promise<string> {
  return (await run('git', ['-C', repo, ...args])).stdout;
}

export function assertKilled(k: Killed, what: string): void {
  assert.ok(k.killed, `${what}: the process ended (code ${k.code}) before the kill point\n${k.stderr.slice(-2000)}`);
}
