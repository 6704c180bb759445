/**
 * What a service takes from the environment folder at apply time, beyond its env files: relative bind-mount
 * sources made absolute, value-less environment keys filled from the folder's `.env`, and label files read.
 * compose takes these from the project directory and the shell; Berth's project directory is the environment
 * root (a vendor's template has no folder on the operator's machine), and it never reads its own process
 * environment into a container.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { MountModel, ServiceModel } from '../../catalog/model.ts';
import { envFile, parseEnvFile, readPath, readText, type Reader } from './desired.ts';

/** `./data` and `../x` are relative to the environment root; `~/x` to the home of the user Berth runs as. */
export function resolveBindSource(root: string, source: string): string {
  if (source === '~' || source.startsWith('~/')) return path.join(homedir(), source.slice(1));
  return path.isAbsolute(source) ? source : path.resolve(root, source);
}

function resolveMounts(root: string, mounts: MountModel[]): MountModel[] {
  return mounts.map((m) => (m.type === 'bind' ? { ...m, source: resolveBindSource(root, m.source) } : m));
}

const DOTENV = '.env';

async function dotenv(r: Reader): Promise<Record<string, string>> {
  r.dotenv ??= readText(r, DOTENV).then((text) => (text === undefined ? undefined : parseEnvFile(text)), () => undefined);
  return (await r.dotenv) ?? {};
}

/**
 * A key written without a value takes the `.env` value; failing that, the value an env file of the service gave;
 * failing both it is an error naming service and key (compose would pass the shell's value, or nothing).
 */
async function fillValueless(r: Reader, svc: ServiceModel, fromFiles: Record<string, string>): Promise<Record<string, string>> {
  const keys = svc.environment_from_dotenv ?? [];
  if (!keys.length) return svc.environment;
  const env = await dotenv(r);
  const out = { ...svc.environment };
  for (const key of keys) {
    if (Object.hasOwn(env, key)) out[key] = env[key];
    else if (Object.hasOwn(fromFiles, key)) out[key] = fromFiles[key];
    else {
      r.problems.push({
        file: r.spec.file, field: `services.${svc.name}.environment.${key}`,
        message: `service "${svc.name}": environment variable ${key} has no value; set ${key}=… in ${DOTENV} at the environment root (${path.join(r.env.root, DOTENV)}), in an env_file of the service, or give it a value in the template`,
      });
    }
  }
  return out;
}

async function labelFiles(r: Reader, svc: ServiceModel): Promise<Record<string, string>> {
  const labels: Record<string, string> = {};
  for (const f of svc.label_file ?? []) Object.assign(labels, envFile(r, (await readPath(r, f, `service "${svc.name}" label_file`)) ?? '', `service "${svc.name}" label_file ${f}`));
  return { ...labels, ...svc.labels };
}

/** The service as a host runs it: env file values already merged into `environment` by the caller. */
export async function withHostInputs(r: Reader, svc: ServiceModel, fromFiles: Record<string, string>): Promise<ServiceModel> {
  const { environment_from_dotenv: _d, label_file: _l, ...rest } = svc;
  return {
    ...rest,
    environment: await fillValueless(r, svc, fromFiles),
    labels: await labelFiles(r, svc),
    volumes: resolveMounts(r.env.root, svc.volumes),
  };
}
