/**
 * `berth bundle create|inspect|verify|load|keygen`: one file that carries a release (catalogs with history,
 * images, optionally the environment) to a site with no network, and installs or upgrades it there.
 */
import { Option, type Command } from 'commander';
import { envOption } from './options.ts';
import type { CreateOpts, InspectOpts, LoadOpts, VerifyOpts } from './bundle-actions.ts';

// Bundle work loads tar, zlib and the git layer only when a bundle command runs.
const actions = () => import('./bundle-actions.ts');

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerBundleCommands(program: Command): void {
  const bundle = program.command('bundle')
    .description('offline bundles: carry catalogs, images and the environment to a site with no network')
    .addHelpText('after', '\nA vendor runs `create` (and `keygen` once, to sign); the operator runs `verify` and `load`. See README "Offline sites".');
  bundle.command('create')
    .description('write a bundle: the catalogs as git data with history, every image their stacks render to, a manifest with SHA-256s')
    .requiredOption('-o, --output <file>', 'the bundle file to write (written as FILE.partial, renamed when complete)')
    .option('--env <dir>', 'an environment: its stacks say which templates, versions and images go in')
    .option('--stacks <names>', 'only these stacks of --env (comma-separated)')
    .option('--catalog <name|dir>', 'with --env, a catalog of berth.yml to carry besides those the stacks use; without, a catalog repository as NAME=DIR or DIR (named after its folder; repeatable)', collect)
    .option('--all-versions', 'every version of the templates, not just the installed one and the one an upgrade would propose')
    .option('--include-env', 'carry the environment repository too (its checked-out branch)')
    .option('--sign <key>', 'sign with this Ed25519 private key (PEM; berth bundle keygen makes one)')
    .addOption(new Option('--docker-host <endpoint>', 'the Docker host to export the images from (default: --from, else $DOCKER_HOST, else the local socket)'))
    .option('--from <host>', 'with --env, the host of berth.yml to export the images from')
    .option('--gzip-level <n>', 'gzip level of the layers, 1 (fast, the default) to 9 (small)', '1')
    .option('--json', 'print the manifest as JSON')
    .action(async (opts: CreateOpts) => (await actions()).createAction(opts));
  bundle.command('inspect')
    .description('the manifest as tables (or --json): catalogs, stacks, images, layers; reads no image data')
    .argument('<file>', 'the bundle')
    .option('--json', 'print the manifest as JSON')
    .action(async (file: string, opts: InspectOpts) => (await actions()).inspectAction(file, opts));
  bundle.command('verify')
    .description('check every part against the manifest\'s SHA-256 and, with --key, the signature; exit 1 if anything is wrong')
    .argument('<file>', 'the bundle')
    .option('--key <pub>', 'the vendor\'s Ed25519 public key (PEM): refuse a bundle it did not sign')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: VerifyOpts) => (await actions()).verifyAction(file, opts));
  bundle.command('load')
    .description('verify, then load into each host only the images it lacks, then install or fast-forward the catalogs (and environment)')
    .argument('<file>', 'the bundle')
    .addOption(envOption('environment folder (installed from the bundle if it carries one and the folder is empty)'))
    .option('--hosts <selector>', 'only the hosts of berth.yml whose labels match, e.g. role=web,zone=a (default: every host)')
    .option('--swarm <name>', 'every node of this Swarm of berth.yml instead of hosts (each node\'s engine: its managers: and nodes:)')
    .option('--key <pub>', 'the vendor\'s Ed25519 public key (PEM): refuse a bundle it did not sign')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: LoadOpts) => (await actions()).loadAction(file, opts));
  bundle.command('keygen')
    .description('make an Ed25519 key pair for signing bundles: FILE (private, keep it) and FILE.pub (give it to operators)')
    .requiredOption('--out <file>', 'where to write the private key; the public key goes to FILE.pub')
    .action(async (opts: { out: string }) => (await actions()).keygenAction(opts));
}
