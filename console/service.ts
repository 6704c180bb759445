/**
 * What the console does, the same way the CLI does it and through the same code: answers checked by
 * catalog/answers.ts, previews planned by the reconcile's own dry run, rollbacks made by the ledger, stack
 * files written by EnvWriter as commits or merge requests authored by the person.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkAnswers } from '../catalog/answers.ts';
import { generateValue } from '../catalog/generate.ts';
import { modelToYaml } from '../catalog/compose-yaml.ts';
import { checkStackName } from '../catalog/stack.ts';
import { SECRET_TYPES, type AnswerValue, type Question } from '../catalog/types.ts';
import { reconcileStack } from '../controller/reconcile.ts';
import type { StackState } from '../controller/stack-state.ts';
import type { EngineDriver } from '../engines/standalone/driver.ts';
import type { SwarmEngine } from '../engines/swarm/engine.ts';
import { formatPlan } from '../engines/standalone/plan-format.ts';
import type { Snapshot } from '../environment/sources.ts';
import type { StackSpec } from '../environment/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { BerthError, UserError, ValidationError } from '../lib/errors.ts';
import type { RepoSource } from '../lib/git/source.ts';
import type { Logger } from '../lib/log.ts';
import { decryptAnswers, isEncrypted, loadIdentities, maskSecrets } from '../lib/secrets.ts';
import type { Principal } from '../server/access.ts';
import { writeMode } from '../server/access.ts';
import { CatalogView } from './catalogs.ts';
import { EnvWriter } from './env-writer.ts';
import { answersOf, parseStackDocument, stackFileText } from './stack-file.ts';
import { migrated, upgradeNotes, versionChange } from './upgrade.ts';
import type { Upgrade } from '../upgrades/find.ts';
import { upgradeTitle } from '../upgrades/text.ts';

/** What the console needs of the controller (the Controller implements it). */
export interface ConsoleController {
  stacks(): StackState[];
  stack(name: string): StackState | undefined;
  snapshot(): Snapshot;
  ledgerNow(): Promise<Ledger | undefined>;
  engines(): Record<string, EngineDriver>;
  /** The engine of a Swarm of the environment (for a Swarm stack's tasks and logs). */
  swarmEngine(name: string): SwarmEngine | undefined;
  changed(kind: 'push' | 'revert', why: string): void;
}

export interface ConsoleDeps {
  controller: ConsoleController;
  source: RepoSource;
  cacheDir: string;
  log: Logger;
  processEnv?: Record<string, string | undefined>;
}

/** A deploy form as submitted: the answers as the browser sends them (strings, numbers, booleans). */
export interface StackRequest {
  template: string;
  version?: string;
  catalog?: string;
  answers: Record<string, unknown>;
  /** Host-label selector, e.g. { role: 'web' }; empty: every host. */
  hosts?: Record<string, string>;
  /** A Swarm of berth.yml to run on instead of hosts; '' chooses standalone hosts; absent keeps the stack's. */
  swarm?: string;
}

interface Prepared {
  spec: StackSpec;
  text: string;
  questions: Question[];
  secrets: string[];
  existing: boolean;
  /** Set when the form moves the stack to a newer version. */
  upgrade?: Upgrade;
}

const RECIPIENTS_FILE = '.berth-recipients';

export class ConsoleService {
  readonly catalogs = new CatalogView();
  private readonly writer: EnvWriter;

  constructor(private readonly deps: ConsoleDeps) {
    this.writer = new EnvWriter(deps.source, deps.cacheDir, deps.log);
  }

  get controller(): ConsoleController {
    return this.deps.controller;
  }

  snapshot(): Snapshot & { env: NonNullable<Snapshot['env']>; dir: string } {
    const snap = this.deps.controller.snapshot();
    if (!snap.env || !snap.dir) throw new BerthError('NOT_READY', 'unreachable', 'the environment has not been synced yet; try again in a moment');
    return snap as Snapshot & { env: NonNullable<Snapshot['env']>; dir: string };
  }

