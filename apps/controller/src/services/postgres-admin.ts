import { Client } from 'pg';
import { databaseName, isOurUsername, ownerRole } from './credentials';

/**
 * What the controller does on a postgres instance's server, as its superuser (the admin login the
 * cell initialised it with). Every identifier is ours (credentials.ts: hex of our UUIDs, checked
 * again here); passwords are [A-Za-z0-9] only, so they may stand in a literal. Each call opens a
 * connection of its own and closes it.
 */

export interface ServerLogin {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** How long a connection to a service's server may take; a bind holds its app's row lock meanwhile. */
export const ADMIN_CONNECT_TIMEOUT_MS = 3_000;

const ident = (name: string) => {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not an identifier the controller makes: ${JSON.stringify(name)}`);
  return `"${name}"`;
};
const literal = (password: string) => {
  if (!/^[A-Za-z0-9]{16,64}$/.test(password)) throw new Error('a password the controller makes is 16-64 characters of [A-Za-z0-9]');
  return `'${password}'`;
};

async function withAdmin<T>(login: ServerLogin, work: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new Client({
    host: login.host,
    port: login.port,
    user: login.user,
    password: login.password,
    database,
    connectionTimeoutMillis: ADMIN_CONNECT_TIMEOUT_MS,
    query_timeout: 10_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Prepares a new instance: its owner role (NOLOGIN) and its database owned by it; nobody but
 * granted roles may connect to it, nor to `postgres` and `template1`. Safe to repeat.
 */
export async function preparePostgres(login: ServerLogin, instanceId: string): Promise<void> {
  const owner = ownerRole(instanceId);
  const database = databaseName(instanceId);
  await withAdmin(login, async (client) => {
    if (!(await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [owner])).rowCount) await client.query(`CREATE ROLE ${ident(owner)} NOLOGIN`);
    if (!(await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount) {
      await client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(owner)}`);
    }
    for (const db of [database, 'postgres', 'template1']) await client.query(`REVOKE CONNECT ON DATABASE ${ident(db)} FROM PUBLIC`);
  });
}

/**
 * A binding's login: a LOGIN role, member of the owner role, whose sessions act as the owner
 * (what one binding creates, every other binding of the instance may use), allowed to connect to
 * the instance's database only.
 */
export async function createPostgresLogin(login: ServerLogin, instanceId: string, username: string, password: string): Promise<void> {
  if (!isOurUsername(username)) throw new Error(`not a binding login: ${username}`);
  const owner = ident(ownerRole(instanceId));
  const role = ident(username);
  await withAdmin(login, async (client) => {
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${literal(password)} IN ROLE ${owner}`);
    // A session of the login starts as the owner role: tables it creates belong to the owner.
    await client.query(`ALTER ROLE ${role} SET role = ${owner}`);
    await client.query(`GRANT CONNECT ON DATABASE ${ident(databaseName(instanceId))} TO ${role}`);
  });
}

/**
 * Drops a binding's login at once: no new session (NOLOGIN), its sessions terminated, whatever it
 * owns handed to the owner role (a session that left the owner role with RESET ROLE may have
 * created objects of its own: the data stays), its grants revoked, the role dropped. A role
 * already gone is fine (safe to repeat).
 */
export async function dropPostgresLogin(login: ServerLogin, instanceId: string, username: string): Promise<void> {
  if (!isOurUsername(username)) throw new Error(`not a binding login: ${username}`);
  const role = ident(username);
  const exists = await withAdmin(login, async (client) => {
    if (!(await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount) return false;
    await client.query(`ALTER ROLE ${role} NOLOGIN`);
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [username]);
    return true;
  });
  if (!exists) return;
  await withAdmin(login, async (client) => {
    await client.query(`REASSIGN OWNED BY ${role} TO ${ident(ownerRole(instanceId))}`);
    // In the instance's database, DROP OWNED also revokes the role's grants there and on the databases.
    await client.query(`DROP OWNED BY ${role}`);
  }, databaseName(instanceId));
  await withAdmin(login, async (client) => {
    await client.query(`DROP OWNED BY ${role}`);
    await client.query(`DROP ROLE ${role}`);
  });
}

/** Ends every session to the instance's database but the caller's (before a restore replaces its content). */
export async function terminateDatabaseSessions(login: ServerLogin, instanceId: string): Promise<void> {
  await withAdmin(login, async (client) => {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName(instanceId)]);
  });
}
