/**
 * Build step: compiles the Compose schema into a standalone validator module (dist/compose-validator.cjs), so
 * a CLI run loads ready code instead of compiling ~74 KB of schema with Ajv every time (~150 ms).
 * Run by `npm run build`; catalog/schema.ts falls back to compiling at run time when the file is missing or was
 * built from another schema.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import standalone from 'ajv/dist/standalone/index.js';
import { composeAjv, loadComposeSchema, schemaDigest, VALIDATOR_FILE } from '../schema.ts';

const { schema, text } = loadComposeSchema();
const ajv = composeAjv({ code: { source: true, esm: false } });
const validate = ajv.compile(schema);
const code = `${standalone.default(ajv, validate)}\nmodule.exports.schemaDigest = ${JSON.stringify(schemaDigest(text))};\n`;
mkdirSync(path.dirname(VALIDATOR_FILE()), { recursive: true });
writeFileSync(VALIDATOR_FILE(), code);
process.stdout.write(`wrote ${path.relative(process.cwd(), VALIDATOR_FILE())} (${code.length} bytes)\n`);
