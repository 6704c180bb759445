// Bundles as untrusted input: made from test host h1 with real images, then damaged the ways a file gets
// damaged or altered. Each is refused by verify (and by load, before anything is touched), naming the part.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { catalogContents } from '../../bundle/contents.ts';
import { createBundle } from '../../bundle/create.ts';
import { BundleError } from '../../bundle/errors.ts';
import { openBundle, verifyBundle } from '../../bundle/reader.ts';
import { readPrivateKey, readPublicKey } from '../../bundle/sign.ts';
import { indexTar } from '../../bundle/tar-file.ts';
import { dockerGate } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { runBerth } from './converge-fixtures.ts';
import { cleanup, keyPair, tempDir, VendorCatalog } from './bundle-fixtures.ts';

const gate = await dockerGate();
const dir = tempDir('verify');
let file = '';
let vendor: { priv: string; pub: string };
let other: { priv: string; pub: string };

before(async () => {
  if (gate.opts.skip) return;
  await ensureImages(gate.docker('h1'));
  const catalog = await VendorCatalog.create(18311);
  await catalog.addVersion('0', '1.0.0', 1);
  await catalog.addVersion('1', '1.1.0', 2);
  vendor = keyPair(dir, 'vendor');
  other = keyPair(dir, 'other');
  file = path.join(dir, 'release.berth');
  const contents = await catalogContents([{ name: 'main', root: catalog.dir }], { allVersions: true });
  await createBundle({ output: file, contents, docker: gate.docker('h1'), dockerWhere: 'h1', key: await readPrivateKey(vendor.priv) });
  cleanup(catalog.dir);
});

after(() => cleanup(dir));

/** A copy of the bundle with `edit` applied to the bytes of part `name` (or the whole file). */
async function damaged(label: string, edit: (bytes: Buffer, at: { offset: number; size: number }) => void, part?: (name: string) => boolean): Promise<string> {
  const copy = path.join(dir, `${label}.berth`);
  copyFileSync(file, copy);
  const fd = await open(copy, 'r');
  const entries = await indexTar(fd, copy);
  await fd.close();
  const bytes = readFileSync(copy);
  const e = part ? entries.find((x) => part(x.name)) : { offset: 0, size: bytes.length };
  assert.ok(e, `the bundle has a part for ${label}`);
  edit(bytes, e);
  writeFileSync(copy, bytes);
  return copy;
}

