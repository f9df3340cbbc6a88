import { describeDbContract } from './db.contract.ts';
import { createPgliteDb } from './pglite.ts';

// In memory: a fresh, empty database for the suite.
describeDbContract('PGlite (embedded)', async () => ({ db: await createPgliteDb() }));
