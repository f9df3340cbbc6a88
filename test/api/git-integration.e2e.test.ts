import { gitIntegrationSuite } from './git-integration.suite.ts';

// On the embedded default (PGlite, a local folder, the in-process bus); the same suite runs
// on PostgreSQL in test/git-integration.distributed.integration.test.ts.
gitIntegrationSuite('the GitHub App (embedded): private clones, pull-request previews, statuses and comments', async () => ({
  env: {},
  cleanup: async () => {},
}));
