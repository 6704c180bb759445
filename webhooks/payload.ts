/**
 * Small helpers the receivers share: header lookup, constant-time comparison, and reading fields out of an
 * untrusted JSON payload with errors that name the missing field.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UserError } from '../lib/errors.ts';
import type { Headers } from './types.ts';

/** Node lowercases header names; a repeated header arrives as an array, of which the first is taken. */
export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Hashing first makes both sides 32 bytes, so neither the comparison time nor an early length check leaks the secret's length. */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function invalid(forge: string, event: string, message: string): UserError {
  return new UserError('WEBHOOK_PAYLOAD_INVALID', `${forge} ${event} payload: ${message}`, {
    data: { forge, event },
    hint: 'Check that the webhook sends the documented JSON payload for this event.',
  });
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(obj: Json, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads a nested object or string; `fail` builds the error naming the dotted path that was missing. */
export class Reader {
  constructor(
    private readonly fail: (message: string) => Error,
    readonly root: unknown,
  ) {
    if (!isObject(root)) throw fail('the body is not a JSON object');
  }

  object(path: string): Json {
    const value = this.at(path);
    if (!isObject(value)) throw this.fail(`${path} is missing or not an object`);
    return value;
  }

  string(path: string): string {
    const value = this.at(path);
    if (typeof value !== 'string' || value === '') throw this.fail(`${path} is missing or not a string`);
    return value;
  }

  optionalString(path: string): string | undefined {
    const value = this.at(path);
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  at(path: string): unknown {
    let value: unknown = this.root;
    for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
    return value;
  }
}

/** The zero id Git reports as `after` when a ref is deleted (40 hex digits, or 64 in SHA-256 repositories). */
export function isZeroSha(sha: string): boolean {
  return /^0+$/.test(sha) && (sha.length === 40 || sha.length === 64);
}

export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

/** The URL fields that are present, once each, in the order given. */
export function urlsOf(obj: Json | undefined, keys: string[]): string[] {
  if (!obj) return [];
  return [...new Set(keys.map((k) => str(obj, k)).filter((u): u is string => u !== undefined))];
}
