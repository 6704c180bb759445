import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayUrl, matchesRepository, repoUrlKey } from '../../webhooks/match.ts';
import type { Trigger } from '../../webhooks/types.ts';

function trigger(over: Partial<Trigger> = {}): Trigger {
  return {
    kind: 'push', forge: 'gitlab', repository: 'acme/env', repoPath: 'acme/env', repoUrl: 'https://gitlab.example.com/acme/env.git',
    repoUrls: ['https://gitlab.example.com/acme/env.git', 'git@gitlab.example.com:acme/env.git', 'https://gitlab.example.com/acme/env'],
    ref: 'refs/heads/main', branch: 'main', after: 'a'.repeat(40), receivedAt: new Date(0).toISOString(), ...over,
  };
}

describe('repoUrlKey', () => {
  const same = [
    'https://gitlab.example.com/acme/env.git',
    'http://gitlab.example.com/acme/env',
    'https://GitLab.Example.com/acme/env/',
    'https://oauth2:glpat-abc123@gitlab.example.com/acme/env.git',
    'https://gitlab.example.com:443/acme/env.git',
    'git@gitlab.example.com:acme/env.git',
    'ssh://git@gitlab.example.com/acme/env.git',
    'ssh://git@gitlab.example.com:22/acme/env.git',
  ];
  for (const url of same) {
    it(`treats ${url} as gitlab.example.com/acme/env`, () => assert.equal(repoUrlKey(url), 'gitlab.example.com/acme/env'));
  }

  it('keeps a non-default port and a different path apart', () => {
    assert.equal(repoUrlKey('https://gitlab.example.com:8443/acme/env.git'), 'gitlab.example.com:8443/acme/env');
    assert.notEqual(repoUrlKey('https://gitlab.example.com/acme/env-prod.git'), repoUrlKey('https://gitlab.example.com/acme/env.git'));
    assert.notEqual(repoUrlKey('https://gitlab.example.com/group/acme/env.git'), repoUrlKey('https://gitlab.example.com/acme/env.git'));
  });
});

describe('displayUrl', () => {
  it('drops credentials', () => {
    assert.equal(displayUrl('https://oauth2:glpat-abc123@gitlab.example.com/acme/env.git'), 'https://gitlab.example.com/acme/env.git');
  });
});

describe('matchesRepository', () => {
  it('accepts the watched repository by URL, whichever form was configured', () => {
    for (const url of ['https://gitlab.example.com/acme/env', 'git@gitlab.example.com:acme/env.git', 'https://token:x@GITLAB.example.com/acme/env.git/']) {
      assert.deepEqual(matchesRepository(trigger(), { url, branch: 'main' }), { accepted: true }, url);
    }
  });

  it('accepts the watched repository by path, also when the trigger only has URLs', () => {
    assert.equal(matchesRepository(trigger(), { path: 'acme/env', branch: 'main' }).accepted, true);
    assert.equal(matchesRepository(trigger({ repoPath: undefined, repository: 'https://gitlab.example.com/acme/env.git' }), { path: '/acme/env.git', branch: 'main' }).accepted, true);
  });

  it('names the repository and what is watched when they differ', () => {
    const other = trigger({ repository: 'acme/other', repoPath: 'acme/other', repoUrl: 'https://gitlab.example.com/acme/other.git', repoUrls: ['https://gitlab.example.com/acme/other.git'] });
    assert.deepEqual(matchesRepository(other, { path: 'acme/env', branch: 'main' }), { accepted: false, reason: 'repository acme/other is not watched (watching acme/env)' });
  });

  it('does not match the same path on another host', () => {
    const result = matchesRepository(trigger(), { url: 'https://gitlab.other.org/acme/env.git', branch: 'main' });
    assert.equal(result.accepted, false);
  });

  it('never echoes credentials from the watched URL', () => {
    const other = trigger({ repoPath: 'acme/other', repoUrls: ['https://gitlab.example.com/acme/other.git'], repoUrl: undefined, repository: 'acme/other' });
    const result = matchesRepository(other, { url: 'https://oauth2:glpat-s3cr3t@gitlab.example.com/acme/env.git', branch: 'main' });
    assert.equal(result.reason, 'repository acme/other is not watched (watching https://gitlab.example.com/acme/env.git)');
    assert.ok(!result.reason?.includes('glpat'));
  });

  it('names the branch when only the branch differs, compared case-sensitively', () => {
    assert.deepEqual(matchesRepository(trigger({ branch: 'feature', ref: 'refs/heads/feature' }), { path: 'acme/env', branch: 'main' }),
      { accepted: false, reason: 'branch feature is not watched (watching main)' });
    assert.equal(matchesRepository(trigger({ branch: 'Main' }), { path: 'acme/env', branch: 'main' }).accepted, false);
  });

  it('refuses a trigger without a branch, and a watch without a repository', () => {
    assert.match(matchesRepository(trigger({ branch: undefined, ref: 'refs/tags/v1' }), { path: 'acme/env', branch: 'main' }).reason ?? '', /ref refs\/tags\/v1 is not a branch/);
    assert.equal(matchesRepository(trigger(), { branch: 'main' }).accepted, false);
  });
});
