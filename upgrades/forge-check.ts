/**
 * What the forge implementations share: response validation and error mapping. Every response is checked
 * before anything in it is trusted (a proxy's HTML error page or an API change must fail loudly, not become
 * `undefined` deep in the logic), and every failure becomes a Berth error whose text can never hold the token.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { BerthError, UnreachableError, UserError } from '../lib/errors.ts';
import { scrubCredentials } from '../lib/git/index.ts';
import type { ForgeType } from './config.ts';

const ajv = new Ajv({ allErrors: false, strict: false });

export function compileCheck(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

/** The response if it matches `check`, else an error naming what did not. */
export function validated<T>(check: ValidateFunction, data: unknown, what: string, forge: ForgeType): T {
  if (check(data)) return data as T;
  const e = check.errors?.[0];
  throw new BerthError('FORGE_RESPONSE_INVALID', 'internal', `${forge} answered ${what} with something Berth does not understand: ${e ? `${e.instancePath || '(top)'} ${e.message}` : 'invalid'}`, {
    data: { forge, what },
    hint: 'Check forge.api_url in berth.yml: it must point at the API itself, not a web page or proxy.',
  });
}

/** Status and message of a failed call, mapped to Berth's error kinds; the token is scrubbed from everything. */
export function forgeError(forge: ForgeType, what: string, status: number | undefined, message: string, token: string): BerthError {
  const reason = scrubCredentials(message, [token]).slice(0, 500);
  const data = { forge, what, ...(status ? { status } : {}), reason };
  const where = `${forge}: ${what}`;
  if (status === 401 || status === 403) {
    return new UserError('FORGE_AUTH_FAILED', `${where}: the forge refused the token (HTTP ${status}): ${reason}`, { data, hint: 'Check the token in forge.token_env: its scopes, expiry and access to the project.' });
  }
  if (status === 404) return new UserError('FORGE_NOT_FOUND', `${where}: not found (HTTP 404): ${reason}`, { data, hint: 'Check forge.project and forge.api_url in berth.yml.' });
  if (status !== undefined && status >= 400 && status < 500) return new UserError('FORGE_REJECTED', `${where}: HTTP ${status}: ${reason}`, { data });
  return new UnreachableError('FORGE_UNREACHABLE', `${where}: ${status ? `HTTP ${status}: ` : ''}${reason}`, { data, hint: 'The forge could not be reached or failed; Berth tries again on the next run.' });
}
