/**
 * The `migrations:` list of a version's berth.yml: how answers given to the version before become answers to this
 * one. Each item is one step, applied in order by upgrades (catalog/migrate.ts):
 *
 *     migrations:
 *       - rename: { from: db_user, to: database_user }
 *       - map: { variable: edition, values: { community: standard, enterprise: premium } }
 *       - set: { variable: public_url, template: "https://{{public_hostname}}:{{https_port}}" }
 *       - drop: old_option          # or a list
 *
 * Only the shape is checked here; whether the variables exist in both versions is `berth catalog lint`'s job,
 * since it needs the version before.
 */
import type { Problem } from '../lib/errors.ts';
import { VARIABLE_NAME } from './questions.ts';
import type { Migration } from './types.ts';
import { MapReader, isPlainMap, kindOf, type YamlFile } from './yaml-file.ts';

export const MIGRATION_OPS = ['rename', 'map', 'set', 'drop'] as const;
/** A template of a `set` step is one expression, not a document. */
const TEMPLATE_MAX = 2000;

function variable(r: MapReader, key: string): string | undefined {
  const v = r.string(key, true);
  if (v !== undefined && !VARIABLE_NAME.test(v)) return void r.problem(key, `"${v}" is not a variable name`);
  return v;
}

function readStep(r: MapReader, op: (typeof MIGRATION_OPS)[number], line: number | undefined): Migration | undefined {
  const raw = r.obj[op];
  if (op === 'drop') {
    if (typeof raw !== 'string' || !VARIABLE_NAME.test(raw)) return void r.problem(op, `must name the variable (or list the variables) whose answer to remove, got ${kindOf(raw)}`);
    return { op, variable: raw, ...(line ? { line } : {}) };
  }
  if (!isPlainMap(raw)) return void r.problem(op, `must be a map, e.g. ${EXAMPLES[op]}`);
  const sub = new MapReader(r.yaml, [...r.path, op], r.field(op), raw, r.problems);
  const at = line ? { line } : {};
  if (op === 'rename') {
    sub.unknownKeys(['from', 'to']);
    const [from, to] = [variable(sub, 'from'), variable(sub, 'to')];
    if (from !== undefined && from === to) return void sub.problem('to', 'renames a variable to itself');
    return from && to ? { op, from, to, ...at } : undefined;
  }
  if (op === 'map') {
    sub.unknownKeys(['variable', 'values']);
    const name = variable(sub, 'variable');
    const values = sub.obj.values;
    if (!isPlainMap(values) || Object.keys(values).length === 0) return void sub.problem('values', `must map old values to new ones, e.g. ${EXAMPLES.map}`);
    const bad = Object.entries(values).find(([, v]) => v === null || typeof v === 'object');
    if (bad) return void sub.problem('values', `maps "${bad[0]}" to ${kindOf(bad[1])}; map each old value to a plain new value`);
    return name ? { op, variable: name, values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])), ...at } : undefined;
  }
  sub.unknownKeys(['variable', 'template']);
  const name = variable(sub, 'variable');
  const template = sub.string('template', true);
  if (template !== undefined && template.length > TEMPLATE_MAX) return void sub.problem('template', `is ${template.length} characters long; keep it under ${TEMPLATE_MAX}`);
  return name && template !== undefined ? { op, variable: name, template, ...at } : undefined;
}

const EXAMPLES: Record<(typeof MIGRATION_OPS)[number], string> = {
  rename: '{ from: old_name, to: new_name }',
  map: '{ variable: edition, values: { community: standard } }',
  set: '{ variable: url, template: "https://{{host}}" }',
  drop: 'old_name',
};

/** `raw` is the value of `migrations` in the berth.yml `yaml`. */
export function parseMigrations(yaml: YamlFile, raw: unknown): { migrations: Migration[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const migrations: Migration[] = [];
  if (raw === undefined || raw === null) return { migrations, problems };
  if (!Array.isArray(raw)) {
    const line = yaml.line(['migrations']);
    problems.push({ file: yaml.file, ...(line ? { line } : {}), field: 'migrations', message: `must be a list of steps (rename, map, set, drop), got ${kindOf(raw)}` });
    return { migrations, problems };
  }
  raw.forEach((item, i) => {
    const r = new MapReader(yaml, ['migrations', i], `migrations[${i}]`, isPlainMap(item) ? item : {}, problems);
    const ops = isPlainMap(item) ? Object.keys(item) : [];
    const line = yaml.line(['migrations', i]);
    if (ops.length !== 1 || !(MIGRATION_OPS as readonly string[]).includes(ops[0])) {
      if (ops.length === 1) return r.unknownKeys(MIGRATION_OPS);
      return r.problem(undefined, `must be one step: a map with one of ${MIGRATION_OPS.join(', ')}, e.g. "- rename: ${EXAMPLES.rename}"`);
    }
    const op = ops[0] as (typeof MIGRATION_OPS)[number];
    if (op === 'drop' && Array.isArray(item.drop)) {
      // `drop: [a, b]` is several steps written as one.
      const before = problems.length;
      for (const [j, name] of (item.drop as unknown[]).entries()) {
        if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) r.problem('drop', `item ${j + 1} is ${kindOf(name)}, not a variable name`);
        else migrations.push({ op: 'drop', variable: name, ...(line ? { line } : {}) });
      }
      if (problems.length === before && (item.drop as unknown[]).length === 0) r.problem('drop', 'lists no variables');
      return;
    }
    const step = readStep(r, op, line);
    if (step) migrations.push(step);
  });
  return { migrations, problems };
}