  spec(name: string): StackSpec | undefined {
    return this.deps.controller.snapshot().env?.stacks.find((s) => s.name === name);
  }

  /** The stack file as the environment holds it, with its raw answers (encrypted ones as AgeSecret). */
  async stackFile(name: string): Promise<{ spec: StackSpec; text: string; answers: Record<string, unknown> } | undefined> {
    const spec = this.spec(name);
    if (!spec) return undefined;
    const text = await readFile(path.join(this.snapshot().dir, spec.file), 'utf8');
    return { spec, text, answers: answersOf(parseStackDocument(text, spec.file)) };
  }

  /** Checks a form and builds the stack file it would write; ValidationError (every field) when answers are wrong. */
  async prepare(name: string, req: StackRequest, mode: 'create' | 'edit'): Promise<Prepared> {
    checkStackName(name);
    const snap = this.snapshot();
    let current = await this.stackFile(name);
    if (mode === 'create' && current) throw new UserError('STACK_EXISTS', `stack ${name} exists already`, { hint: 'Pick another name, or edit that stack.' });
    if (mode === 'edit' && !current) throw new UserError('STACK_NOT_FOUND', `no stack "${name}" in the environment`);
    const entry = await this.catalogs.find(snap, req.template, req.catalog ?? current?.spec.catalog);
    const version = CatalogView.version(entry.template, req.version);
    // A newer version: the answers as its migrations leave them, so a renamed secret is found and kept.
    const installed = current && { name, file: current.spec.file, version: current.spec.version, answers: current.answers, text: current.text };
    const upgrade = installed && versionChange(entry.template, installed, version);
    if (current && installed && upgrade) {
      const m = migrated(installed, upgrade);
      current = { ...current, answers: m.answers, text: m.text };
    }
    const given: Record<string, unknown> = { ...req.answers };
    const kept: string[] = [];
    const secrets: string[] = [];
    for (const q of version.questions.filter((x) => SECRET_TYPES.has(x.type))) {
      const old = current?.answers[q.variable];
      if ((given[q.variable] === undefined || given[q.variable] === '') && old !== undefined && old !== null) {
        kept.push(q.variable);
        given[q.variable] = await this.plain(q.variable, old);
      } else if ((given[q.variable] === undefined || given[q.variable] === '') && q.generate) {
        // Left blank, never answered: made here once, then kept like any other secret.
        given[q.variable] = generateValue(q, `stack ${name}`);
      }
    }
    const { values, problems } = checkAnswers(version.questions, given);
    if (problems.length) throw new ValidationError('ANSWERS_INVALID', `${new Set(problems.map((p) => p.field)).size} answers are wrong:`, problems);
    for (const q of version.questions) if (SECRET_TYPES.has(q.type) && typeof values[q.variable] === 'string' && values[q.variable] !== '') secrets.push(String(values[q.variable]));
    const fresh = version.questions.some((q) => SECRET_TYPES.has(q.type) && !kept.includes(q.variable) && typeof values[q.variable] === 'string' && values[q.variable] !== '');
    const recipients = fresh ? await this.recipients(snap.dir) : [];
    const file = current?.spec.file ?? `stacks/${name}.yml`;
    const catalog = entry.catalog === snap.env.catalogs[0]?.name ? undefined : entry.catalog;
    const swarm = req.swarm !== undefined ? req.swarm || undefined : current?.spec.swarm;
    if (swarm !== undefined && !snap.env.swarms?.some((s) => s.name === swarm)) {
      throw new ValidationError('TARGET_INVALID', 'The target is wrong:', [{ field: 'swarm', message: `berth.yml declares no swarm "${swarm}"` }]);
    }
    const hosts = swarm !== undefined ? {} : req.hosts ?? current?.spec.hosts ?? {};
    const text = await stackFileText(current?.text, { template: entry.template.name, version: version.version, catalog, questions: version.questions, values, kept, hosts, swarm, recipients }, file);
    const spec: StackSpec = {
      name, file, ...(catalog ? { catalog } : {}), template: entry.template.name, version: version.version, answers: values as Record<string, AnswerValue>, hosts, ...(swarm !== undefined ? { swarm } : {}),
    };
    return { spec, text, questions: version.questions, secrets, existing: Boolean(current), ...(upgrade ? { upgrade } : {}) };
  }

