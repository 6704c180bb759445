/**
 * A question's `pattern`, matched by RE2's engine (the re2js port: pure JavaScript, so the console's browser
 * bundle checks a form exactly as the server does). RE2 runs in time linear in the answer whatever the vendor
 * wrote — no backtracking, so no pattern can stall the controller on a long answer — at the price of refusing
 * lookaround and backreferences, which the syntax error says.
 */
import { RE2JS } from 're2js';

/** Patterns are written by vendors in berth.yml; a bound keeps a compiled program small. */
export const PATTERN_MAX_LENGTH = 1000;

const compiled = new Map<string, RE2JS>();
const COMPILED_MAX = 512;

/** Why `source` cannot be used as a pattern, or undefined. */
export function patternProblem(source: string): string | undefined {
  if (source.length > PATTERN_MAX_LENGTH) return `is ${source.length} characters long; keep a pattern under ${PATTERN_MAX_LENGTH}`;
  try {
    compile(source);
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return `is not a regular expression Berth can check in linear time (RE2 syntax: no lookaround, no backreferences): ${why}`;
  }
}

function compile(source: string): RE2JS {
  let re = compiled.get(source);
  if (!re) {
    re = RE2JS.compile(source);
    if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, re);
  }
  return re;
}

/** Whether the whole of `text` matches (as HTML's `pattern` attribute: anchored at both ends). */
export function matchesPattern(source: string, text: string): boolean {
  return compile(source).testExact(text);
}
