import { describeBackupRestore } from './backup-restore.scenario.ts';

// The embedded default: PGlite's data folder and the local object store, both in DATA_DIR.
describeBackupRestore('PGlite', async () => ({ env: {}, drop: async () => {} }), true);
