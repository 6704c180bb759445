// The ledger's record (deploy.yml) and commit message: deterministic bytes, a faithful round trip, subjects for
// each kind of deploy, and trailers git's own parser (and Berth's) read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrailers } from '../../lib/git/index.ts';
import {
  commitMessage, commitSubject, readTrailers, recordFromYaml, recordToYaml, sameSources, type LedgerRecord,
} from '../../ledger/record.ts';

const ID1 = `sha256:${'1'.repeat(64)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

function record(over: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    stack: 'shop', template: 'acme', version: '1.2.0', catalog: 'main', mode: 'render',
    sources: { environment: 'e'.repeat(40), catalogs: { vendor: 'b'.repeat(40), main: 'a'.repeat(40) } },
    hosts: {
      h2: { outcome: 'converged', services: { web: { image: 'nginx:1.27', digest: DIGEST, image_id: ID1, replicas: [2] } } },
      h1: { outcome: 'converged', services: { web: { image: 'nginx:1.27', image_id: ID1, replicas: [1, 3] }, db: { image: 'postgres:16', image_id: ID1, replicas: [1] } } },
    },
    ...over,
  };
}

test('recordToYaml: sorted, stable bytes; recordFromYaml reads the same record back', () => {
  const r = record();
  const text = recordToYaml(r);
  assert.equal(recordToYaml(recordFromYaml(text)), text);
  assert.deepEqual(recordFromYaml(text), { ...r, hosts: { h1: r.hosts.h1, h2: r.hosts.h2 } });
  // Key order in memory does not matter: hosts, services and catalogs are written sorted.
  const shuffled = { ...r, hosts: { h1: { ...r.hosts.h1, services: { web: r.hosts.h1.services.web, db: r.hosts.h1.services.db } }, h2: r.hosts.h2 } };
  assert.equal(recordToYaml(shuffled), text);
  assert.ok(text.indexOf('h1:') < text.indexOf('h2:') && text.indexOf('db:') < text.indexOf('web:') && text.indexOf('main:') < text.indexOf('vendor:'));
  assert.match(text, /^stack: shop\ntemplate: acme\nversion: 1\.2\.0\ncatalog: main\nmode: render\nsources:\n/);
  assert.doesNotMatch(text, /restored_from|error/);
});

test('a failed host keeps its error; a rollback its origin', () => {
  const r = record({ mode: 'rollback', restored_from: 'f'.repeat(40), hosts: { h1: { outcome: 'unreachable', error: 'connect ECONNREFUSED', services: {} } } });
  const back = recordFromYaml(recordToYaml(r));
  assert.equal(back.mode, 'rollback');
  assert.equal(back.restored_from, 'f'.repeat(40));
  assert.deepEqual(back.hosts.h1, { outcome: 'unreachable', error: 'connect ECONNREFUSED', services: {} });
  assert.throws(() => recordFromYaml('just: text\n'), /not a Berth deploy record/);
});

test('subjects: first deploy, upgrade, rollback, partial failure', () => {
  assert.equal(commitSubject(record()), 'deploy shop: acme 1.2.0 on 2 hosts');
  assert.equal(commitSubject(record(), record({ version: '1.1.0' })), 'deploy shop: acme 1.1.0 → 1.2.0 on 2 hosts');
  assert.equal(commitSubject(record(), record({ template: 'old', version: '0.9' })), 'deploy shop: acme old 0.9 → 1.2.0 on 2 hosts');
  assert.equal(commitSubject(record(), record()), 'deploy shop: acme 1.2.0 on 2 hosts');
  assert.equal(commitSubject(record({ mode: 'rollback', restored_from: 'abcdef1234'.repeat(4) })), 'roll back shop to abcdef1');
  const failed = record({ hosts: { ...record().hosts, h2: { outcome: 'failed', error: 'x', services: {} }, h3: { outcome: 'unreachable', services: {} } } });
  assert.equal(commitSubject(failed), 'deploy shop: acme 1.2.0 on 3 hosts, failed on h2, h3');
  const one = record({ hosts: { h1: record().hosts.h1, h9: { outcome: 'converged', services: {} } } });
  assert.equal(commitSubject(one), 'deploy shop: acme 1.2.0 on 1 host');
});

test('the message: subject, body with trigger and hosts, then trailers that git and Berth parse', () => {
  const seen = { environment: 'c'.repeat(40), catalogs: { vendor: '2'.repeat(40), main: '1'.repeat(40) } };
  const r = record({ hosts: { ...record().hosts, h2: { outcome: 'failed', error: 'boom: hunter2\nsecond line', services: {} } } });
  const msg = commitMessage(r, { trigger: { kind: 'push', why: 'push 1a2b3c4', deliveryId: 'd-42' }, seen, secrets: ['hunter2'] });
  assert.equal(msg.split('\n')[0], 'deploy shop: acme 1.2.0 on 2 hosts, failed on h2');
  assert.match(msg, /\n\nTrigger: push \(push 1a2b3c4\)\nh1: converged\nh2: failed: boom: \*{6} second line\n\n/);
  assert.ok(!msg.includes('hunter2'));
  const trailers = parseTrailers(msg);
  assert.equal(trailers['Berth-Stack'], 'shop');
  assert.equal(trailers['Berth-Delivery'], 'd-42');
  assert.equal(trailers['Berth-Outcome'], 'failed');
  const t = readTrailers(msg);
  assert.deepEqual(t, {
    stack: 'shop', trigger: 'push', delivery: 'd-42', environment: 'c'.repeat(40), catalogs: { main: '1'.repeat(40), vendor: '2'.repeat(40) },
    template: 'acme@1.2.0', outcome: 'failed', mode: 'render', rollbackTo: undefined,
  });
  assert.match(msg, /\nBerth-Catalog-Commit: main=1{40}\nBerth-Catalog-Commit: vendor=2{40}\n/);
  assert.ok(msg.endsWith('Berth-Mode: render\n'));
  const timer = commitMessage(record(), { trigger: { kind: 'timer', why: 'timer' }, seen });
  assert.match(timer, /\nTrigger: timer\n/);
  assert.doesNotMatch(timer, /Berth-Delivery/);
});

test('sameSources compares the environment and every catalog, in any order', () => {
  const a = { environment: 'x', catalogs: { a: '1', b: '2' } };
  assert.ok(sameSources(a, { environment: 'x', catalogs: { b: '2', a: '1' } }));
  assert.ok(!sameSources(a, { environment: 'y', catalogs: { a: '1', b: '2' } }));
  assert.ok(!sameSources(a, { environment: 'x', catalogs: { a: '1' } }));
  assert.ok(!sameSources(a, { environment: 'x', catalogs: { a: '1', b: '3' } }));
});

test('snapshots: written sorted and read back; a hand-edited record keeps only names Docker takes as volume names', () => {
  const r = record({ snapshots: { h2: { shop_db: 'berth-snap-shop-shop_db-0a0b0c0d' }, h1: { shop_files: 'berth-snap-shop-shop_files-01020304', shop_db: 'berth-snap-shop-shop_db-aabbccdd' } } });
  const text = recordToYaml(r);
  assert.match(text, /snapshots:\n {2}h1:\n {4}shop_db: berth-snap-shop-shop_db-aabbccdd\n {4}shop_files: [^\n]+\n {2}h2:\n/);
  assert.deepEqual(recordFromYaml(text).snapshots, r.snapshots);
  const hostile = text.replace('berth-snap-shop-shop_db-0a0b0c0d', '"../../etc"').replace('shop_files: berth-snap-shop-shop_files-01020304', 'shop_files: [berth]');
  assert.deepEqual(recordFromYaml(hostile).snapshots, { h1: { shop_db: 'berth-snap-shop-shop_db-aabbccdd' } });
});
