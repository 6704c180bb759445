// Shared by the tests of `berth demo` (demo.test.ts: --once; demo-loop.test.ts: the watching loop). The demo
// always deploys the stack static-site to the default engine (/var/run/docker.sock), so these tests own that
// stack there: they clean it before and after, and hold a lock on it across processes while they run.
import { after, before } from 'node:test';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { httpGet, isCI, pingDocker, removeLabeled, tempDir, waitFor } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { STATIC_SITE_IMAGES } from '../harness/standins.ts';

export const SOCKET = '/var/run/docker.sock';
export const STACK = 'static-site'; // the demo's stack name: stacks/static-site.yml
export const docker = new Docker({ socketPath: SOCKET });
export const unavailable = `the default Docker engine does not answer on ${SOCKET}; start it with \`bash test/harness/hosts.sh start --default\``;

/** Whether the default engine answers (asked once per process). */
export function defaultEngineReachable(): Promise<boolean> {
  return (reachable ??= pingDocker(docker, 5000));
}
let reachable: Promise<boolean> | undefined;

/**
 * A demo test file's hold on the default engine: before its tests the stack lock taken, the stack cleaned and
 * its images loaded; after them `teardown` (stop a demo still running), the stack cleaned and the lock given
 * back. `opts` skips the tests without an engine unless CI=true; `folder()` is the file's temp folder.
 */
export async function useDemoEngine(tmpPrefix: string, teardown?: () => void): Promise<{ opts: { skip?: string }; folder: () => string }> {
  const up = await defaultEngineReachable();
  const tmp = up ? tempDir(tmpPrefix) : undefined;
  let release: (() => void) | undefined;
  before(async () => {
    if (!up) return;
    release = await lockDemoStack();
    await cleanDemoStack();
    await ensureImages(docker, [...STATIC_SITE_IMAGES]);
  });
  after(async () => {
    teardown?.();
    if (up) await cleanDemoStack();
    release?.();
    tmp?.remove();
  });
  return {
    // Without CI a missing engine skips; with CI=true the tests run and fail.
    opts: up || isCI() ? {} : { skip: unavailable },
    folder: () => {
      if (!tmp) throw new Error(unavailable);
      return tmp.path;
    },
  };
}

/** Containers, networks and volumes of the demo stack on the default engine (by Berth's label and compose's). */
export async function cleanDemoStack(): Promise<void> {
  await removeLabeled(docker, `berth.stack=${STACK}`);
  await removeLabeled(docker, `com.docker.compose.project=${STACK}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface DemoContainer { name: string; id: string; hostname: string; startedAt: string; state: string; env: string[] }

/** The demo stack's containers on the default engine, all states, inspected, by name. */
export async function containers(): Promise<DemoContainer[]> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) });
  const out = await Promise.all(list.map(async (c) => {
    const info = await docker.getContainer(c.Id).inspect();
    return { name: info.Name.slice(1), id: info.Id, hostname: info.Config.Hostname, startedAt: info.State.StartedAt, state: info.State.Status, env: info.Config.Env };
  }));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** GETs the site until it serves `title` (the load balancer may need a moment after a deploy). */
export async function servedTitle(port: number, title: string, timeoutMs = 20_000): Promise<string> {
  return waitFor(async () => {
    const r = await httpGet(`http://127.0.0.1:${port}/`, 3000);
    return r.status === 200 && r.body.includes(`<h1>${title}</h1>`) ? r.body : undefined;
  }, { timeoutMs, intervalMs: 300, what: `"${title}" on 127.0.0.1:${port}` });
}

const LOCK = path.join(tmpdir(), 'berth-test-locks', `default-engine-${STACK}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the cross-process lock on the demo stack of the default engine (test runs of other checkouts or sessions
 * on this machine would otherwise clean or redeploy it under each other). A lock whose process is gone is taken
 * over. Returns the release; the lock is released at exit in any case.
 */
export async function lockDemoStack(timeoutMs = 240_000): Promise<() => void> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  const owner = path.join(LOCK, 'pid');
  await waitFor(() => {
    try {
      mkdirSync(LOCK);
      writeFileSync(owner, String(process.pid));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    try {
      pid = Number(readFileSync(owner, 'utf8'));
    } catch {
      // Made but not yet written: stale only if old.
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age < 10_000) return false;
    }
    if (!Number.isInteger(pid) || !alive(pid)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }, { timeoutMs, intervalMs: 500, what: `the lock ${LOCK} on the ${STACK} stack of the default engine` });
  const release = () => {
    try {
      if (Number(readFileSync(owner, 'utf8')) === process.pid) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}
