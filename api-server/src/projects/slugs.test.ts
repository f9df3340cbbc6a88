import { describe, expect, it } from 'vitest';
import { deploymentShortId } from '@platform/contracts';
import { Urls } from '../urls.ts';
import { reservedSlugReason } from './slugs.ts';

describe('project slugs cannot claim another project’s hostnames', () => {
  it('refuses slugs shaped like deployment or branch hostnames, and reserved names', () => {
    for (const slug of ['api', 'www', 'victim-git-main', 'victim-git', 'victim-abcdefghi', 'a-123456789']) {
      expect(reservedSlugReason(slug), slug).not.toBeNull();
    }
    for (const slug of ['victim', 'my-blog', 'git', 'github-pages', 'hello-world', 'x-12345678', 'x-1234567890', 'digital-site']) {
      expect(reservedSlugReason(slug), slug).toBeNull();
    }
  });

  it('so no allowed slug’s production hostname equals another project’s deployment or branch hostname', () => {
    const urls = new Urls({ rootDomain: 'localhost', scheme: 'http' });
    const victim = 'victim';
    const theirs = [urls.deploymentHost(victim, deploymentShortId('abcdefghijklmnopqrst')), urls.branchHost(victim, 'main')];
    for (const host of theirs) {
      const attackerSlug = host.replace(/\.localhost$/, '');
      expect(reservedSlugReason(attackerSlug), attackerSlug).not.toBeNull();
    }
  });
});
