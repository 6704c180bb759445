// Conformance by key (#10): every service key Berth reads (catalog/normalize-service.ts SERVICE_KEYS, the list
// docs/compose.md's table is made from) is written in one of the compose files below, in the shapes the
// Compose Specification allows, and each file is deployed by docker-compose and by Berth on h1 and compared by
// inspect (harness/compose-compare.ts: image, command, env, mounts, networks and aliases, labels, state, and the
// container and host settings the file sets). A key added to the list without a case here fails the first test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parse } from 'yaml';
import { SERVICE_KEYS } from '../../catalog/normalize-service.ts';
import { berthUp, compareDeploys, composeUp, removeProject, writeProject, type CompareSetup, type ContainerView } from '../harness/compose-compare.ts';
import { dockerGate, removeLabeled, tempDir } from '../harness/env.ts';
import { BUSYBOX_IMAGE, ensureImages } from '../harness/images.ts';

const gate = await dockerGate();
const tmp = tempDir('berth-compose-keys-');
const HOST = 'h1';
const BOX = BUSYBOX_IMAGE;
const EXT_NET = 'cmpk-external';
const EXT_TARGET = 'cmpk-legacy-db';

interface KeyCase {
  project: string;
  /** What the file is, in a few words. */
  what: string;
  compose: string;
  files?: Record<string, string>;
  profiles?: string[];
  /**
   * The file docker-compose 1.29 (the reference here) is given when it predates a key: the same settings in the
   * spelling it knows. Berth still deploys `compose`; the two deploys must come out the same.
   */
  reference?: Array<[string, string]>;
  /** What the deploys may differ in, with the reason. */
  differ?: (v: ContainerView) => ContainerView;
  /** Berth's deploy checked by inspect where the reference cannot say it (a key docker-compose 1.29 lacks). */
  check?: (berth: Record<string, ContainerView>) => void;
}

const sleeper = `    image: ${BOX}\n    command: ["sleep", "3600"]\n`;

