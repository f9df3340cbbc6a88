/**
 * A scratch database on the PostgreSQL server `adminUrl` points at (its role may CREATE
 * DATABASE): migrations run on an empty schema and nothing is shared with other tests.
 */
import { randomBytes } from 'node:crypto';
import { createPostgresDb } from '@platform/db';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function scratchDatabase(adminUrl: string, prefix = 'scratch'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const onAdmin = async (statement: string) => {
    const admin = await createPostgresDb({ connectionString: adminUrl, maxConnections: 1, applicationName: 'scratch-database' });
    try {
      await admin.query(statement);
    } finally {
      await admin.close();
    }
  };
  // The name is ours (a fixed prefix and hex): nothing a caller passes reaches the statement.
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  await onAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
