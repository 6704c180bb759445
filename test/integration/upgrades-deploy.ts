// After an upgrade merge request is merged, the ordinary deploy path (`berth apply`) runs the new version on a
// harness host. Skips with the reason when the Docker test hosts are not running (and fails in CI).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { dockerGate, httpGet, removeLabeled, waitFor } from '../harness/env.ts';
import { ensureImages, webImage } from '../harness/images.ts';
import { runBerth } from './converge-fixtures.ts';

export async function deployAndCheck(t: TestContext, envDir: string, stack: string, port: number, version: string): Promise<void> {
  const gate = await dockerGate();
  if (gate.opts.skip) return void t.diagnostic(`deploy not checked: ${gate.opts.skip}`);
  const docker = gate.docker('h1');
  await ensureImages(docker, [webImage(1), webImage(2)]);
  await removeLabeled(docker, `berth.stack=${stack}`);
  try {
    const r = await runBerth(['apply', stack, '--env', envDir]);
    assert.equal(r.code, 0, `berth apply: ${r.stdout}\n${r.stderr}`);
    const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
    assert.equal(c?.Image, `berth-test/web:${version}`);
    const body = await waitFor(async () => (await httpGet(`http://127.0.0.1:${port}/`)).body, { what: `${stack} answering on ${port}` });
    assert.equal(body, version);
  } finally {
    await removeLabeled(docker, `berth.stack=${stack}`);
  }
}
