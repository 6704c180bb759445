/**
 * Offline bundles beside the docker pipeline: `berth bundle create` against `docker save | gzip`, and
 * `berth bundle load` against `gunzip | docker load`, on the same images — time and peak RSS of whole processes.
 *
 *   node --import tsx bench/bundle.ts [--mib 1024] [--level 1] [--keep-temp]
 *
 * Images (made here, on the default engine): a base layer of random bytes shared by three images, each with a
 * random layer of its own; --mib is their total unique size. Loads go to the air-gapped test host
 * (test/harness/airgap.ts), emptied of these images before each run. Needs root, docker, GNU time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, level: { type: 'string', default: '1' }, 'keep-temp': { type: 'boolean', default: false } } });
const MIB = Number(opts.mib);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SOURCE = 'unix:///var/run/docker.sock';
const SITE = 'unix:///run/berth-test/airgap.sock';
const IMAGES = ['berth-bench/app1:1', 'berth-bench/app2:1', 'berth-bench/app3:1'];
const work = mkdtempSync(path.join(tmpdir(), 'berth-bench-bundle-'));

function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Wall seconds and peak RSS (MiB, the largest process of the command) of a shell command. */
function measure(cmd: string): { secs: number; rssMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'sh', '-c', cmd], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [secs, kib] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { secs, rssMiB: kib / 1024 };
}

function makeImages(): void {
  const share = Math.round(MIB / 4);
  const own = Math.round((MIB - share) / 3);
  const base = path.join(work, 'base');
  mkdirSync(path.join(base, 'bin'), { recursive: true });
  sh(`cp /bin/busybox ${base}/bin/ && head -c ${share}M /dev/urandom > ${base}/shared.bin`);
  sh(`tar -C ${base} -c . | docker -H ${SOURCE} import -c 'CMD ["/bin/busybox","sleep","3600"]' - berth-bench/base:1 >/dev/null`);
  IMAGES.forEach((tag, i) => {
    const dir = path.join(work, `app${i}`);
    mkdirSync(dir, { recursive: true });
    sh(`head -c ${own}M /dev/urandom > ${dir}/own.bin`);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM berth-bench/base:1\nCOPY own.bin /own.bin\n');
    sh(`DOCKER_BUILDKIT=0 docker -H ${SOURCE} build -q -t ${tag} ${dir} >/dev/null`);
  });
}

function makeCatalogAndSite(): { catalog: string; site: string } {
  const catalog = path.join(work, 'catalog');
  mkdirSync(path.join(catalog, 'templates/bench/0'), { recursive: true });
  writeFileSync(path.join(catalog, 'templates/bench/config.yml'), 'name: bench\ndescription: bundle benchmark\n');
  writeFileSync(path.join(catalog, 'templates/bench/0/berth.yml'), 'version: 1.0.0\nquestions: []\n');
  writeFileSync(path.join(catalog, 'templates/bench/0/docker-compose.yml'), `services:\n${IMAGES.map((t, i) => `  app${i}:\n    image: ${t}\n`).join('')}`);
  sh(`cd ${catalog} && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench`);
  const site = path.join(work, 'site');
  mkdirSync(site, { recursive: true });
  writeFileSync(path.join(site, 'berth.yml'), `catalogs:\n  - { name: bench, path: catalogs/bench }\nhosts:\n  - { name: site, endpoint: ${SITE} }\n`);
  return { catalog, site };
}

function emptySite(): void {
  sh(`docker -H ${SITE} rmi -f ${IMAGES.join(' ')} berth-bench/base:1 >/dev/null 2>&1 || true; docker -H ${SITE} image prune -f >/dev/null`);
}

function row(what: string, docker: { secs: number; rssMiB: number }, berth: { secs: number; rssMiB: number }): string {
  const ratio = berth.secs / docker.secs;
  return `| ${what} | ${docker.secs.toFixed(1)} s, ${docker.rssMiB.toFixed(0)} MiB | ${berth.secs.toFixed(1)} s, ${berth.rssMiB.toFixed(0)} MiB | ${ratio.toFixed(2)}× | ${ratio <= 1.2 && berth.rssMiB < 150 ? 'pass' : 'miss'} |`;
}

try {
  process.stdout.write(`making ${MIB} MiB of images (a quarter shared by all three) on ${SOURCE}\n`);
  makeImages();
  const { catalog, site } = makeCatalogAndSite();
  const gz = path.join(work, 'images.tar.gz');
  const bundle = path.join(work, 'bench.berth');
  const berth = `node ${ROOT}/bin/berth.js`;
  const saveD = measure(`docker -H ${SOURCE} save ${IMAGES.join(' ')} | gzip > ${gz}`);
  const saveB = measure(`BERTH_LOG_LEVEL=warn ${berth} bundle create -o ${bundle} --catalog bench=${catalog} --docker-host ${SOURCE} --gzip-level ${opts.level} >/dev/null`);
  emptySite();
  const loadD = measure(`gunzip -c ${gz} | docker -H ${SITE} load -q >/dev/null`);
  emptySite();
  rmSync(path.join(site, 'catalogs'), { recursive: true, force: true });
  const loadB = measure(`BERTH_LOG_LEVEL=warn ${berth} bundle load ${bundle} --env ${site} >/dev/null`);
  const layers = JSON.parse(sh(`${berth} bundle inspect ${bundle} --json`)) as { layers: unknown[]; images: { layers: string[] }[] };
  emptySite();
  process.stdout.write([
    '',
    `| ${MIB} MiB of images, 3 images sharing a ${Math.round(MIB / 4)} MiB layer | docker CLI + gzip | berth | ratio | target (≤ 1.2×, < 150 MiB) |`,
    '|---|---|---|---|---|',
    row('create / save', saveD, saveB),
    row('load', loadD, loadB),
    '',
    `file sizes: docker save | gzip ${(statSync(gz).size / 2 ** 20).toFixed(0)} MiB, bundle ${(statSync(bundle).size / 2 ** 20).toFixed(0)} MiB (gzip level ${opts.level});`,
    `layers: ${layers.layers.length} stored, ${layers.images.reduce((n, i) => n + i.layers.length, 0)} referenced by the images`,
    '',
  ].join('\n'));
} finally {
  sh(`docker -H ${SOURCE} rmi -f ${IMAGES.join(' ')} berth-bench/base:1 >/dev/null 2>&1 || true`);
  if (!opts['keep-temp']) rmSync(work, { recursive: true, force: true });
}
