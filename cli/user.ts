/** `berth user hash`: the bcrypt hash of a password for the console's users file (the password read from stdin). */
import type { Command } from 'commander';
import { UserError } from '../lib/errors.ts';
import { readStdin, valueFromInput } from './secret.ts';

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('people of the web console (berth serve --users FILE)');
  user.command('hash')
    .description('print the bcrypt hash of a password read from stdin, for password_hash in the users file')
    .addHelpText('after', '\nThe users file:\n  users:\n    - name: alice\n      email: alice@example.com\n      role: deployer     # viewer | proposer | deployer | admin\n      password_hash: $2b$12$…\n')
    .action(async () => {
      if (process.stdin.isTTY) process.stderr.write('password (end with Ctrl-D):\n');
      const password = valueFromInput(await readStdin());
      if (password.length < 8) throw new UserError('PASSWORD_TOO_SHORT', 'the password must have at least 8 characters');
      process.stdout.write(`${await (await import('../console/users.ts')).hashPassword(password)}\n`);
    });
}
