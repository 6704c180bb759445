/**
 * dockerode, without the two transports Berth rarely needs loaded up front.
 *
 * dockerode requires @grpc/grpc-js and protobufjs at load time (lib/session.js, only for BuildKit sessions,
 * which Berth never opens), and docker-modem requires ssh2 at load time (lib/ssh.js, only for ssh://
 * endpoints). Together they are about 20 MiB of resident memory in every Berth process, a fifth of what a
 * long-running `berth serve` may use. Both files export one function, so each is put in the module cache as a
 * stand-in function that loads the real module on its first call: an ssh:// host still works (ssh2 loads
 * when its first request is made), a unix or TLS host never loads it.
 *
 * Every other import of dockerode goes through this module (types excepted), so the stand-ins are in place
 * before dockerode's own require() calls run.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type DockerodeClass from 'dockerode';

const require = createRequire(import.meta.url);

/** A module file whose only export is a function: the module cache gets a stand-in until it is first called. */
function deferFunctionModule(file: string): void {
  if (require.cache[file]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const load = () => {
    if (!real) {
      delete require.cache[file];
      real = require(file) as (...args: unknown[]) => unknown;
    }
    return real;
  };
  const standIn = function (this: unknown, ...args: unknown[]) {
    return load().apply(this, args);
  };
  // The shape of a loaded CommonJS module record is all require() reads from the cache.
  require.cache[file] = { id: file, filename: file, loaded: true, exports: standIn, children: [], paths: [] } as unknown as NodeJS.Module;
}

const dockerodeMain = require.resolve('dockerode');
const modemMain = require.resolve('docker-modem', { paths: [path.dirname(dockerodeMain)] });
/** Files replaced by stand-ins, exported so a test can check they stay unloaded. */
export const DEFERRED_MODULES = [
  path.join(path.dirname(dockerodeMain), 'session.js'),
  path.join(path.dirname(modemMain), 'ssh.js'),
] as const;
for (const file of DEFERRED_MODULES) deferFunctionModule(file);

const Docker = require('dockerode') as typeof DockerodeClass;
export default Docker;
