/**
 * Carries out a Swarm plan: networks and content-hashed configs/secrets first, then services in dependency order
 * (each update names the version index it was planned from; a conflict is retried on a fresh read, never
 * overwritten blindly), then waits for convergence, and only then removes what is no longer used.
 */
import type Docker from 'dockerode';
import { BerthError } from '../../lib/errors.ts';
import { maskSecrets } from '../../lib/secrets.ts';
import { maskingSink, type EventSink } from '../events.ts';
import type { ApplyOptions } from '../engine.ts';
import type { ApplyResult, HostPlan, Operation, Plan, SwarmSpecJson } from '../plan-types.ts';
import type { DesiredStack } from '../standalone/types.ts';
import { apiMessage, statusOf, type SwarmClient } from './client.ts';
import { NAMESPACE_LABEL } from './spec.ts';
import { waitConverged, type Changed } from './wait.ts';

type Op<K extends Operation['kind']> = Extract<Operation, { kind: K }>;
const MAX_TRIES = 4;

interface Run {
  client: SwarmClient;
  stack: string;
  host: string;
  desired: DesiredStack;
  events: EventSink;
  signal?: AbortSignal;
}

async function step<T>(run: Run, what: { action: Parameters<EventSink>[0]['action']; service?: string; message: string }, fn: () => Promise<T>): Promise<T> {
  if (run.signal?.aborted) throw new BerthError('apply.aborted', 'conflict', `apply of ${run.stack} on swarm ${run.host} was interrupted`);
  const t0 = Date.now();
  const base = { host: run.host, stack: run.stack, ...what };
  run.events({ ...base, status: 'started' });
  try {
    const r = await fn();
    run.events({ ...base, status: 'done', durationMs: Date.now() - t0 });
    return r;
  } catch (e) {
    run.events({ ...base, status: 'failed', message: (e as Error).message, durationMs: Date.now() - t0 });
    throw e;
  }
}

function failure(what: string, e: unknown): BerthError {
  return e instanceof BerthError ? e : new BerthError('swarm.api', 'internal', `${what}: ${apiMessage(e)}`, { data: { status: statusOf(e) }, cause: e });
}

async function createObject(run: Run, op: Op<'create-object'>): Promise<void> {
  const d = Object.values(run.desired.hosts[run.host].services).find((s) => s.files[op.source] !== undefined);
  const body = { Name: op.name, Labels: { [NAMESPACE_LABEL]: run.stack, 'berth.source': op.source }, Data: Buffer.from(d?.files[op.source] ?? '').toString('base64') };
  await step(run, { action: 'create', message: `${op.object} ${op.name}` }, () => run.client.call((docker) =>
    (op.object === 'config' ? docker.createConfig(body) : docker.createSecret(body)).catch((e) => (statusOf(e) === 409 ? undefined : Promise.reject(failure(`create ${op.object} ${op.name}`, e))))));
}

/** The API wants the IDs of configs and secrets; the plan names them (IDs of objects it creates are not known then). */
async function withObjectIds(docker: Docker, spec: SwarmSpecJson): Promise<SwarmSpecJson> {
  const task = spec.TaskTemplate as { ContainerSpec: { Configs?: Record<string, unknown>[]; Secrets?: Record<string, unknown>[] } };
  const cs = task.ContainerSpec;
  if (!cs.Configs?.length && !cs.Secrets?.length) return spec;
  const [configs, secrets] = await Promise.all([docker.listConfigs(), docker.listSecrets()]);
  const id = (list: { ID: string; Spec?: { Name?: string } }[], name: unknown) => list.find((o) => o.Spec?.Name === name)?.ID;
  const configsOut = cs.Configs?.map((c) => ({ ...c, ConfigID: id(configs as never, c.ConfigName) }));
  const secretsOut = cs.Secrets?.map((c) => ({ ...c, SecretID: id(secrets as never, c.SecretName) }));
  return { ...spec, TaskTemplate: { ...task, ContainerSpec: { ...cs, ...(configsOut ? { Configs: configsOut } : {}), ...(secretsOut ? { Secrets: secretsOut } : {}) } } };
}

