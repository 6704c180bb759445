/** Bundle errors: every refusal names the part at fault (`data.part`), so an operator knows what was damaged. */
import { UserError } from '../lib/errors.ts';

export class BundleError extends UserError {
  constructor(code: string, message: string, opts: { part?: string; hint?: string; cause?: unknown } = {}) {
    super(code, message, {
      data: opts.part === undefined ? {} : { part: opts.part },
      hint: opts.hint ?? 'The file is damaged or was altered: get the bundle again from its vendor and compare its sha256 with theirs.',
      cause: opts.cause,
    });
  }
}
