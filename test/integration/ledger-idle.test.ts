// The ledger on a quiet day: once a stack's state is recorded, reconciling it again with nothing changed reads
// nothing from the git object database (the timer does this for every stack, every minute), while a change —
// here a new environment commit — is still seen and recorded. Real hosts, the real git server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeFs from 'node:fs';
import { dockerGate } from '../harness/env.ts';
import { Ledger } from '../../ledger/ledger.ts';
import type { GitFs } from '../../lib/git/fs.ts';
import { TOKEN, useLedgerWorld } from './ledger-fixtures.ts';

const gate = await dockerGate();
const STACK = 'lg-idle';
const world = useLedgerWorld(gate, { [STACK]: '1' });

/** node's fs, counting reads of files under .git/objects (loose objects and packs). */
function countingFs(): { fs: GitFs; reads: () => number; reset: () => void } {
  let n = 0;
  const counted = <F extends (...args: never[]) => unknown>(fn: F): F => ((...args: Parameters<F>) => {
    if (String(args[0]).includes('/.git/objects/')) n++;
    return fn(...args);
  }) as F;
  const promises = { ...nodeFs.promises, readFile: counted(nodeFs.promises.readFile), open: counted(nodeFs.promises.open) };
  const fs = { ...nodeFs, readFile: counted(nodeFs.readFile), promises } as unknown as GitFs;
  return { fs, reads: () => n, reset: () => void (n = 0) };
}

test('an unchanged stack is reconciled without reading the object database; a new commit is still recorded', gate.opts, async () => {
  const lw = world();
  const counter = countingFs();
  lw.ledger = new Ledger({ dir: lw.dir, remote: { url: lw.server.repoUrl('env'), token: TOKEN }, fs: counter.fs });

  const first = await lw.deploy(STACK);
  assert.equal(first.outcome, 'converged', first.error?.message);
  assert.match(first.ledgerCommit ?? '', /^[0-9a-f]{40}$/);
  // The first unchanged reconcile on the new head learns what it holds; it still commits nothing.
  const second = await lw.deploy(STACK, 'timer');
  assert.equal(second.outcome, 'unchanged');
  assert.equal(second.ledgerCommit, null);

  counter.reset();
  for (let i = 0; i < 3; i++) {
    const again = await lw.deploy(STACK, 'timer');
    assert.equal(again.outcome, 'unchanged');
    assert.equal(again.ledgerCommit, null);
  }
  assert.equal(counter.reads(), 0, 'three unchanged reconciles read git objects');
  assert.equal(await lw.remoteHead(), first.ledgerCommit, 'nothing was pushed');

  // Facts are per head and per input: a new environment commit makes a deploy that is recorded as usual.
  await lw.commitEnv({ [`stacks/${STACK}.yml`]: await lw.stackText('2') }, 'web 2');
  const next = await lw.deploy(STACK);
  assert.equal(next.outcome, 'converged', next.error?.message);
  assert.match(next.ledgerCommit ?? '', /^[0-9a-f]{40}$/);
  assert.notEqual(next.ledgerCommit, first.ledgerCommit);
  assert.equal(await lw.remoteHead(), next.ledgerCommit);
  const web2 = await lw.imageId('h1', 'berth-test/web:2');
  assert.ok(Object.entries(await lw.images(STACK)).filter(([k]) => k.startsWith('h1/')).every(([, id]) => id === web2));
  assert.equal((await lw.ledger.latest(STACK))?.commit, next.ledgerCommit);
});
