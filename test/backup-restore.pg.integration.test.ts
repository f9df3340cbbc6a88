import { randomBytes } from 'node:crypto';
import { createPostgresDb } from '@platform/db';
import { integrationEnv } from '@platform/testing/infra-env';
import { describeBackupRestore } from './backup-restore.scenario.ts';

// PostgreSQL (pg_dump, then psql into another, empty database); the object store stays local.
// With PostgreSQL the keys come from the settings (the same on every replica), not DATA_DIR:
// the restored platform is given the same ones, as its operator would.
const keys = { JWT_SECRET: randomBytes(32).toString('hex'), ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
describeBackupRestore(
  'PostgreSQL',
  async () => {
    const { DATABASE_URL } = integrationEnv('DATABASE_URL');
    const name = `backup_${randomBytes(4).toString('hex')}`;
    const admin = await createPostgresDb({ connectionString: DATABASE_URL, maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.close();
    const url = new URL(DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString(), ...keys },
      drop: async () => {
        const db = await createPostgresDb({ connectionString: DATABASE_URL, maxConnections: 1 });
        await db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await db.close();
      },
    };
  },
  false,
);