const CASES: KeyCase[] = [
  {
    project: 'cmpkproc',
    what: 'the process: entrypoint, command, environment, env and label files, user, working dir, names, tty, init, stop, restart',
    compose: `services:
  app:
    image: ${BOX}
    pull_policy: never
    platform: linux/amd64
    entrypoint: ["sh", "-c"]
    command: ["exec sleep 3600"]
    environment:
      A: "1"
      EMPTY: ""
    env_file: [./app.env]
    labels:
      tier: app
    label_file: ./app.labels
    user: "1000:1000"
    working_dir: /tmp
    hostname: apphost
    domainname: corp.example
    tty: true
    stdin_open: true
    init: true
    stop_signal: SIGINT
    stop_grace_period: 3s
    restart: on-failure:3
`,
    files: { 'app.env': 'FROM_FILE=yes\n# a comment\n', 'app.labels': 'com.example.owner=ops\n' },
    // label_file came with compose v2.23: 1.29 is given the label inline.
    reference: [['    labels:\n      tier: app\n    label_file: ./app.labels\n', '    labels:\n      tier: app\n      com.example.owner: ops\n']],
    check: (berth) => assert.equal(berth.app.labels['com.example.owner'], 'ops'),
  },
  {
    project: 'cmpklimits',
    what: 'limits and privileges: capabilities, security options, read-only root, tmpfs, shm, pids, memory, CPU, ulimits, sysctls, groups, cgroups, devices, logging, namespaces',
    compose: `services:
  box:
${sleeper}    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    security_opt: ["no-new-privileges:true"]
    read_only: true
    tmpfs: [/run]
    shm_size: 32m
    pids_limit: 64
    mem_limit: 64m
    mem_reservation: 32m
    mem_swappiness: 10
    cpus: 0.5
    ulimits:
      nofile: { soft: 1024, hard: 2048 }
      nproc: 512
    sysctls:
      net.core.somaxconn: 1024
    group_add: ["1234"]
    cgroup_parent: /berth-cmpk
    devices: ["/dev/null:/dev/mynull:rwm"]
    device_cgroup_rules: ["c 1:3 mr"]
    logging:
      driver: json-file
      options: { max-size: 1m, max-file: "2" }
  host-ns:
${sleeper}    pid: host
    uts: host
    ipc: private
`,
    // uts came after docker-compose 1.29: its deploy has no UTS mode; Berth's is read back.
    reference: [['    uts: host\n', '']],
    differ: (v) => ({ ...v, host: Object.fromEntries(Object.entries(v.host).filter(([k]) => k !== 'UTSMode')) }),
    check: (berth) => assert.equal(berth['host-ns'].host.UTSMode, 'host'),
  },
  {
    project: 'cmpknet',
    what: 'networks: ports, expose, aliases, internal and external networks, DNS, extra hosts, MAC address, links, external links, a health-gated dependency, no network',
    compose: `services:
  web:
    image: berth-test/web:1
    ports: ["18490:80", "127.0.0.1:18491:80/tcp"]
    expose: ["8080"]
    networks:
      front:
        aliases: [www]
      back: {}
    dns: [10.0.0.53]
    dns_search: [corp.example]
    dns_opt: ["ndots:2"]
    extra_hosts: ["db.local:10.0.0.5"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      timeout: 1s
      retries: 3
      start_period: 1s
  api:
${sleeper}    mac_address: "02:42:ac:11:00:99"
    networks: [back]
    links: ["web:frontend"]
    external_links: ["${EXT_TARGET}:legacy"]
    depends_on:
      web:
        condition: service_healthy
  isolated:
${sleeper}    network_mode: none
networks:
  front:
    driver: bridge
    labels: { zone: front }
  back:
    external: true
    name: ${EXT_NET}
`,
  },
  {
    project: 'cmpkstore',
    what: 'storage and shape: long and short volume syntax with options, volumes_from, secrets and configs, container_name, extends, scale, deploy, profiles, started-order dependencies',
    compose: `x-base: &base
  image: ${BOX}
  command: ["sleep", "3600"]
services:
  base:
    <<: *base
    environment: { ROLE: base }
  data:
    <<: *base
    container_name: cmpkstore-data
    volumes:
      - type: volume
        source: vol
        target: /vol
        volume: { nocopy: true }
      - type: bind
        source: ./conf
        target: /conf
        read_only: true
      - type: tmpfs
        target: /cache
        tmpfs: { size: 1048576 }
      - ./labelled:/labelled:z
    secrets:
      - source: token
        target: api_token
    configs:
      - source: settings
        target: /etc/settings.conf
  seed:
    <<: *base
    volumes: [shared:/shared]
  worker:
    extends: { service: base }
    scale: 2
    volumes_from: ["seed:ro"]
    depends_on: [data]
  replicated:
    <<: *base
    deploy:
      replicas: 2
      resources:
        limits: { memory: 64m, cpus: "0.5" }
        reservations: { memory: 16m }
      restart_policy: { condition: on-failure, max_attempts: 3 }
  optional:
    <<: *base
    profiles: [extra]
volumes:
  vol:
    labels: { keep: "yes" }
  shared: {}
secrets:
  token:
    file: ./token.txt
configs:
  settings:
    file: ./settings.conf
`,
    files: { 'conf/app.conf': 'x=1\n', 'labelled/.keep': '', 'token.txt': 't0ken', 'settings.conf': 'level=2\n' },
    profiles: ['extra'],
    // Secrets and configs: compose 1.29 bind-mounts the files; Berth copies them in before start (the contents
    // and modes are compared by reading them in the file's own test, compose-conformance).
    differ: (v) => ({ ...v, mounts: v.mounts.filter((m) => !/ (\/run\/secrets\/api_token|\/etc\/settings\.conf) /.test(m)) }),
  },
];

/**
 * Keys this machine's engine cannot run whatever sends them: storage_opt needs an xfs backing store with project
 * quotas, privileged needs capabilities this sandbox does not grant. Where the engine can, both deploys must set
 * the same; where it cannot, both must fail with the engine's own reason (Berth sent the key, nothing dropped).
 */
interface EngineBound { project: string; key: string; compose: string; refusal: RegExp; field: 'StorageOpt' | 'Privileged' }
const ENGINE_BOUND: EngineBound[] = [
  { project: 'cmpkstorage', key: 'storage_opt', compose: `services:\n  box:\n${sleeper}    storage_opt: { size: 1G }\n`, refusal: /storage-opt is supported only for overlay over xfs with 'pquota' mount option/, field: 'StorageOpt' },
  { project: 'cmpkpriv', key: 'privileged', compose: `services:\n  box:\n${sleeper}    privileged: true\n`, refusal: /unable to apply caps: operation not permitted/, field: 'Privileged' },
];

