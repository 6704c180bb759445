/**
 * One Rancher version folder → one Berth version: berth.yml from rancher-compose.yml's `.catalog` block, the
 * compose template (a Go template becomes Handlebars, a plain file keeps `${VAR}` interpolation), release notes.
 */
import semver from 'semver';
import type { Question } from '../../catalog/types.ts';
import { convertCompose, type ComposeInput } from './compose.ts';
import { dollarsForInterpolation, dollarsToHbs } from './dollars.ts';
import { GoTemplateError, parseGoTemplate } from './gotemplate.ts';
import { convertQuestions } from './questions.ts';
import { Findings, ImportError, parseCatalogYaml, type Finding } from './report-types.ts';
import { newNonce, restore, SkeletonBuilder } from './skeleton.ts';
import { num, scalar, str, type Y } from './snippet.ts';
import type { CatalogSource } from './source.ts';

const ANSWER_HOST_LABEL = /io\.rancher\.scheduler\.affinity:host_label(_ne)?["']?\s*[:=]\s*["']?\$\{?[A-Za-z_][A-Za-z0-9_]*\}?["']?\s*$/m;
/** A list item's mount source: up to the first `:` outside a `${…}` reference. */
const MOUNT_ITEM = /^(\s*)-\s*["']?((?:\$\{[^}\n]*\}|[^:"'\s])+):/;

/** Whether a list item under a `volumes:` key mounts a volume whose name holds an answer (`${X}`, `${PFX}-db`). */
function mountsAnswer(text: string): boolean {
  const lines = text.split('\n');
  return lines.some((line, i) => {
    const m = MOUNT_ITEM.exec(line);
    // A source with a `/` after the answer is a host path below it (`${DIR}/db`), never a volume name.
    if (!m || !m[2].includes('$') || /^[/.~]/.test(m[2]) || m[2].replace(/\$\{[^}]*\}|\$\w+/g, '').includes('/')) return false;
    for (let k = i - 1; k >= 0; k--) {
      const key = /^(\s*)([A-Za-z_][\w.-]*):\s*$/.exec(lines[k]);
      if (key && key[1].length <= m[1].length) return key[2] === 'volumes';
    }
    return false;
  });
}

export interface ConvertedVersion {
  folder: string;
  version: string;
  meta: Record<string, unknown>;
  questions: Question[];
  compose: { name: 'docker-compose.yml.hbs' | 'docker-compose.yml'; text: string };
  releaseNotes?: string;
  findings: Finding[];
}

/** CRLF files as LF: Go trims `\r` with other spaces and YAML reads CRLF as a line break, the skeleton needs one form. */
const lineFeeds = (text: string | undefined): string | undefined => text?.replace(/\r\n/g, '\n');

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The services block of rancher-compose.yml: `services:` in the v2 format, the top level in v1. */
function rancherServices(rc: Record<string, unknown>): Record<string, unknown> {
  if (rc.services !== undefined) return obj(rc.services);
  return Object.fromEntries(Object.entries(rc).filter(([k]) => k !== '.catalog' && k !== 'catalog' && k !== 'version'));
}

function readMeta(catalog: Record<string, unknown>, folder: string, findings: Findings): { version: string; meta: Record<string, unknown> } {
  const version = catalog.version === undefined || catalog.version === null ? folder : String(catalog.version);
  const meta: Record<string, unknown> = { version };
  if (typeof catalog.description === 'string') meta.description = catalog.description;
  const from = catalog.upgrade_from === undefined ? undefined : String(catalog.upgrade_from);
  if (from !== undefined && semver.validRange(from)) meta.upgrade_from = from;
  else if (from !== undefined) findings.add('approximated', 'upgrade_from', `"${from}" is not a semver range; upgrades to this version are offered from any version`);
  for (const key of ['minimum_rancher_version', 'maximum_rancher_version']) {
    if (catalog[key] !== undefined) findings.add('note', key, `${key} ${String(catalog[key])} does not apply to Berth and was dropped`);
  }
  return { version, meta };
}

interface Mode {
  text: string;
  input: Omit<ComposeInput, 'skeleton' | 'rancher' | 'findings' | 'file'>;
  finish(edited: string): string;
}

