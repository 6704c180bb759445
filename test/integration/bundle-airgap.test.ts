// An offline site for real: a dockerd in a network namespace with no route anywhere and, at first, no images
// (test/harness/airgap.ts). A vendor makes signed bundles of a catalog from test host h1; the operator loads
// them on the site and runs the stack from them, upgrades through `berth upgrades` (a local branch: the site
// has no forge) and rolls back to the previous images — with no network at any point.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerGate, httpGet, waitFor } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { runBerth } from './converge-fixtures.ts';
import { airgapGate, cleanup, emptySite, git, keyPair, tempDir, VendorCatalog } from './bundle-fixtures.ts';

const gate = await dockerGate();
const site = await airgapGate();
const opts = gate.opts.skip ? gate.opts : site.opts;
const PORT = 18391;
const work = tempDir('airgap');
const envDir = path.join(work, 'site-env');
let catalog: VendorCatalog;
let keys: { priv: string; pub: string };

before(async () => {
  if (opts.skip) return;
  await ensureImages(gate.docker('h1'));
  await emptySite(site.docker());
  catalog = await VendorCatalog.create(PORT);
  await catalog.addVersion('0', '1.0.0', 1);
  keys = keyPair(work, 'vendor');
  // The operator's environment: the site's one host, the vendor's catalog where the bundle installs it.
  mkdirSync(path.join(envDir, 'stacks'), { recursive: true });
  writeFileSync(path.join(envDir, 'berth.yml'), `catalogs:\n  - name: main\n    path: catalogs/main\nhosts:\n  - name: site1\n    endpoint: ${site.host().dockerHost}\n`);
  writeFileSync(path.join(envDir, 'stacks/shop.yml'), `template: shop\nversion: 1.0.0\nanswers:\n  port: ${PORT}\n`);
  writeFileSync(path.join(envDir, '.gitignore'), 'catalogs/\n');
  await git(['init', '-q', '-b', 'main'], envDir);
  await git(['add', '-A'], envDir);
  await git(['commit', '-q', '-m', 'site environment'], envDir);
});

after(async () => {
  if (!opts.skip) await emptySite(site.docker()).catch(() => {});
  cleanup(work, ...(catalog ? [catalog.dir] : []));
});

async function makeBundle(name: string): Promise<string> {
  const file = path.join(work, name);
  const r = await runBerth(['bundle', 'create', '-o', file, '--catalog', `main=${catalog.dir}`, '--sign', keys.priv, '--docker-host', gate.host('h1').dockerHost]);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

async function siteImages(): Promise<string[]> {
  return (await site.docker().listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort();
}

/** Waits for the shop to serve `version`; what it served last is in the timeout's message. */
async function serves(version: string): Promise<void> {
  let last = '';
  await waitFor(async () => {
    const r = await httpGet(`http://${site.host().address}:${PORT}/`).catch((e: Error) => ({ status: 0, body: e.message }));
    last = `${r.status} ${r.body}`;
    return r.status === 200 && r.body === version;
  }, { timeoutMs: 30_000, what: `the shop on ${site.host().address}:${PORT} to serve ${version} (last: ${last})` });
}

async function berth(args: string[]): Promise<string> {
  const r = await runBerth([...args, '--env', envDir], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('the site has no route anywhere and starts with no images', opts, async () => {
  const routes = execFileSync('ip', ['-n', site.host().netns, 'route', 'show', 'default'], { encoding: 'utf8' });
  assert.equal(routes.trim(), '');
  assert.deepEqual(await siteImages(), []);
});

test('install from a bundle: a tampered copy touches nothing; the real one loads and the stack answers', opts, async () => {
  const b1 = await makeBundle('release-1.berth');
  const tampered = path.join(work, 'tampered.berth');
  copyFileSync(b1, tampered);
  const bytes = readFileSync(tampered);
  bytes[Math.floor(bytes.length / 3)] ^= 0x04;
  writeFileSync(tampered, bytes);
  const refused = await runBerth(['bundle', 'load', tampered, '--env', envDir, '--key', keys.pub]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error: .*(does not match its SHA-256|damaged header)/);
  assert.deepEqual(await siteImages(), [], 'nothing loaded from a refused bundle');
  assert.equal(existsSync(path.join(envDir, 'catalogs/main')), false, 'no catalog installed from a refused bundle');

  const out = await berth(['bundle', 'load', b1, '--key', keys.pub]);
  assert.match(out, /^verified, signed by key [0-9a-f]{16}$/m);
  assert.match(out, /^host site1: loaded /m);
  assert.match(out, /^main \(.*catalogs\/main\): installed$/m);
  assert.deepEqual(await siteImages(), ['berth-test/busybox:1', 'berth-test/web:1']);
  await berth(['apply']);
  await serves('1');
});

test('loading the same bundle twice changes nothing the second time', opts, async () => {
  const b1 = path.join(work, 'release-1.berth');
  const packs = () => readdirSync(path.join(envDir, 'catalogs/main/.git/objects/pack')).sort();
  const before = { images: await site.docker().listImages(), packs: packs(), head: await git(['rev-parse', 'HEAD'], path.join(envDir, 'catalogs/main')) };
  const out = await berth(['bundle', 'load', b1, '--key', keys.pub]);
  assert.match(out, /^host site1: has every image$/m);
  assert.match(out, /^main \(.*\): unchanged$/m);
  assert.deepEqual((await site.docker().listImages()).map((i) => i.Id).sort(), before.images.map((i) => i.Id).sort());
  assert.deepEqual(packs(), before.packs);
  assert.equal(await git(['rev-parse', 'HEAD'], path.join(envDir, 'catalogs/main')), before.head);
});

test('a newer bundle upgrades through berth upgrades; a rollback restores the previous images, offline', opts, async () => {
  await catalog.addVersion('1', '1.1.0', 2);
  const b2 = await makeBundle('release-2.berth');
  const loaded = await berth(['bundle', 'load', b2, '--key', keys.pub]);
  assert.match(loaded, /^host site1: loaded berth-test\/web:2 \(/m, 'only the image the site lacks travels');
  assert.match(loaded, /^main \(.*\): main fast-forwarded$/m);
  // An older bundle never rewinds the catalog.
  const older = await berth(['bundle', 'load', path.join(work, 'release-1.berth'), '--key', keys.pub]);
  assert.match(older, /^main \(.*\): main kept-newer$/m);

  const proposed = await berth(['upgrades', '--open']);
  assert.match(proposed, /^shop: created shop 1\.0\.0 → 1\.1\.0 .*\.git\/berth\/upgrades\/shop\.md$/m);
  const text = readFileSync(path.join(envDir, '.git/berth/upgrades/shop.md'), 'utf8');
  assert.match(text, /^# Upgrade shop: shop 1\.0\.0 → 1\.1\.0$/m);
  assert.match(text, /Shop 1\.1\.0: web 2\./, 'the release notes, as a merge request would carry them');
  assert.match(await git(['log', '-1', '--format=%an %s', 'berth/upgrade/shop'], envDir), /^Berth Upgrade shop: shop 1\.0\.0 → 1\.1\.0/);
  assert.match(await berth(['upgrades', '--open']), /^shop: unchanged /m);

  await git(['merge', '-q', '--ff-only', 'berth/upgrade/shop'], envDir);
  await berth(['apply']);
  await serves('2');
  assert.match(await berth(['upgrades', '--open']), /^shop: closed .*: shop is already on 1\.1\.0 on main, upgraded another way$/m);

  await berth(['rollback', 'shop']);
  await berth(['apply']);
  await serves('1');
});