function keysUsed(compose: string): Set<string> {
  const doc = parse(compose, { merge: true }) as { services: Record<string, Record<string, unknown>> };
  return new Set(Object.values(doc.services).flatMap((s) => Object.keys(s)));
}

test('every service key Berth reads is written in one of the files deployed here', () => {
  const used = new Set([...CASES, ...ENGINE_BOUND].map((c) => c.compose).flatMap((c) => [...keysUsed(c)]));
  const missing = SERVICE_KEYS.filter((k) => !used.has(k));
  assert.deepEqual(missing, [], `keys Berth reads with no conformance case: ${missing.join(', ')}`);
});

before(async () => {
  if (!gate.ok) return;
  const docker = gate.docker(HOST);
  await ensureImages(docker);
  // The external network and the container an external link names: made by hand, as an operator would.
  await removeLabeled(docker, 'berth-test.cmpk=1');
  await docker.getNetwork(EXT_NET).remove().catch(() => undefined);
  await docker.createNetwork({ Name: EXT_NET, Labels: { 'berth-test.cmpk': '1' } });
  const target = await docker.createContainer({ name: EXT_TARGET, Image: BOX, Cmd: ['sleep', '3600'], Labels: { 'berth-test.cmpk': '1' }, HostConfig: { NetworkMode: EXT_NET } });
  await target.start();
});

after(async () => {
  if (gate.ok) {
    const docker = gate.docker(HOST);
    for (const c of CASES) await removeProject(docker, c.project).catch(() => {});
    await removeLabeled(docker, 'berth-test.cmpk=1').catch(() => {});
    await docker.getNetwork(EXT_NET).remove().catch(() => undefined);
  }
  tmp.remove();
});

function setupOf(c: KeyCase): CompareSetup {
  return { gate, host: HOST, project: c.project, dir: path.join(tmp.path, c.project), compose: c.compose, files: c.files ?? {}, ...(c.profiles ? { profiles: c.profiles } : {}) };
}

for (const c of CASES) {
  test(`${c.project}: ${c.what}`, gate.opts, async () => {
    const s = setupOf(c);
    let views;
    if (c.reference) {
      // docker-compose deploys the reference spelling, Berth the file itself, in the same project folder.
      let reference = c.compose;
      for (const [from, to] of c.reference) {
        assert.ok(reference.includes(from), `the reference replaces ${JSON.stringify(from)}`);
        reference = reference.replace(from, to);
      }
      const docker = gate.docker(HOST);
      writeProject({ ...s, compose: reference });
      await removeProject(docker, s.project);
      await composeUp(s);
      const { snapshot } = await import('../harness/compose-compare.ts');
      const compose = await snapshot(docker, s.project);
      await removeProject(docker, s.project);
      writeProject(s);
      await berthUp(s);
      views = { compose, berth: await snapshot(docker, s.project) };
    } else {
      views = await compareDeploys(s);
    }
    const same = c.differ ?? ((v: ContainerView) => v);
    assert.deepEqual(Object.keys(views.berth).sort(), Object.keys(views.compose).sort());
    for (const svc of Object.keys(views.compose)) {
      assert.deepEqual(same(views.berth[svc]), same(views.compose[svc]), `${c.project} ${svc}`);
      assert.equal(views.berth[svc].state, 'running', `${c.project} ${svc}`);
    }
    c.check?.(views.berth);
  });
}

for (const e of ENGINE_BOUND) {
  test(`${e.key} reaches the engine: both deploys set it, or both fail with the engine's reason`, gate.opts, async () => {
    const s: CompareSetup = { gate, host: HOST, project: e.project, dir: path.join(tmp.path, e.project), compose: e.compose };
    writeProject(s);
    const docker = gate.docker(HOST);
    await removeProject(docker, s.project);
    const composeErr = await composeUp(s).then(() => '', (err: Error) => err.message);
    await removeProject(docker, s.project);
    if (!composeErr) {
      const { compose, berth } = await compareDeploys(s);
      assert.deepEqual(berth.box.host[e.field], compose.box.host[e.field]);
      assert.equal(berth.box.state, 'running');
      return;
    }
    const berthErr = await berthUp(s).then(() => '', (err: Error) => err.message);
    await removeProject(docker, s.project);
    assert.match(composeErr, e.refusal);
    assert.match(berthErr, e.refusal);
  });
}
