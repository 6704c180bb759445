// The console's deploy form with a generated question left blank: the server makes the value once, encrypts it
// for .berth-recipients into the stack file it writes, and knows it as a secret; a value typed in wins.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { ConsoleService, type ConsoleController } from '../../console/service.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { silentLogger } from '../../lib/log.ts';
import { isSecret } from '../../lib/mask.ts';
import { decryptValue, generateKey } from '../../lib/secrets.ts';
import { writeSafeCatalog } from './safe-upgrade-fixtures.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'berth-console-gen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('a blank generated password is made on the server and written encrypted', async () => {
  const key = await generateKey();
  const catalog = writeSafeCatalog(path.join(dir, 'catalog'));
  mkdirSync(path.join(dir, 'env/stacks'), { recursive: true });
  writeFileSync(path.join(dir, 'env/berth.yml'), `catalogs:\n  - { name: main, path: ${catalog} }\n`);
  writeFileSync(path.join(dir, 'env/.berth-recipients'), `${key.recipient}\n`);
  const env = await loadEnvironment(path.join(dir, 'env'));
  const controller = { snapshot: () => ({ env, dir: env.root, catalogs: {}, stale: false }) } as unknown as ConsoleController;
  const svc = new ConsoleService({ controller, source: { path: env.root }, cacheDir: path.join(dir, 'cache'), log: silentLogger });
  const p = await svc.prepare('billing', { template: 'safe', version: '2.0.0', answers: { database_user: 'billing', port: 18990, database_password: '' } }, 'create');
  const armored = /database_password: !age \|\n((?: {4}.*\n)+)/.exec(p.text)![1].replace(/^ {4}/gm, '');
  const password = await decryptValue(armored, [key.identity]);
  assert.match(password, /^[A-Za-z0-9]{24}$/);
  assert.ok(p.secrets.includes(password) && isSecret(password));
  const typed = await svc.prepare('billing', { template: 'safe', version: '2.0.0', answers: { database_user: 'billing', port: 18990, database_password: 'typed-by-a-person-1' } }, 'create');
  assert.ok(typed.secrets.includes('typed-by-a-person-1'));
});
