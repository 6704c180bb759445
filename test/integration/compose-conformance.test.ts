// Conformance (#10): compose files written for these tests in the shapes real projects write them, each deployed
// by docker-compose and by Berth on h1 and compared by inspect (harness/compose-compare.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { compareDeploys, removeProject, type CompareSetup, type ContainerView } from '../harness/compose-compare.ts';
import { dockerGate, tempDir } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { execIn } from './execute-helpers.ts';

const gate = await dockerGate();
const tmp = tempDir('berth-compose-conformance-');
const HOST = 'h1';
const projects: string[] = [];

function setup(project: string, compose: string, files: Record<string, string>, profiles?: string[]): CompareSetup {
  projects.push(project);
  return { gate, host: HOST, project, dir: path.join(tmp.path, project), compose, files, ...(profiles ? { profiles } : {}) };
}

/** Secrets are bind-mounted by compose and copied in by Berth: compared by reading them, not by mount list. */
const withoutSecrets = (v: ContainerView) => ({ ...v, mounts: v.mounts.filter((m) => !m.includes(' /run/secrets/')) });

before(async () => {
  if (gate.ok) await ensureImages(gate.docker(HOST));
});
after(async () => {
  if (gate.ok) for (const p of projects) await removeProject(gate.docker(HOST), p).catch(() => {});
  tmp.remove();
});

// A large self-hosted product's shape: x- anchors and merge keys, value-less env keys, a healthy-gated database
// reading its password file as a non-root user, a sidecar in the app's network namespace, an opt-in profile.
const SELF_HOSTED = `
x-common: &common
  image: berth-test/busybox:1
  restart: unless-stopped
  labels:
    com.example.product: selfhosted
x-env: &env
  TZ: UTC
  SECRET_KEY:
services:
  db:
    <<: *common
    user: "999:999"
    command: ["sh", "-c", "cat /run/secrets/db_password >/dev/null && exec sleep 3600"]
    environment:
      <<: *env
      DB_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
    healthcheck:
      test: ["CMD", "cat", "/run/secrets/db_password"]
      interval: 1s
      retries: 5
    volumes:
      - dbdata:/var/lib/db
  app:
    <<: *common
    command: ["sleep", "3600"]
    environment:
      <<: *env
      DB_HOST: db
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - ./config:/config:ro
      - uploads:/uploads
    networks:
      default:
        aliases: [web]
  proxy-sidecar:
    <<: *common
    command: ["sleep", "3600"]
    network_mode: service:app
  debug-shell:
    <<: *common
    command: ["sleep", "3600"]
    profiles: [debug]
secrets:
  db_password:
    file: ./secrets/db_password.txt
volumes:
  dbdata: {}
  uploads: {}
`;

test('a self-hosted product: anchors, merge keys, value-less env, healthy gate, file secret, sidecar, profile', gate.opts, async () => {
  const s = setup('cfselfhosted', SELF_HOSTED, {
    '.env': 'SECRET_KEY=k-123\n',
    'config/app.yml': 'x: 1\n',
    'secrets/db_password.txt': 'pw',
  }, ['debug']);
  const { compose, berth } = await compareDeploys(s);
  assert.deepEqual(Object.keys(berth).sort(), ['app', 'db', 'debug-shell', 'proxy-sidecar']);
  for (const svc of Object.keys(compose)) assert.deepEqual(withoutSecrets(berth[svc]), withoutSecrets(compose[svc]), svc);
  assert.ok(berth.app.env.includes('SECRET_KEY=k-123'));
  assert.equal(berth['proxy-sidecar'].host.NetworkMode, 'container:<app>');
  const read = await execIn(gate.docker(HOST), 'cfselfhosted-db-1', ['cat', '/run/secrets/db_password']);
  assert.deepEqual([read.code, read.output], [0, 'pw']);
});

// A sample app's shape: a web server with its content bind-mounted from ./ and a fixed container name.
const SAMPLE_APP = `
services:
  web:
    image: berth-test/web:1
    container_name: cfsample-frontend
    volumes:
      - ./site:/www:ro
    read_only: true
    tmpfs: [/tmp]
    links: [api]
  api:
    image: berth-test/busybox:1
    command: ["sleep", "3600"]
    env_file: [./api.env]
    environment:
      - MODE=demo
`;

test('a sample app: ./ content, container_name, read-only root, tmpfs, links, env_file', gate.opts, async () => {
  const s = setup('cfsample', SAMPLE_APP, { 'site/index.html': 'hello', 'api.env': 'LEVEL=debug\n' });
  const { compose, berth } = await compareDeploys(s);
  for (const svc of ['web', 'api']) assert.deepEqual(berth[svc], compose[svc], svc);
  const info = await gate.docker(HOST).getContainer('cfsample-frontend').inspect();
  assert.equal(info.State.Status, 'running');
});
