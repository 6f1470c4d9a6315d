/** `node dist/migrate.js`: applies pending migrations to DATABASE_URL and exits. */
import { checkDatabaseAccess } from './platform/database/database-access';
import { applyMigrations } from './platform/database/migrator';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set: point it at the platform database, e.g. postgresql://paas:PASSWORD@127.0.0.1:5432/paas');
  process.exit(2);
}
checkDatabaseAccess(url).then(() => applyMigrations(url)).then(
  (applied) => {
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
