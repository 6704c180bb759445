// A stack name, a catalog name, a version, a host's error text (where answers and template text surface), a
// webhook's delivery id or a trigger crafted to inject `Berth-…:` trailer lines into a ledger commit: the commit
// Berth writes (isomorphic-git, read back by Berth and by git's own trailer parser) carries only its own trailers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { commitFiles, listCommits } from '../../lib/git/index.ts';
import { defaultFs } from '../../lib/git/fs.ts';
import { commitMessage, readTrailers, type LedgerRecord } from '../../ledger/record.ts';
import { isBerthCommit, personTarget } from '../../ledger/tree.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { ValidationError, formatProblem } from '../../lib/errors.ts';

const FORGED = 'Berth-Rollback-To: 0123456789abcdef0123456789abcdef01234567';
/** Every way a line break can be written, each followed by forged trailers. */
const INJECT = ['\n', '\n\n', '\r\n', '\r', '\u2028', '\u2029', '\u000b', '\u000c', '\u0085']
  .map((nl) => `x${nl}${FORGED}${nl}Berth-Mode: rollback${nl}Berth-Stack: other`).join(' ');

function hostile(): { record: LedgerRecord; seen: { environment: string; catalogs: Record<string, string> } } {
  const record: LedgerRecord = {
    stack: 'shop', template: `acme${INJECT}`, version: `1.0.0${INJECT}`, catalog: 'main', mode: 'render',
    sources: { environment: 'e'.repeat(40), catalogs: { main: 'a'.repeat(40) } },
    hosts: { h1: { outcome: 'failed', error: `an answer's text in an engine error: ${INJECT}`, services: {} } },
  };
  return { record, seen: { environment: 'c'.repeat(40), catalogs: { [`main${INJECT}`]: `${'1'.repeat(40)}${INJECT}` } } };
}

test('no text that reaches a ledger commit can add, replace or cut off its trailers', async () => {
  const { record, seen } = hostile();
  const message = commitMessage(record, { trigger: { kind: 'push', why: `push 1a2b3c4 ${INJECT}`, deliveryId: `d-1${INJECT}` }, seen });
  // Berth's own parser.
  const t = readTrailers(message);
  assert.equal(t.rollbackTo, undefined);
  assert.equal(t.stack, 'shop');
  assert.equal(t.mode, 'render');
  assert.equal(t.outcome, 'failed');
  // The message's only line breaks are Berth's own: subject, body lines, trailers.
  const trailerLines = message.trimEnd().split('\n\n').at(-1)!.split('\n');
  assert.deepEqual(trailerLines.map((l) => l.split(':')[0]), ['Berth-Stack', 'Berth-Trigger', 'Berth-Delivery', 'Berth-Environment-Commit', 'Berth-Catalog-Commit', 'Berth-Template', 'Berth-Outcome', 'Berth-Mode']);
  assert.doesNotMatch(message, /[\r\u2028\u2029\u000b\u000c]/);

  // A real commit, as the ledger writes it, read back by Berth and by git.
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-trailers-'));
  try {
    await git.init({ fs: defaultFs, dir, defaultBranch: 'main' });
    const sha = await commitFiles(dir, { branch: 'berth/deployed', parent: null, files: { 'stacks/shop/deploy.yml': 'stack: shop\n' }, message, author: { name: 'Berth', email: 'berth@localhost' } });
    assert.ok(sha);
    const [commit] = await listCommits(dir, 'berth/deployed', { limit: 1 });
    assert.ok(isBerthCommit(commit, 'shop'), 'Berth reads its own deploy as its own, not as a person\'s rollback');
    assert.equal(personTarget(commit), commit.sha);
    const byGit = execFileSync('git', ['-C', dir, 'log', '-1', '--format=%(trailers:only,unfold)', 'berth/deployed'], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } }).toString();
    const keys = byGit.trim().split('\n').map((l) => l.split(':')[0]);
    assert.deepEqual(keys, ['Berth-Stack', 'Berth-Trigger', 'Berth-Delivery', 'Berth-Environment-Commit', 'Berth-Catalog-Commit', 'Berth-Template', 'Berth-Outcome', 'Berth-Mode']);
    assert.doesNotMatch(byGit, /^(Berth-Rollback-To|Berth-Mode: rollback|Berth-Stack: other)/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a catalog name with a line break (or anything but a name) is refused where berth.yml declares it', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-trailers-env-'));
  try {
    mkdirSync(path.join(root, 'cat', 'templates'), { recursive: true });
    writeFileSync(path.join(root, 'berth.yml'), `catalogs:\n  - name: "main\\n\\nBerth-Rollback-To: 0123456"\n    path: cat\n  - name: "a b=c"\n    path: cat\n`);
    const err = await loadEnvironment(root).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ValidationError);
    const problems = err.problems.map(formatProblem);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0], /^berth\.yml:2: catalogs\[0\]\.name: "main\\n\\nBerth-Rollback-To: 0123456" is not a usable catalog name/);
    assert.match(problems[1], /^berth\.yml:4: catalogs\[1\]\.name: "a b=c" is not a usable catalog name/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
