// The stack page offers "with its data" beside Roll back only when the last deploy snapshotted the data before
// it upgraded the stack (its rollback can restore that data), and only to a user who may deploy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackBody, type StackView } from '../../console/views/stacks.ts';
import type { HistoryEntry } from '../../ledger/ledger.ts';

const entry = (commit: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ commit, when: '2026-12-01T10:00:00.000Z', subject: `deploy ${commit}`, author: 'Berth', mode: 'render', outcome: 'converged', ...extra });

function view(history: HistoryEntry[], canRollback = true): string {
  const v = {
    state: { stack: 'shop', desiredCommit: 'a'.repeat(40), deployedCommit: 'b'.repeat(40), status: 'Ready', reconciling: false, reason: 'ReconciliationSucceeded', lastError: null, lastReconcile: null, lastSuccessAt: null },
    spec: { name: 'shop', file: 'stacks/shop.yml', template: 'db', version: '2.0.0', answers: {}, hosts: {} },
    hosts: [], history, canEdit: false, canRollback,
  } as unknown as StackView;
  return String(stackBody(v));
}

test('the with-data choice is offered when a deploy with something older to go back to snapshotted the data, to a user who may deploy', () => {
  const upgraded = view([entry('c2', { snapshots: true }), entry('c1')]);
  assert.match(upgraded, /data-testid="rollback-with-data"/);
  assert.match(upgraded, /data-testid="rollback-button"/);
  // An upgrade further back: rolling back to the state before it ("Roll back to this") can take its data back.
  assert.match(view([entry('c3'), entry('c2', { snapshots: true }), entry('c1')]), /data-testid="rollback-with-data"/);
  assert.doesNotMatch(view([entry('c2'), entry('c1', { snapshots: true })]), /rollback-with-data/, 'nothing is older than the oldest deploy');
  assert.doesNotMatch(view([entry('c2', { snapshots: true }), entry('c1')], false), /rollback-with-data|rollback-button/);
});
