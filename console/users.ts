/**
 * The console's people: a YAML file (`berth serve --users FILE`) naming each user, their role and a bcrypt hash
 * of their password (`berth user hash` makes one). Checked whole at start-up, every problem at its line.
 */
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { UserError, ValidationError, type Problem } from '../lib/errors.ts';
import { MapReader, isPlainMap, kindOf, parseYamlFile } from '../catalog/yaml-file.ts';
import { ROLES, type Role } from '../server/access.ts';

export interface ConsoleUser {
  name: string;
  email: string;
  role: Role;
  passwordHash: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
/** Compared against when the name is unknown, so a wrong name costs as long as a wrong password. */
const DUMMY_HASH = bcrypt.hashSync('berth: no such user', 10);
export const HASH_ROUNDS = 12;

export function parseUsers(text: string, file: string): ConsoleUser[] {
  const { yaml, problems } = parseYamlFile(text, file);
  if (!yaml) throw new ValidationError('USERS_INVALID', `${file} is not valid YAML:`, problems);
  const top = new MapReader(yaml, [], '', isPlainMap(yaml.data) ? yaml.data : {}, problems);
  const list = top.obj.users;
  if (!Array.isArray(list)) top.problem('users', `must be a list of users (name, email, role, password_hash), got ${kindOf(list)}`);
  const users: ConsoleUser[] = [];
  (Array.isArray(list) ? list : []).forEach((item, i) => {
    const r = new MapReader(yaml, ['users', i], `users[${i}]`, isPlainMap(item) ? item : {}, problems);
    const name = r.string('name');
    const role = r.string('role');
    const hash = r.string('password_hash');
    const email = r.string('email');
    if (!name || !NAME.test(name)) return void r.problem('name', 'must be a user name (letters, digits, _ . @ -)');
    if (users.some((u) => u.name === name)) return void r.problem('name', `user "${name}" is listed twice`);
    if (!role || !(ROLES as readonly string[]).includes(role)) return void r.problem('role', `must be one of ${ROLES.join(', ')}`);
    if (!hash || !BCRYPT.test(hash)) return void r.problem('password_hash', 'must be a bcrypt hash ($2b$…); make one with `berth user hash`');
    users.push({ name, email: email ?? `${name}@berth.invalid`, role: role as Role, passwordHash: hash });
  });
  if (problems.length) throw new ValidationError('USERS_INVALID', `${file} has mistakes:`, problems as Problem[], 'Fix them and start berth serve again.');
  if (!users.length) throw new UserError('USERS_EMPTY', `${file} lists no users`, { hint: 'Add at least one admin; `berth user hash` makes the password hash.' });
  return users;
}

export async function loadUsers(file: string): Promise<ConsoleUser[]> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError('USERS_FILE_UNREADABLE', `cannot read the users file ${file}: ${e.code ?? e.message}`, { hint: 'Check --users (BERTH_USERS_FILE).' });
  });
  return parseUsers(text, file);
}

/** The user when name and password match; always spends one bcrypt comparison. */
export async function verify(users: ConsoleUser[], name: string, password: string): Promise<ConsoleUser | undefined> {
  const user = users.find((u) => u.name === name);
  const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
  return ok ? user : undefined;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, HASH_ROUNDS);
}
