// Checks the real-parts harness itself: the Docker test hosts (unix socket, TLS tcp, ssh),
// local images that really run, and the smart-HTTP git server driven by isomorphic-git.
// With CI=true a missing engine fails these tests; otherwise they skip with the reason.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import git from 'isomorphic-git';
import gitHttp from 'isomorphic-git/http/node';
import { containerIp, dockerGate, httpGet, isCI, pingDocker, removeLabeled, tempDir, waitFor, TEST_LABEL } from '../harness/env.ts';
import { ensureImages, webImage, BUSYBOX_IMAGE, STANDARD_IMAGES } from '../harness/images.ts';
import { startGitServer } from '../harness/git-server.ts';

const gate = await dockerGate();
const RUN_LABEL = `${TEST_LABEL}.suite=harness`;

after(async () => {
  if (!gate.ok) return;
  for (const h of gate.hosts()) {
    const d = gate.docker(h.name);
    await removeLabeled(d, RUN_LABEL).catch(() => {});
  }
});

test('every test host answers _ping on its unix socket', gate.opts, async () => {
  const hosts = gate.hosts();
  assert.deepEqual(
    hosts.map((h) => h.name),
    ['h1', 'h2', 'h3'],
  );
  const roots = new Set<string>();
  for (const h of hosts) {
    const d = gate.docker(h.name);
    assert.equal(await pingDocker(d), true, `${h.name} ping`);
    const info = await d.info();
    roots.add(info.DockerRootDir);
  }
  assert.equal(roots.size, 3, 'each host has its own data root');
});

