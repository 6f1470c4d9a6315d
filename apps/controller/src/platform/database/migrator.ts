import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';

/** Where the SQL migrations live: one folder per migration, in Prisma's layout. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', 'prisma', 'migrations');

/**
 * Applies the SQL migrations not applied yet, each in its own transaction, in name order, under an
 * advisory lock so that two controllers starting together do not race. Safe to run on every boot.
 * (Prisma's own `migrate deploy` needs its schema-engine binary, which cannot be downloaded here.)
 */
export async function applyMigrations(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(724001)');
    await client.query(`CREATE TABLE IF NOT EXISTS "_paas_migrations" (
      name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM "_paas_migrations"')).rows.map((r) => r.name));
    const names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const applied: string[] = [];
    for (const name of names) {
      if (done.has(name)) continue;
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO "_paas_migrations"(name) VALUES ($1)', [name]);
        await client.query('COMMIT');
        applied.push(name);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${(error as Error).message}`);
      }
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(724001)').catch(() => undefined);
    await client.end();
  }
}