/** A Go template: its skeleton, and values from rancher-compose.yml as Handlebars tokens. */
function templateMode(source: string, file: string, questions: Set<string>, findings: Findings): Mode {
  let nodes;
  try {
    nodes = parseGoTemplate(source);
  } catch (e) {
    if (e instanceof GoTemplateError) throw new ImportError(`template syntax: ${e.message}`, file, e.line);
    throw e;
  }
  const b = new SkeletonBuilder({ questions, findings, file }, newNonce(source));
  const sk = b.build(nodes);
  const text = (raw: unknown): string => dollarsToHbs(String(raw), { questions, findings }).map((s) => ('text' in s ? s.text : b.token(s.hbs))).join('');
  const tokenRe = new RegExp(`^${sk.nonce}t\\d+x$`);
  return {
    text: sk.text,
    input: {
      nonce: sk.nonce,
      markers: sk.markers,
      text,
      token: (hbs) => b.token(hbs),
      value: (raw): Y => {
        if (typeof raw === 'number') return num(raw);
        const t = text(raw);
        return tokenRe.test(t) ? scalar(t) : str(t);
      },
      hasToken: (s) => s.includes(sk.nonce),
      variableOf: (s) => (tokenRe.test(s) ? /^\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}$/.exec(sk.tokens.get(s) ?? '')?.[1] : undefined),
      exprOf: (t) => {
        const inner = /^\{\{([^#/!>{}][^{}]*)\}\}$/.exec(sk.tokens.get(t) ?? '')?.[1].trim();
        return inner === undefined ? undefined : /\s/.test(inner) ? `(${inner})` : inner;
      },
    },
    finish: (edited) => restore(edited, sk),
  };
}

/** A plain compose file: `${VAR}` stays for Berth's interpolation. */
function plainMode(source: string, questions: Set<string>, findings: Findings): Mode {
  const text = (raw: unknown): string => dollarsForInterpolation(String(raw), { questions, findings });
  return {
    text: text(source),
    input: {
      nonce: newNonce(source),
      markers: [],
      text,
      value: (raw): Y => {
        if (typeof raw === 'number') return num(raw);
        const t = text(raw);
        return /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?-[^}]*)?\}$/.test(t) ? scalar(t) : str(t);
      },
      hasToken: (s) => /\$\{?[A-Za-z_]/.test(s),
      variableOf: () => undefined,
    },
    finish: (edited) => edited,
  };
}

export async function convertVersion(src: CatalogSource, dir: string, folder: string): Promise<ConvertedVersion> {
  const at = `${dir}/${folder}`;
  const findings = new Findings();
  const rcFile = `${at}/rancher-compose.yml`;
  const rcText = await src.read(rcFile);
  const rc = rcText === undefined ? {} : obj(parseCatalogYaml(lineFeeds(rcText)!, rcFile));
  const catalog = obj(rc['.catalog'] ?? rc.catalog);
  const { version, meta } = readMeta(catalog, folder, findings);
  for (const key of ['uuid', 'name']) if (catalog[key] !== undefined) findings.add('note', key, `.catalog.${key} is Rancher's and was dropped`);
  const qFindings = new Findings(rcFile);
  const questions = convertQuestions(catalog.questions, qFindings);
  findings.list.push(...qFindings.list);
  const names = new Set(questions.map((q) => q.variable));
  const tplFile = `${at}/docker-compose.yml.tpl`;
  const tpl = lineFeeds(await src.read(tplFile));
  const plainFile = `${at}/docker-compose.yml`;
  const plain = tpl === undefined ? lineFeeds(await src.read(plainFile)) : undefined;
  if (tpl === undefined && plain === undefined) throw new ImportError('has no docker-compose.yml or docker-compose.yml.tpl', at);
  const file = tpl !== undefined ? tplFile : plainFile;
  const fileFindings = new Findings(file);
  // Rancher ran every compose file through Go's templates, not only .tpl ones; structure that depends on an
  // answer — a volume named by one, placement from a KEY=VALUE answer — also needs Handlebars.
  const why = tpl !== undefined ? undefined
    : plain!.includes('{{') ? 'it holds Go template actions, which Rancher ran in every compose file'
    : mountsAnswer(plain!) ? 'a volume is named by an answer'
    : ANSWER_HOST_LABEL.test(plain!) ? 'host-label affinity comes from an answer' : undefined;
  const asTemplate = tpl !== undefined || why !== undefined;
  if (why) fileFindings.add('note', 'docker-compose.yml', `became a Handlebars template: ${why}`);
  const mode = asTemplate ? templateMode(tpl ?? plain!, file, names, fileFindings) : plainMode(plain!, names, fileFindings);
  const edited = convertCompose({ ...mode.input, skeleton: mode.text, rancher: rancherServices(rc), findings: fileFindings, file });
  findings.list.push(...fileFindings.list);
  const releaseNotes = await src.read(`${at}/README.md`);
  return {
    folder,
    version,
    meta,
    questions,
    compose: { name: asTemplate ? 'docker-compose.yml.hbs' : 'docker-compose.yml', text: mode.finish(edited) },
    ...(releaseNotes !== undefined ? { releaseNotes } : {}),
    findings: findings.list,
  };
}
