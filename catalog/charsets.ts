/** The character sets `generate:` draws from (catalog/generate.ts), apart so questions.ts can check them without node's crypto. */
import type { GenerateCharset } from './types.ts';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';

// No punctuation beyond base64url's `-` and `_`: a generated password lands in URLs, shells and config files of
// images Berth knows nothing about, and length gives the strength (32 alnum characters are 190 bits).
const CHARSETS: Record<GenerateCharset, string> = {
  alnum: `${LOWER}${UPPER}${DIGITS}`,
  alpha: `${LOWER}${UPPER}`,
  lower: LOWER,
  upper: UPPER,
  digits: DIGITS,
  hex: '0123456789abcdef',
  base64url: `${UPPER}${LOWER}${DIGITS}-_`,
};

export const GENERATE_MIN_LENGTH = 8;
export const GENERATE_MAX_LENGTH = 1024;
export const UUID_LENGTH = 36;
export const UUID_CHARS = '0123456789abcdef-';

export function charsetOf(name: GenerateCharset): string {
  return CHARSETS[name];
}