/** An update names the version it was planned from; when someone changed the service since, re-read and retry. */
async function updateService(run: Run, op: Op<'update-service'>): Promise<string | undefined> {
  let version = op.version;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run.client.call(async (docker) => {
        // The start of the last rolling update before this change: the wait must not take its outcome for this one's.
        const before = (await docker.getService(op.id).inspect()) as { UpdateStatus?: { StartedAt?: string } };
        await docker.getService(op.id).update({ version, ...(await withObjectIds(docker, op.spec)) });
        return before.UpdateStatus?.StartedAt;
      });
    } catch (e) {
      const conflict = statusOf(e) === 500 && /update out of sequence/i.test(apiMessage(e));
      if (!conflict || attempt >= MAX_TRIES) throw failure(`update service ${op.spec.Name}`, e);
      version = (await run.client.call((docker) => docker.getService(op.id).inspect())).Version.Index;
      run.events({ host: run.host, stack: run.stack, service: op.service, action: 'info', status: 'done', message: `changed by someone else meanwhile: retrying on version ${version}` });
    }
  }
}

async function serviceStep(run: Run, op: Operation): Promise<Changed | undefined> {
  if (op.kind === 'create-service') {
    const id = await step(run, { action: 'create', service: op.service, message: `service ${op.spec.Name}` }, () => run.client.call(async (docker) =>
      (await docker.createService((await withObjectIds(docker, op.spec)) as never).catch((e) => Promise.reject(failure(`create service ${op.spec.Name}`, e)))).id as string));
    return { service: op.service, id };
  }
  if (op.kind === 'update-service') {
    const since = await step(run, { action: 'recreate', service: op.service, message: `update ${op.spec.Name}: ${op.cause}` }, () => updateService(run, op));
    return { service: op.service, id: op.id, ...(since ? { updateSince: since } : {}) };
  }
  return undefined;
}

async function removeStale(run: Run, ops: Operation[]): Promise<void> {
  for (const op of ops) {
    if (op.kind === 'remove-service') {
      await step(run, { action: 'remove', service: op.service, message: `service ${op.service}` }, () => run.client.call((docker) => docker.getService(op.id).remove().catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(failure('remove service', e))))));
    }
  }
  for (const op of ops) {
    if (op.kind === 'remove-object') {
      // Tasks shutting down may still hold it for a moment: an object in use is left for the next reconcile.
      await run.client.call((docker) => (op.object === 'config' ? docker.getConfig(op.id) : docker.getSecret(op.id)).remove()).catch(() => undefined);
    }
    if (op.kind === 'remove-network') await run.client.call((docker) => docker.getNetwork(op.network).remove()).catch(() => undefined);
  }
}

async function applyTarget(run: Run, hp: HostPlan): Promise<number> {
  let count = 0;
  for (const op of hp.operations) {
    if (op.kind !== 'create-network') continue;
    const body = { Name: op.network.name, Driver: op.network.driver === 'bridge' ? 'overlay' : op.network.driver, Attachable: true, Options: op.network.driver_opts, Labels: { ...op.network.labels, [NAMESPACE_LABEL]: run.stack }, CheckDuplicate: true };
    await step(run, { action: 'network', message: op.network.name }, () => run.client.call((docker) => docker.createNetwork(body).catch((e) => (statusOf(e) === 409 ? undefined : Promise.reject(failure(`create network ${op.network.name}`, e))))));
    count++;
  }
  for (const op of hp.operations) if (op.kind === 'create-object') (await createObject(run, op), count++);
  const changed: Changed[] = [];
  for (const op of hp.operations) {
    const c = await serviceStep(run, op);
    if (c) (changed.push(c), count++);
  }
  await waitConverged(run, changed);
  await removeStale(run, hp.operations);
  return count + hp.operations.filter((o) => o.kind === 'remove-service').length;
}

export async function applySwarm(client: SwarmClient, plan: Plan, desired: DesiredStack, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { stack: plan.stack, hosts: {} };
  for (const hp of plan.hosts) {
    if (hp.error) {
      result.hosts[hp.host] = { outcome: 'unreachable', error: hp.error, operations: 0 };
      continue;
    }
    const run: Run = { client, stack: plan.stack, host: hp.host, desired, events: maskingSink(opts.events, desired.secrets), signal: opts.signal };
    try {
      const n = await applyTarget(run, hp);
      result.hosts[hp.host] = { outcome: n ? 'converged' : 'unchanged', operations: n };
    } catch (e) {
      const unreachable = e instanceof BerthError && e.kind === 'unreachable';
      result.hosts[hp.host] = { outcome: unreachable ? 'unreachable' : 'failed', error: maskSecrets((e as Error).message, desired.secrets), operations: 0 };
    }
  }
  return result;
}

export type { Run as SwarmRun };