async function refusal(copy: string, key?: string): Promise<BundleError> {
  const k = key ? await readPublicKey(key) : undefined;
  try {
    const b = await openBundle(copy);
    try {
      await verifyBundle(b, k ? { key: k } : {});
    } finally {
      await b.close();
    }
  } catch (e) {
    assert.ok(e instanceof BundleError, `a BundleError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${copy} was accepted`);
}

test('an intact bundle verifies with the vendor\'s key, through the CLI too', gate.opts, async () => {
  const r = await runBerth(['bundle', 'verify', file, '--key', vendor.pub]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /every part \(\d+, [\d.]+ [KM]iB\) matches the manifest/);
  assert.match(r.stdout, /signature: good, by key [0-9a-f]{16}/);
  const b = await openBundle(file);
  await b.close();
  assert.equal(b.manifest.images.length, 3);
  assert.deepEqual(b.manifest.catalogs[0].templates, [{ name: 'shop', versions: ['1.0.0', '1.1.0'] }]);
  // busybox:1 is used by both versions and stored once.
  assert.equal(new Set(b.manifest.layers.map((l) => l.part)).size, b.manifest.layers.length);
  assert.equal(b.manifest.layers.length, new Set(b.manifest.images.flatMap((i) => i.layers)).size);
});

test('one byte changed in an image layer is refused, naming the layer and its image', gate.opts, async () => {
  const copy = await damaged('layer', (b, e) => { b[e.offset + Math.floor(e.size / 2)] ^= 0x01; }, (n) => n.startsWith('layers/'));
  const e = await refusal(copy);
  assert.equal(e.code, 'BUNDLE_CHECKSUM_MISMATCH');
  assert.match(String(e.data.part), /^layers\/[0-9a-f]{64}\.tar\.gz$/);
  assert.match(e.message, /image layer [0-9a-f]{12} \(of berth-test\/(web|busybox):\d\)/);
  const r = await runBerth(['bundle', 'verify', copy]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: image layer .* does not match its SHA-256 in the manifest/m);
});

test('one byte changed in the catalog is refused, naming the catalog', gate.opts, async () => {
  const copy = await damaged('catalog', (b, e) => { b[e.offset + e.size - 30] ^= 0x20; }, (n) => n.startsWith('catalogs/'));
  const e = await refusal(copy, vendor.pub);
  assert.equal(e.code, 'BUNDLE_CHECKSUM_MISMATCH');
  assert.equal(e.data.part, 'catalogs/main.bundle');
  assert.match(e.message, /^catalog main \(catalogs\/main\.bundle\) does not match/);
});

test('a manifest changed to match a changed part is refused by the signature; unsigned, the part is named', gate.opts, async () => {
  const copy = await damaged('manifest', (b, e) => {
    const text = b.toString('utf8', e.offset, e.offset + e.size);
    const m = /"sha256": "([0-9a-f])/.exec(text)!;
    b.write(m[1] === '0' ? '1' : '0', e.offset + m.index + m[0].length - 1, 'utf8');
  }, (n) => n === 'berth-bundle.json');
  const signed = await refusal(copy, vendor.pub);
  assert.equal(signed.code, 'BUNDLE_SIGNATURE_INVALID');
  assert.equal(signed.data.part, 'berth-bundle.sig');
  assert.match(signed.message, /the manifest or the signature was altered/);
  const unsigned = await refusal(copy);
  assert.equal(unsigned.code, 'BUNDLE_CHECKSUM_MISMATCH');
  const broken = await damaged('manifest-json', (b, e) => { b[e.offset] = 0x5b; }, (n) => n === 'berth-bundle.json');
  const invalid = await refusal(broken);
  assert.equal(invalid.code, 'BUNDLE_MANIFEST_INVALID');
  assert.equal(invalid.data.part, 'berth-bundle.json');
});

test('a bundle signed by another key is refused, naming both keys', gate.opts, async () => {
  const e = await refusal(file, other.pub);
  assert.equal(e.code, 'BUNDLE_SIGNATURE_INVALID');
  assert.match(e.message, /signed by key [0-9a-f]{16}, not by the given key [0-9a-f]{16}/);
});

test('a truncated bundle is refused, whatever the cut', gate.opts, async () => {
  const size = readFileSync(file).length;
  for (const keep of [Math.floor(size / 2), size - 2048, 700]) {
    const copy = path.join(dir, `cut-${keep}.berth`);
    copyFileSync(file, copy);
    truncateSync(copy, keep);
    const e = await refusal(copy);
    assert.equal(e.code, 'BUNDLE_TRUNCATED', `cut at ${keep}: ${e.message}`);
  }
});

test('a part added or a header damaged is refused', gate.opts, async () => {
  const header = await damaged('header', (b, e) => { b[e.offset - 512 + 10] ^= 0x01; }, (n) => n.startsWith('images/'));
  assert.equal((await refusal(header)).code, 'BUNDLE_CORRUPT');
  const traversal = await damaged('traversal', (b, e) => {
    const h = e.offset - 512;
    b.write('../../etc/passwd\0', h, 'utf8');
    let sum = 0;
    b.write('        ', h + 148, 8, 'ascii');
    for (let i = h; i < h + 512; i++) sum += b[i];
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, h + 148, 8, 'ascii');
  }, (n) => n.startsWith('images/'));
  const e = await refusal(traversal);
  assert.equal(e.code, 'BUNDLE_CORRUPT');
  assert.match(e.message, /has a name a bundle never uses/);
});
