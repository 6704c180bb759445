/**
 * `berth secret keygen|encrypt`: age keys for the environment, and encrypted answers written into stack files.
 * A secret value is read from stdin only — never from argv, where shell history and `ps` would keep it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { envOption } from './options.ts';
import { UserError } from '../lib/errors.ts';
import { parseRecipients, RECIPIENTS_FILE } from '../lib/secrets.ts';

// age loads only when a secret command runs.
const secrets = () => import('../lib/secrets.ts');


export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** `echo pw | berth secret encrypt …` ends the value with a newline nobody meant: one is dropped. */
export function valueFromInput(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export { parseRecipients } from '../lib/secrets.ts';

async function recipientsFor(envDir: string, given: string[]): Promise<string[]> {
  if (given.length) return given;
  const file = path.join(envDir, RECIPIENTS_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const found = text === undefined ? [] : parseRecipients(text);
  if (!found.length) {
    throw new UserError('SECRET_NO_RECIPIENTS', `no age recipients: give --recipient age1… or list them in ${file}`, {
      hint: '`berth secret keygen --out key.txt` prints a recipient (the public key) to put there, one per line.',
    });
  }
  return found;
}

async function stackFile(envDir: string, stack: string): Promise<string> {
  for (const ext of ['yml', 'yaml']) {
    const file = path.join(envDir, 'stacks', `${stack}.${ext}`);
    if (await readFile(file, 'utf8').then(() => true, () => false)) return file;
  }
  throw new UserError('STACK_NOT_FOUND', `no stack file stacks/${stack}.yml in ${path.resolve(envDir)}`, { hint: 'Check the stack name and --env.' });
}

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description('age-encrypted answers: make a key, encrypt a value into a stack file');

  secret.command('keygen')
    .description('make an age identity (private key) in a new file and print its recipient (public key)')
    .requiredOption('--out <file>', 'file to write the identity to (must not exist)')
    .action(async (opts: { out: string }) => {
      const { identity, recipient } = await (await secrets()).generateKey();
      const text = `# created by berth secret keygen: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
      await writeFile(opts.out, text, { flag: 'wx', mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
        throw new UserError('SECRET_KEY_FILE_EXISTS', e.code === 'EEXIST' ? `${opts.out} exists already; it is not overwritten` : `cannot write ${opts.out}: ${e.message}`);
      });
      process.stdout.write(`${recipient}\n`);
      process.stderr.write(`identity written to ${opts.out}: give it to Berth as BERTH_AGE_KEY_FILE; add the recipient above to ${RECIPIENTS_FILE} in the environment\n`);
    });

  secret.command('generate')
    .description('make the answers the stack\'s template has Berth generate and the stack has none of, encrypted into stacks/STACK.yml (then commit it)')
    .argument('<stack>', 'the stack')
    .addOption(envOption())
    .option('--recipient <age1…>', `encrypt for this recipient (repeatable; default: the lines of ${RECIPIENTS_FILE})`, (v: string, prev: string[] = []) => [...prev, v])
    .action(async (stack: string, opts: { env: string; recipient?: string[] }) => {
      const [{ loadEnvironment, assertUsable }, { stacksToGenerate, withGeneratedAnswers }] = await Promise.all([import('../environment/environment.ts'), import('../upgrades/generated.ts')]);
      const env = await loadEnvironment(opts.env);
      const spec = env.stacks.find((s) => s.name === stack);
      if (!spec) throw new UserError('STACK_NOT_FOUND', `no stack file stacks/${stack}.yml in ${env.root}`, { hint: 'Check the stack name and --env.' });
      assertUsable(spec);
      const [wanted] = await stacksToGenerate({ ...env, stacks: [spec] }, new Map());
      if (!wanted) return void process.stdout.write(`stack ${stack} has an answer to every question Berth generates\n`);
      const recipients = await recipientsFor(opts.env, opts.recipient ?? []);
      const file = path.join(env.root, spec.file);
      const made = await withGeneratedAnswers(await readFile(file, 'utf8'), spec.file, stack, wanted.questions, recipients);
      if (made) await writeFile(file, made.text);
      process.stdout.write(`${(made?.variables ?? []).map((v) => `answers.${v}`).join(', ')} of ${spec.file} generated, encrypted for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}; commit the file\n`);
    });

  secret.command('encrypt')
    .description('encrypt a value read from stdin and write it as answers.VARIABLE of stacks/STACK.yml (comments are kept)')
    .argument('<stack>', 'the stack')
    .argument('<variable>', 'the answer to set')
    .addOption(envOption())
    .option('--recipient <age1…>', `encrypt for this recipient (repeatable; default: the lines of ${RECIPIENTS_FILE})`, (v: string, prev: string[] = []) => [...prev, v])
    .action(async (stack: string, variable: string, opts: { env: string; recipient?: string[] }) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new UserError('VARIABLE_INVALID', `"${variable}" is not a variable name`);
      const file = await stackFile(opts.env, stack);
      const recipients = await recipientsFor(opts.env, opts.recipient ?? []);
      if (process.stdin.isTTY) process.stderr.write(`value of ${variable} (end with Ctrl-D):\n`);
      const value = valueFromInput(await readStdin());
      if (value === '') throw new UserError('SECRET_EMPTY', 'no value on stdin', { hint: `pipe it in: printf %s "$VALUE" | berth secret encrypt ${stack} ${variable}` });
      await writeFile(file, await (await secrets()).encryptAnswerInFile(await readFile(file, 'utf8'), variable, value, recipients, path.relative(process.cwd(), file) || file));
      process.stdout.write(`answers.${variable} of ${path.relative(process.cwd(), file) || file} is encrypted for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}\n`);
    });
}
