import { Client } from 'pg';
import { redactUrl } from '@paas/contracts';

/** Postgres refused the login of DATABASE_URL, or never answered. */
export class DatabaseAccessError extends Error {}

/** SQLSTATEs of a refused login: wrong password (28P01), no pg_hba entry or role (28000), no such database (3D000). */
const REFUSED = new Set(['28P01', '28000', '3D000']);

/**
 * The controller's (and migrate's) boot check: resolves once Postgres at `url` accepts the URL's
 * login. A refused login fails at once with a DatabaseAccessError naming the URL without its
 * password and the fix; a Postgres not reachable yet is retried until `timeoutMs`.
 */
export async function checkDatabaseAccess(url: string, timeoutMs = 60_000): Promise<void> {
  const where = redactUrl(url);
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: Math.max(500, Math.min(5_000, deadline - Date.now())) });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      // pg throws this before connecting when the URL has no password and the server asks for one.
      const noPassword = /client password must be a string|SASL: .*password/i.test(message);
      if ((code && REFUSED.has(code)) || noPassword) {
        const fix =
          code === '3D000'
            ? 'Name an existing database in DATABASE_URL (npm start creates paas; see docs/operations.md)'
            : 'Put the platform Postgres user and password in DATABASE_URL, e.g. postgresql://paas:PASSWORD@HOST:PORT/paas ' +
              '(npm start keeps the password in <data dir>/postgres-password; see docs/operations.md)';
        throw new DatabaseAccessError(
          `the controller cannot use Postgres at ${where}: ${noPassword ? 'the server asks for a password and DATABASE_URL has none' : message}. ${fix}`,
        );
      }
      lastError = message;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new DatabaseAccessError(`the controller cannot reach Postgres at ${where} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}: check DATABASE_URL and that Postgres runs`);
}
