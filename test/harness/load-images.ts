/**
 * Loads the stand-in images into a Docker engine with no registry access:
 *   node --import tsx test/harness/load-images.ts [unix:///var/run/docker.sock]
 * Used by .ci/run so the demo and its test find nginx:1.27-alpine on the default engine (and haproxy:2.6, the
 * load balancer of imported Rancher templates).
 */
import Docker from 'dockerode';
import { ensureImages, STANDARD_IMAGES } from './images.ts';
import { RANCHER_LB_IMAGES, STATIC_SITE_IMAGES } from './standins.ts';

async function main(): Promise<void> {
  const endpoint = process.argv[2] ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!endpoint.startsWith('unix://')) throw new Error(`only unix:// endpoints are supported here, got ${endpoint}`);
  const docker = new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const specs = [...STANDARD_IMAGES, ...STATIC_SITE_IMAGES, ...RANCHER_LB_IMAGES];
  await ensureImages(docker, specs);
  process.stdout.write(`images present on ${endpoint}: ${specs.map((s) => s.tag).join(', ')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`load-images: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
