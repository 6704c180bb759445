// Hostile YAML the tests share: an alias bomb and nestings far past the limits.

/** Ten times ten times … nine levels deep: a billion leaves once expanded, a few hundred bytes as text. */
export function aliasBomb(prefix = ''): string {
  const lines = [`${prefix}l0: &l0 [x, x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i < 9; i++) lines.push(`${prefix}l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

/** Nested flow maps far deeper than the limit, on one line. */
export const DEEP = `a: ${'{b: '.repeat(5000)}1${'}'.repeat(5000)}\n`;

/** Block nesting by indentation, 500 levels (the text scan counts columns of indentation). */
export const DEEP_BLOCK = Array.from({ length: 500 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
