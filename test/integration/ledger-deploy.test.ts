// The ledger end to end, on real parts: an environment repository on the smart-HTTP git server, deploys to the
// harness hosts through deployStack, and the ledger branch berth/deployed checked with the git CLI — one commit
// per deploy, none when nothing changed, and `git revert` of a deploy commit carried out as a rollback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerGate } from '../harness/env.ts';
import { LEDGER, SECRET, useLedgerWorld } from './ledger-fixtures.ts';

const gate = await dockerGate();
const STACK = 'lg-main';
const world = useLedgerWorld(gate, { [STACK]: '1' });

function converged(o: { outcome: string; error?: Error; result?: unknown }): void {
  assert.ok(o.outcome === 'converged' || o.outcome === 'unchanged', `${o.outcome}: ${o.error?.message ?? JSON.stringify(o.result)}`);
}

/** Image IDs differ between hosts (each imported its own copy): host → ID. */
type Ids = Record<string, string>;
const all = (images: Record<string, string>, ids: Ids) => Object.keys(images).length === 2 && Object.entries(images).every(([k, x]) => x === ids[k.split('/')[0]]);

test('deploy → revert → rollback → superseded: one ledger commit per state, pinned images, no secret in clear', gate.opts, async () => {
  const lw = world();
  const web1: Ids = { h1: await lw.imageId('h1', 'berth-test/web:1'), h2: await lw.imageId('h2', 'berth-test/web:1') };
  const web2: Ids = { h1: await lw.imageId('h1', 'berth-test/web:2'), h2: await lw.imageId('h2', 'berth-test/web:2') };

  // 1. The first deploy: a commit pushed to berth/deployed, compose pinned to the image ID, the secret a placeholder.
  const first = await lw.deploy(STACK);
  converged(first);
  assert.equal(first.mode, 'render');
  assert.match(first.ledgerCommit ?? '', /^[0-9a-f]{40}$/);
  assert.equal(await lw.remoteHead(), first.ledgerCommit);
  assert.ok(all(await lw.images(STACK), web1));
  const clone = await lw.personClone();
  const compose = readFileSync(path.join(clone, `stacks/${STACK}/h1.compose.yml`), 'utf8');
  assert.match(compose, new RegExp(`image: ${web1.h1}\\n`));
  assert.match(compose, /TOKEN: \$\{BERTH_SECRET_token\}/);
  assert.match(compose, /PRICE: costs \$\$5/);
  const tree = await lw.git(['grep', '-I', '-c', '-F', 'w0rd', LEDGER, '--'], clone).catch(() => '');
  assert.equal(tree, '', 'the clear secret is nowhere in the ledger tree');
  assert.ok(!(await lw.git(['log', '--format=%B', LEDGER], clone)).includes(SECRET));
  const record = readFileSync(path.join(clone, `stacks/${STACK}/deploy.yml`), 'utf8');
  assert.match(record, /mode: render/);
  assert.match(record, new RegExp(`image_id: ${web1.h1}`));
  assert.match(record, new RegExp(`image_id: ${web1.h2}`));
  const message = await lw.git(['log', '-1', '--format=%B', LEDGER], clone);
  assert.match(message, new RegExp(`^deploy ${STACK}: ledgered 1.0.0 on 2 hosts\\n`));
  assert.match(message, new RegExp(`\\n\\nBerth-Stack: ${STACK}\\nBerth-Trigger: push\\nBerth-Delivery: delivery-${STACK}\\nBerth-Environment-Commit: ${lw.commit}\\nBerth-Template: ledgered@1.0.0\\nBerth-Outcome: converged\\nBerth-Mode: render\\n+$`));
  assert.match(await lw.git(['log', '-1', '--format=%an <%ae>', LEDGER], clone), /^Berth <berth@localhost>/);

  // 2. Nothing changed: no commit.
  const again = await lw.deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged');
  assert.equal(again.ledgerCommit, null);
  assert.equal(await lw.remoteHead(), first.ledgerCommit);

  // 2b. An environment commit that leaves this stack as it was (a note beside it): no deploy, no commit.
  await lw.commitEnv({ 'NOTES.md': 'maintenance window on Friday\n' }, 'a note');
  const untouched = await lw.deploy(STACK);
  assert.equal(untouched.outcome, 'unchanged');
  assert.equal(untouched.ledgerCommit, null, 'an unrelated environment commit is no deploy of this stack');
  assert.equal(await lw.remoteHead(), first.ledgerCommit);

  // 3. web:1 → web:2 in the environment: a second deploy commit.
  await lw.commitEnv({ [`stacks/${STACK}.yml`]: await lw.stackText('2') }, 'web 2');
  const second = await lw.deploy(STACK);
  converged(second);
  assert.ok(second.ledgerCommit && second.ledgerCommit !== first.ledgerCommit);
  assert.ok(all(await lw.images(STACK), web2));

  // 4. A person reverts that commit with the git CLI and pushes: Berth rolls back to web:1.
  await lw.git(['fetch', '--quiet', 'origin'], clone);
  await lw.git(['reset', '--quiet', '--hard', `origin/${LEDGER}`], clone);
  await lw.git(['revert', '--no-edit', second.ledgerCommit!], clone);
  await lw.git(['push', '--quiet', 'origin', LEDGER], clone);
  const back = await lw.deploy(STACK, 'push');
  converged(back);
  assert.equal(back.mode, 'rollback');
  assert.ok(all(await lw.images(STACK), web1), 'the very image of the first deploy');
  assert.ok(back.ledgerCommit);
  await lw.git(['fetch', '--quiet', 'origin'], clone);
  const rbMessage = await lw.git(['log', '-1', '--format=%B', `origin/${LEDGER}`], clone);
  assert.match(rbMessage, new RegExp(`^roll back ${STACK} to ${first.ledgerCommit!.slice(0, 7)}\\n`));
  assert.match(rbMessage, /\nBerth-Mode: rollback\n/);
  const rbRecord = await lw.git(['show', `origin/${LEDGER}:stacks/${STACK}/deploy.yml`], clone);
  assert.match(rbRecord, new RegExp(`restored_from: ${first.ledgerCommit}`));

  // 5. Nothing changed: the rollback stays in force, no commit.
  const still = await lw.deploy(STACK, 'timer');
  assert.equal(still.mode, 'rollback');
  assert.equal(still.outcome, 'unchanged');
  assert.equal(still.ledgerCommit, null);
  assert.ok(all(await lw.images(STACK), web1));

  // 6. A new environment commit supersedes the rollback: rendered again (web:2).
  await lw.commitEnv({ 'README.md': 'the environment\n' }, 'docs');
  const next = await lw.deploy(STACK);
  converged(next);
  assert.equal(next.mode, 'render');
  assert.ok(next.ledgerCommit);
  assert.ok(all(await lw.images(STACK), web2));
  const history = await lw.ledger.history(STACK, 10);
  assert.deepEqual(history.map((h) => [h.mode, h.trigger]), [['render', 'push'], ['rollback', 'push'], ['rollback', 'revert'], ['render', 'push'], ['render', 'push']]);
});