test('the TLS host answers over tcp with the client certificate, and refuses without one', gate.opts, async () => {
  const h = gate.hosts().find((x) => x.tcp && x.tls);
  assert.ok(h, 'a host with tcp + tls in hosts.json');
  assert.equal(await pingDocker(gate.docker(h.name, 'tls')), true);
  const version = await gate.docker(h.name, 'tls').version();
  assert.ok(version.ApiVersion);

  const port = Number(new URL(h.tcp!.replace(/^tcp:/, 'http:')).port);
  const noCert = await new Promise<string>((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/_ping', ca: fs.readFileSync(h.tls!.ca), timeout: 5000 }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('error', (e) => resolve(`refused: ${e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
  assert.match(noCert, /^refused/, `without a client certificate: ${noCert}`);
});

test('the ssh endpoint reaches its host through dockerode (docker system dial-stdio)', gate.opts, async () => {
  for (const name of ['h2']) {
    const h = gate.host(name);
    assert.ok(h.ssh, 'ssh endpoint in hosts.json');
    const d = gate.docker(name, 'ssh');
    assert.equal(await pingDocker(d, 20000), true);
    const info = await d.info();
    assert.equal(info.DockerRootDir, `/var/lib/berth-test/${name}`, 'the key chose the host');
  }
});

test('the docker CLI reaches a host over ssh:// with the harness ssh wrapper', gate.opts, async (t) => {
  const h = gate.host('h1');
  if (spawnSync('docker', ['--version']).status !== 0) {
    if (isCI()) assert.fail('docker CLI missing');
    return t.skip('docker CLI missing');
  }
  const r = spawnSync('docker', ['-H', h.ssh!.url, 'info', '--format', '{{.DockerRootDir}}'], {
    encoding: 'utf8',
    timeout: 30000,
    env: { ...process.env, PATH: `/run/berth-test/ssh/bin:${process.env.PATH}`, BERTH_TEST_SSH_KEY: h.ssh!.privateKey },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '/var/lib/berth-test/h1');
});

test('local images import idempotently and web:1 / web:2 really serve their version', gate.opts, async () => {
  const d = gate.docker('h1');
  await ensureImages(d, STANDARD_IMAGES);
  const id1 = (await d.getImage('berth-test/web:1').inspect()).Id;
  await ensureImages(d, STANDARD_IMAGES); // second time: nothing re-imported
  assert.equal((await d.getImage('berth-test/web:1').inspect()).Id, id1);
  assert.notEqual((await d.getImage('berth-test/web:2').inspect()).Id, id1);
  assert.ok(await d.getImage(BUSYBOX_IMAGE).inspect());

  for (const v of ['1', '2']) {
    const c = await d.createContainer({
      Image: webImage(v).tag,
      Labels: { [TEST_LABEL]: '1', [`${TEST_LABEL}.suite`]: 'harness' },
    });
    await c.start();
    const ip = await containerIp(d, c.id);
    assert.match(ip, /^172\.31\.1\./, 'container on h1 bridge');
    const res = await waitFor(
      async () => {
        const r = await httpGet(`http://${ip}:80/`, 2000);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 15000, what: `httpd in web:${v}` },
    );
    assert.equal(res.body, v);
    await c.remove({ force: true });
  }

  // a one-shot busybox command with output
  const c = await d.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ['sh', '-c', 'echo hello from $(hostname); cat /etc/passwd | grep -c root'],
    Labels: { [TEST_LABEL]: '1', [`${TEST_LABEL}.suite`]: 'harness' },
  });
  await c.start();
  const waited = (await c.wait()) as { StatusCode: number };
  assert.equal(waited.StatusCode, 0);
  const logs = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
  assert.match(logs, /hello from/);
  await c.remove({ force: true });
});

const hasGit = spawnSync('git', ['--version']).status === 0;
const gitOpts = hasGit || isCI() ? {} : { skip: 'git CLI missing (needed by the harness git server)' };

test('the git server serves clone, push and fetch over smart HTTP (isomorphic-git), with token auth', gitOpts, async () => {
  assert.ok(hasGit, 'git CLI missing');
  const tmp = tempDir('berth-git-');
  const token = 's3cret-token';
  const server = await startGitServer({ root: join(tmp.path, 'repos'), token });
  try {
    const repo = server.createBareRepo('catalog');
    const first = server.commitFiles('catalog', { 'README.md': '# catalog\n', 'templates/web/0/template.yaml': 'name: web\n' }, { message: 'seed' });
    assert.equal(server.revParse('catalog', 'refs/heads/main'), first);

    const onAuth = () => ({ username: 'berth', password: token });
    const a = join(tmp.path, 'a');
    await git.clone({ fs, http: gitHttp, dir: a, url: repo.url, onAuth, singleBranch: true, ref: 'main' });
    assert.equal(fs.readFileSync(join(a, 'README.md'), 'utf8'), '# catalog\n');

    // wrong/missing credentials → 401
    await assert.rejects(
      git.clone({ fs, http: gitHttp, dir: join(tmp.path, 'nope'), url: repo.url }),
      (e: Error & { code?: string; data?: { statusCode?: number } }) => e.code === 'HttpError' && e.data?.statusCode === 401,
    );
    const anon = await httpGet(`${repo.url}/info/refs?service=git-upload-pack`);
    assert.equal(anon.status, 401);
    assert.match(String(anon.headers['www-authenticate']), /^Basic /);

    // commit + push
    fs.writeFileSync(join(a, 'deploy.txt'), 'v2\n');
    await git.add({ fs, dir: a, filepath: 'deploy.txt' });
    const sha = await git.commit({ fs, dir: a, message: 'deploy v2', author: { name: 'Berth', email: 'berth@localhost' } });
    const pushed = server.nextPush('catalog');
    const res = await git.push({ fs, http: gitHttp, dir: a, remote: 'origin', ref: 'main', onAuth });
    assert.equal(res.ok, true);
    const ev = await pushed;
    assert.equal(ev.repo, 'catalog');
    assert.equal(ev.user, 'berth');
    assert.equal(server.revParse('catalog', 'refs/heads/main'), sha);
    assert.equal(server.pushes.length, 1);

    // another clone sees it after a fetch
    const b = join(tmp.path, 'b');
    await git.clone({ fs, http: gitHttp, dir: b, url: repo.url, onAuth, singleBranch: true, ref: 'main', depth: 1 });
    const c2 = server.commitFiles('catalog', { 'deploy.txt': 'v3\n' }, { message: 'deploy v3' });
    const fetched = await git.fetch({ fs, http: gitHttp, dir: a, remote: 'origin', ref: 'main', onAuth, singleBranch: true });
    assert.equal(fetched.fetchHead, c2);
    assert.ok(fs.existsSync(join(b, 'deploy.txt')));

    // the git CLI works too (token in the URL), and a gzip-encoded upload-pack request is served
    const cli = join(tmp.path, 'cli');
    // (async: a spawnSync would block the event loop this in-process server runs on)
    await promisify(execFile)('git', ['clone', '--quiet', server.authedUrl('catalog'), cli], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, timeout: 30000 });
    assert.equal(fs.readFileSync(join(cli, 'deploy.txt'), 'utf8'), 'v3\n');

    const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, '0') + s;
    const body = gzipSync(Buffer.from(pkt(`want ${c2} ofs-delta\n`) + '0000' + pkt('done\n')));
    const packed = await fetch(`${repo.url}/git-upload-pack`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-git-upload-pack-request',
        'Content-Encoding': 'gzip',
        Authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
      },
      body,
    });
    assert.equal(packed.status, 200);
    const buf = Buffer.from(await packed.arrayBuffer());
    assert.ok(buf.includes(Buffer.from('NAK')), 'NAK line');
    assert.ok(buf.includes(Buffer.from('PACK')), 'a packfile');
  } finally {
    await server.close();
    tmp.remove();
  }
});
