// dockerode's ssh (ssh2) and BuildKit-session (@grpc/grpc-js, protobufjs) modules stay unloaded until a host
// needs them: a controller talking to unix and TLS hosts never carries them, and an ssh:// host still works,
// loading ssh2 on its first request. In a fresh process, because this test's own harness loads dockerode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dockerGate } from '../harness/env.ts';
import { hostSpec } from './execute-helpers.ts';

const gate = await dockerGate();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CHILD = `
import { createRequire } from 'node:module';
import { DockerHostDriver } from './engines/standalone/driver.ts';
const loaded = () => Object.keys(createRequire(import.meta.url).cache)
  .map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter((p) => ['ssh2', '@grpc/grpc-js', 'protobufjs'].includes(p));
const report = {};
for (const [via, spec] of JSON.parse(process.env.HOSTS)) {
  const d = new DockerHostDriver(spec);
  await d.ping();
  const o = await d.observe('bt-lazy-none');
  report[via] = { reachable: o.reachable, loaded: [...new Set(loaded())].sort() };
}
process.stdout.write(JSON.stringify(report));
`;

test('ssh2 and grpc load only when an ssh:// host is used; unix and TLS hosts never load them', gate.opts, async () => {
  const h = gate.hosts();
  const unix = h[0]!;
  const tls = h.find((x) => x.tcp && x.tls) ?? assert.fail('no harness host offers TLS');
  const ssh = h.find((x) => x.ssh) ?? assert.fail('no harness host offers ssh');
  const hosts = [['unix', hostSpec(unix)], ['tls', hostSpec(tls, 'tls')], ['ssh', hostSpec(ssh, 'ssh')]];
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT, env: { ...process.env, HOSTS: JSON.stringify(hosts) }, timeout: 60_000,
  });
  const report = JSON.parse(stdout) as Record<string, { reachable: boolean; loaded: string[] }>;
  assert.deepEqual(report.unix, { reachable: true, loaded: [] });
  assert.deepEqual(report.tls, { reachable: true, loaded: [] });
  // ssh2 came in for the ssh host; the BuildKit session modules never did.
  assert.deepEqual(report.ssh, { reachable: true, loaded: ['ssh2'] });
});
