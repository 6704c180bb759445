// Shared pieces of the driver-* and execute-* integration tests: HostSpecs for the harness hosts, the full
// observe → plan → execute loop, exec inside a container, and clean-up by stack label.
import type Docker from 'dockerode';
import { demuxLogs, DockerHostDriver } from '../../engines/standalone/driver.ts';
import { executePlan, type ApplyResult } from '../../engines/standalone/execute.ts';
import { memorySink, type BerthEvent } from '../../engines/events.ts';
import { planStack } from '../../engines/standalone/plan.ts';
import type { DesiredStack, ObservedStack, Plan } from '../../engines/standalone/types.ts';
import type { HostSpec } from '../../environment/types.ts';
import { removeLabeled, type Gate, type TestHost } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';

export const HEALTH_WGET = { test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/'], interval_ms: 300, timeout_ms: 2000, retries: 3, start_period_ms: 0 };

export function hostSpec(h: TestHost, via: 'socket' | 'tls' | 'ssh' = 'socket'): HostSpec {
  if (via === 'tls') return { name: h.name, endpoint: h.tcp!, tls: h.tls, labels: {} };
  if (via === 'ssh') return { name: h.name, endpoint: h.ssh!.url, ssh: { privateKeyFile: h.ssh!.privateKey }, labels: {} };
  return { name: h.name, endpoint: h.dockerHost, labels: {} };
}

/** A host whose socket does not exist: unreachable at once, without touching any network. */
export function missingHost(name: string): HostSpec {
  return { name, endpoint: `unix:///run/berth-test/${name}-missing.sock`, labels: {} };
}

export function driversFor(hosts: HostSpec[]): Record<string, DockerHostDriver> {
  return Object.fromEntries(hosts.map((h) => [h.name, new DockerHostDriver(h)]));
}

export async function observeAll(stack: string, drivers: Record<string, DockerHostDriver>): Promise<ObservedStack> {
  const hosts = await Promise.all(Object.values(drivers).map((d) => d.observe(stack)));
  return { name: stack, hosts: Object.fromEntries(hosts.map((h) => [h.host, h])) };
}

/** The apply loop as the controller runs it: observe every host, plan, execute. */
export async function apply(desired: DesiredStack, drivers: Record<string, DockerHostDriver>): Promise<{ plan: Plan; result: ApplyResult; events: BerthEvent[] }> {
  const plan = planStack(desired, await observeAll(desired.name, drivers));
  const sink = memorySink();
  const result = await executePlan(plan, desired, drivers, { events: sink, deadlineMs: 60_000 });
  return { plan, result, events: sink.events };
}

export async function prepareHosts(gate: Gate, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => ensureImages(gate.docker(n))));
}

/** Removes containers, networks and volumes of the stacks on every host (volumes too: these are tests). */
export async function cleanStacks(gate: Gate, stacks: string[]): Promise<void> {
  if (!gate.ok) return;
  for (const h of gate.hosts()) {
    for (const s of stacks) await removeLabeled(gate.docker(h.name), `berth.stack=${s}`).catch(() => {});
  }
}

/** Runs cmd in a running container; resolves to its exit code and combined output. */
export async function execIn(docker: Docker, id: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, output: demuxLogs(Buffer.concat(chunks)) };
}

export async function containersOf(docker: Docker, stack: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
}

export function failedEvents(events: BerthEvent[]): string {
  return events.filter((e) => e.status === 'failed').map((e) => `${e.host} ${e.service ?? ''} ${e.action}: ${e.message}`).join('\n');
}
