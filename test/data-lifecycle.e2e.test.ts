import { describeDataLifecycle } from './data-lifecycle.scenario.ts';

// On the embedded default: PGlite, chDB, the in-process bus and the local object store.
describeDataLifecycle('local object store', () => ({}));
