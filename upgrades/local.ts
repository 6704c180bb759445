/**
 * The forge of a site without one (an offline site, a laptop): the environment repository itself. A proposal
 * is the same branch `berth/upgrade/<stack>` with the same one commit a merge request would carry, made in the
 * repository (never in its work tree), and the same text, kept as `.git/berth/upgrades/<stack>.md` beside a
 * small record of what is open. The operator reads the text and merges the branch (`git merge`); the next run
 * then finds the stack upgraded and closes the proposal with its reason, as on a forge.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ForgeConfig } from './config.ts';
import type { CreateMergeRequestInput, Forge, MergeRequest, UpdateMergeRequestInput } from './forge.ts';

interface LocalRecord extends MergeRequest { state: 'open' | 'closed'; comment?: string }

/** berth.yml's `forge: { type: local }`, or what `berth upgrades --open` uses in a git environment without forge:. */
export function localForgeConfig(branch: string): ForgeConfig {
  return { type: 'local', apiUrl: '', project: '', tokenEnv: '', branch };
}

export function createLocalForge(config: ForgeConfig, repoDir: string): Forge {
  const dir = path.join(repoDir, '.git', 'berth', 'upgrades');
  const index = path.join(dir, 'proposals.json');
  const textFile = (branch: string) => path.join(dir, `${branch.replace(/^berth\/upgrade\//, '').replace(/[^A-Za-z0-9_.-]/g, '_')}.md`);

  async function load(): Promise<LocalRecord[]> {
    const text = await readFile(index, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '[]' : Promise.reject(e)));
    return JSON.parse(text) as LocalRecord[];
  }

  /** The record list and the text of each, written beside and renamed into place. */
  async function save(records: LocalRecord[], changed?: LocalRecord): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (changed) {
      const file = textFile(changed.sourceBranch);
      if (changed.state === 'open') await writeFile(file, `# ${changed.draft ? 'Draft: ' : ''}${changed.title}\n\n${changed.description}\n`);
      else await rm(file, { force: true });
    }
    await writeFile(`${index}.tmp`, `${JSON.stringify(records, null, 2)}\n`);
    await rename(`${index}.tmp`, index);
  }

  const view = (r: LocalRecord): MergeRequest => ({ id: r.id, title: r.title, description: r.description, sourceBranch: r.sourceBranch, targetBranch: r.targetBranch, draft: r.draft, url: textFile(r.sourceBranch) });

  return {
    type: 'local',
    async findOpenMergeRequest(sourceBranch) {
      const r = (await load()).find((x) => x.state === 'open' && x.sourceBranch === sourceBranch);
      return r && view(r);
    },
    async createMergeRequest(input: CreateMergeRequestInput) {
      const records = await load();
      const r: LocalRecord = { ...input, id: records.reduce((n, x) => Math.max(n, x.id), 0) + 1, url: textFile(input.sourceBranch), state: 'open' };
      records.push(r);
      await save(records, r);
      return view(r);
    },
    async updateMergeRequest(id: number, input: UpdateMergeRequestInput) {
      const records = await load();
      const r = records.find((x) => x.id === id);
      if (!r) throw new Error(`no local upgrade proposal ${id} in ${index}`);
      Object.assign(r, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
      await save(records, r);
      return view(r);
    },
    async closeMergeRequest(id: number, comment: string) {
      const records = await load();
      const r = records.find((x) => x.id === id);
      if (!r) return;
      Object.assign(r, { state: 'closed', comment });
      await save(records, r);
    },
    async listOpenMergeRequests(prefix: string) {
      return (await load()).filter((x) => x.state === 'open' && x.sourceBranch.startsWith(prefix) && x.targetBranch === config.branch).map(view);
    },
  };
}
