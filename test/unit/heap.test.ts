// `berth serve`'s V8 tuning, in fresh processes (flags are per process): the young generation stays at its
// first size under a load that grows an untuned one, and flags an operator gave on the command line win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Allocates objects that survive a few scavenges (as a deploy's promises and parsed documents do), then reports
// the young generation's size before and after, and what the tuning set.
const CHILD = `
import v8 from 'node:v8';
import { tuneForLongIdleProcess } from './lib/heap.ts';
const youngNow = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const set = process.env.TUNE ? tuneForLongIdleProcess() : [];
const before = youngNow();
let keep = [];
for (let round = 0; round < 300; round++) {
  const batch = [];
  for (let i = 0; i < 5000; i++) batch.push({ i, text: 'item ' + i });
  keep.push(batch);
  if (keep.length > 8) keep.shift();
}
process.stdout.write(JSON.stringify({ set, before, after: youngNow() }));
`;

interface Report {
  set: string[];
  before: number;
  after: number;
}

async function run(env: Record<string, string>, flags: string[] = []): Promise<Report> {
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 60_000,
  });
  return JSON.parse(stdout) as Report;
}

test('the tuning keeps the young generation at the size it had where an untuned process grows it', async () => {
  const untuned = await run({});
  const tuned = await run({ TUNE: '1' });
  assert.deepEqual(tuned.set, ['--semi-space-growth-factor=1', '--no-opt']);
  assert.ok(untuned.after >= 2 * untuned.before, `the load should grow an untuned young generation (${untuned.before} → ${untuned.after} bytes)`);
  assert.equal(tuned.after, tuned.before, 'the tuned young generation grew');
});

test('flags given to node or in NODE_OPTIONS are left as the operator set them', async () => {
  const semi = await run({ TUNE: '1', NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.deepEqual(semi.set, ['--no-opt']);
  const opt = await run({ TUNE: '1' }, ['--opt']);
  assert.deepEqual(opt.set, ['--semi-space-growth-factor=1']);
});