  private async plain(variable: string, value: unknown): Promise<unknown> {
    if (!isEncrypted(value)) return value;
    const identities = await loadIdentities({ env: this.deps.processEnv ?? process.env });
    return (await decryptAnswers({ [variable]: value }, identities)).values[variable];
  }

  private async recipients(dir: string): Promise<string[]> {
    const text = await readFile(path.join(dir, RECIPIENTS_FILE), 'utf8').catch(() => '');
    const found = text.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    if (!found.length) {
      throw new UserError('SECRET_NO_RECIPIENTS', `the environment has no ${RECIPIENTS_FILE}: secret answers cannot be encrypted`, {
        hint: `Commit ${RECIPIENTS_FILE} (one age recipient a line; \`berth secret keygen\` prints one) to the environment repository.`,
      });
    }
    return found;
  }

  /** The rendered compose (secrets masked) and the plan, with causes, of what the deploy would do on each host. */
  async preview(name: string, req: StackRequest, mode: 'create' | 'edit'): Promise<{ compose: string; plan: string; file: string; error?: string }> {
    const p = await this.prepare(name, req, mode);
    const o = await reconcileStack(this.snapshot().env, p.spec, { why: 'preview', drivers: this.deps.controller.engines(), dryRun: true, catalogs: new Map() });
    const secrets = [...p.secrets, ...(o.desired?.secrets ?? [])];
    const compose = o.desired?.rendered ? maskSecrets(modelToYaml(o.desired.rendered), secrets) : '';
    const plan = o.plan ? maskSecrets(formatPlan(o.plan, { color: false }), secrets) : '';
    return { compose, plan, file: p.text, ...(o.error ? { error: maskSecrets(o.error.message, secrets) } : {}) };
  }

  /** Writes the stack file as a commit (deployer, admin) or a merge request (proposer). */
  async submit(name: string, req: StackRequest, mode: 'create' | 'edit', who: Principal): Promise<{ commit: string | null; mergeRequest?: { url: string; id: number } }> {
    const how = writeMode(who.role);
    const p = await this.prepare(name, req, mode);
    const title = p.upgrade ? upgradeTitle(p.upgrade) : `${p.existing ? 'Update' : 'Deploy'} ${name}: ${p.spec.template} ${p.spec.version}`;
    const done = p.upgrade ? 'Upgraded' : p.existing ? 'Answers changed' : 'Deployed';
    const notes = p.upgrade ? upgradeNotes(p.upgrade) : [];
    const message = `${title}\n\n${done} from the Berth console by ${who.name}.\n${notes.length ? `\n${notes.join('\n')}\n` : ''}\nBerth-Console: ${who.name}\n`;
    const author = { name: who.name, email: who.email };
    const files = { [p.spec.file]: p.text };
    if (how === 'commit') {
      const commit = await this.writer.commit({ files, message, author });
      if (commit) this.deps.controller.changed('push', `console ${commit.slice(0, 7)}`);
      return { commit };
    }
    const forge = this.snapshot().env.forge;
    if (!forge) {
      throw new UserError('FORGE_NOT_CONFIGURED', `${who.name} may only propose changes, and the environment names no forge to open a merge request on`, {
        hint: 'Add forge: to berth.yml (docs/upgrades.md), or ask a deployer.',
      });
    }
    const branch = `berth/console/${name}-${Date.now().toString(36)}`;
    const description = `${title}\n\nProposed by **${who.name}** from the Berth console. Merging it deploys the change.${notes.length ? `\n\n### Answer changes\n\n${notes.join('\n')}` : ''}`;
    const r = await this.writer.propose({ files, message, author, branch, title, description }, forge, this.deps.processEnv ?? process.env);
    return { commit: r.commit, mergeRequest: { url: r.mergeRequest.url, id: r.mergeRequest.id } };
  }
}
