// Compose fidelity (#10), through the real engine: each file deployed by docker-compose and by Berth on h1 under
// the same project name, one after the other, and the containers compared by inspect (harness/compose-compare.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { berthUp, compareDeploys, composeUp, removeProject, writeProject, type CompareSetup } from '../harness/compose-compare.ts';
import { dockerGate, tempDir } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { execIn } from './execute-helpers.ts';

const gate = await dockerGate();
const tmp = tempDir('berth-compose-compare-');
const HOST = 'h1';
const BOX = 'berth-test/busybox:1';
const projects: string[] = [];

function setup(name: string, compose: string, files: Record<string, string> = {}, profiles?: string[]): CompareSetup {
  const project = `cmp${name}`;
  projects.push(project);
  return { gate, host: HOST, project, dir: path.join(tmp.path, project), compose, files, ...(profiles ? { profiles } : {}) };
}

const sleeper = (extra = '') => `    image: ${BOX}\n    command: ["sleep", "3600"]\n${extra}`;

describe('side by side with docker-compose', () => {
  before(async () => {
    if (gate.ok) await ensureImages(gate.docker(HOST));
  });
  after(async () => {
    if (gate.ok) for (const p of projects) await removeProject(gate.docker(HOST), p).catch(() => {});
    tmp.remove();
  });

  test('./ bind sources resolve against the project folder (the environment root)', gate.opts, async () => {
    const s = setup('binds', `services:\n  app:\n${sleeper('    volumes:\n      - ./data:/data\n      - ./conf/app.conf:/etc/app.conf:ro\n      - /srv:/srv-ro:ro\n')}`,
      { 'conf/app.conf': 'x=1\n' });
    const { compose, berth } = await compareDeploys(s);
    assert.deepEqual(berth.app.mounts, compose.app.mounts);
    assert.ok(berth.app.mounts.includes(`bind ${path.dirname(s.dir)}/<project>/data /data rw`), berth.app.mounts.join('\n'));
    assert.equal(berth.app.state, 'running');
  });

  test('network_mode service:X starts after X; replacing X takes the sharer with it', gate.opts, async () => {
    const file = (v: string) => `services:\n  app:\n${sleeper('    network_mode: service:vpn\n')}  vpn:\n${sleeper(`    environment:\n      V: "${v}"\n`)}`;
    const s = setup('netns', file('1'));
    const { compose, berth } = await compareDeploys(s);
    assert.deepEqual(berth.app.host.NetworkMode, compose.app.host.NetworkMode);
    assert.equal(berth.app.host.NetworkMode, 'container:<vpn>');
    assert.deepEqual([berth.app.state, berth.vpn.state], ['running', 'running']);
    const again = await berthUp({ ...s, compose: file('2') });
    const app = again.plan.hosts[0].operations.find((o) => 'service' in o && o.service === 'app');
    assert.equal(app?.kind, 'recreate');
    const docker = gate.docker(HOST);
    const vpnId = (await docker.getContainer(`${s.project}-vpn-1`).inspect()).Id;
    const appInfo = await docker.getContainer(`${s.project}-app-1`).inspect();
    assert.equal(appInfo.State.Status, 'running');
    assert.equal(appInfo.HostConfig.NetworkMode, `container:${vpnId}`);
  });

  test('value-less environment keys take the project .env value, as compose does', gate.opts, async () => {
    const s = setup('env', `services:\n  app:\n${sleeper('    environment:\n      - TOKEN\n      - FIXED=1\n')}`, { '.env': 'TOKEN=from-dotenv\n' });
    const { compose, berth } = await compareDeploys(s);
    assert.deepEqual(berth.app.env.filter((e) => /^(TOKEN|FIXED)=/.test(e)), compose.app.env.filter((e) => /^(TOKEN|FIXED)=/.test(e)));
    assert.ok(berth.app.env.includes('TOKEN=from-dotenv'));
  });

  test('a file secret is readable by a non-root user, as with compose', gate.opts, async () => {
    const compose = `services:\n  db:\n    image: ${BOX}\n    user: "1000:1000"\n    command: ["sh", "-c", "cat /run/secrets/pw && sleep 3600"]\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw.txt\n`;
    const s = setup('secret', compose, { 'pw.txt': 's3cret' });
    writeProject(s);
    chmodSync(path.join(s.dir, 'pw.txt'), 0o644);
    const views = await compareDeploys(s);
    assert.deepEqual([views.berth.db.state, views.compose.db.state], ['running', 'running']);
    const read = await execIn(gate.docker(HOST), `${s.project}-db-1`, ['cat', '/run/secrets/pw']);
    assert.deepEqual([read.code, read.output], [0, 's3cret']);
  });

  test('service_healthy on a dependency without a healthcheck is refused by both, naming both services', gate.opts, async () => {
    const s = setup('healthy', `services:\n  web:\n${sleeper('    depends_on:\n      db:\n        condition: service_healthy\n')}  db:\n${sleeper()}`);
    writeProject(s);
    await removeProject(gate.docker(HOST), s.project);
    await assert.rejects(composeUp(s), /healthcheck/i);
    await removeProject(gate.docker(HOST), s.project);
    await assert.rejects(berthUp(s), /service "web" waits for service "db" to be healthy .* "db" has no healthcheck/);
  });

  test('compose\'s project labels are written on containers, networks and volumes', gate.opts, async () => {
    const s = setup('labels', `services:\n  app:\n${sleeper('    labels:\n      team: a\n    volumes:\n      - data:/data\n')}volumes:\n  data: {}\n`);
    const { compose, berth } = await compareDeploys(s);
    assert.deepEqual(berth.app.labels, compose.app.labels);
    const docker = gate.docker(HOST);
    const info = await docker.getContainer(`${s.project}-app-1`).inspect();
    assert.equal(info.Config.Labels['com.docker.compose.project.working_dir'], s.dir);
    assert.equal(info.Config.Labels['com.docker.compose.project.config_files'], path.join(s.dir, 'docker-compose.yml'));
    assert.match(info.Config.Labels['com.docker.compose.version'], /^\d+\.\d+\.\d+$/);
    const net = await docker.getNetwork(`${s.project}_default`).inspect();
    const vol = await docker.getVolume(`${s.project}_data`).inspect();
    assert.ok(net.Labels?.['com.docker.compose.version'] && vol.Labels?.['com.docker.compose.version']);
  });

  test('single-host keys reach the engine as compose sends them', gate.opts, async () => {
    const s = setup('keys', [
      'services:',
      '  base:',
      sleeper([
        '    dns: [10.0.0.53]', '    dns_search: [corp.example]', '    dns_opt: ["ndots:2"]', '    security_opt: ["no-new-privileges:true"]',
        '    read_only: true', '    shm_size: 64m', '    pids_limit: 100', '    ipc: shareable', '    mem_reservation: 32m',
        '    group_add: ["1234"]', '    domainname: corp.example', '    volumes: [shared:/shared]', '',
      ].join('\n')).trimEnd(),
      '  side:',
      sleeper(['    ipc: service:base', '    pid: service:base', '    volumes_from: ["base:ro"]', '    links: ["base:db"]', ''].join('\n')).trimEnd(),
      'volumes:',
      '  shared: {}',
      '',
    ].join('\n'));
    const { compose, berth } = await compareDeploys(s);
    for (const svc of ['base', 'side']) {
      assert.deepEqual(berth[svc].host, compose[svc].host, svc);
      assert.deepEqual(berth[svc].mounts, compose[svc].mounts, svc);
      assert.equal(berth[svc].state, 'running', svc);
    }
  });
});
