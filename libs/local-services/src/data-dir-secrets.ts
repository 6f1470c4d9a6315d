import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A login of a private data service: its user name and password (printable ASCII, no spaces). */
export interface ServiceLogin {
  user: string;
  password: string;
}

/**
 * The secret files a platform keeps at the top of its data directory. Each is 0600 and root's:
 * whoever reads one can act as the platform (the admin API, the cells' internal API, Redis, Postgres).
 */
export const DATA_DIR_SECRET_FILES = ['admin-token', 'internal-token', 'redis-password', 'postgres-password'] as const;

export type DataDirSecretFile = (typeof DATA_DIR_SECRET_FILES)[number];

/** The user name of the platform's private Redis and Postgres. */
export const SERVICE_USER = 'paas';

const PASSWORD_RULE = /^[\x21-\x7e]{16,256}$/;

export class InvalidSecretFile extends Error {}

/**
 * Makes the data directory private (0711: root's, not listable by anyone else; others may only
 * traverse it, as the cells' containers must, whose processes are unprivileged host uids of a user
 * namespace on their way to their rootfs under cells/) and tightens every secret file already in
 * it to 0600, e.g. in a data directory from before secrets were kept that way. Safe to call on
 * every start.
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  await chmod(dataDir, 0o711);
  for (const name of DATA_DIR_SECRET_FILES) {
    await chmod(join(dataDir, name), 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/**
 * The secret kept in `<dataDir>/<name>`: the file's content when it holds one, else a fresh random
 * one (32 bytes, hex) written there with mode 0600, created exclusively so that two starts never
 * keep different ones. An operator may write a password of their own (rotation): it must be 16-256
 * printable ASCII characters without spaces, else this throws naming the file and the rule.
 */
export async function dataDirSecret(dataDir: string, name: DataDirSecretFile): Promise<string> {
  const file = join(dataDir, name);
  const existing = (await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error))))?.trim();
  if (existing) {
    if (!PASSWORD_RULE.test(existing)) {
      throw new InvalidSecretFile(`${file} must hold 16 to 256 printable ASCII characters without spaces: write a new one (e.g. openssl rand -hex 32 > ${file}) or delete it to have one generated`);
    }
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return existing;
  }
  const secret = randomBytes(32).toString('hex');
  // An empty file left by an interrupted write is replaced; otherwise the first writer wins.
  await writeFile(file, secret + '\n', { mode: 0o600, flag: existing === '' ? 'w' : 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  return (await readFile(file, 'utf8')).trim();
}

/** The login of the private Redis of a data directory (`<dataDir>/redis-password`, generated on first use). */
export async function redisLogin(dataDir: string): Promise<ServiceLogin> {
  return { user: SERVICE_USER, password: await dataDirSecret(dataDir, 'redis-password') };
}

/** The login of the private Postgres of a data directory (`<dataDir>/postgres-password`, generated on first use). */
export async function postgresLogin(dataDir: string): Promise<ServiceLogin> {
  return { user: SERVICE_USER, password: await dataDirSecret(dataDir, 'postgres-password') };
}

/** `redis://user:password@host:port`, the REDIS_URL of every component. */
export function redisUrlOf(host: string, port: number, login: ServiceLogin): string {
  return `redis://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@${host}:${port}`;
}

/** `postgresql://user:password@host:port/database`, the controller's DATABASE_URL. */
export function postgresUrlOf(host: string, port: number, login: ServiceLogin, database = 'paas'): string {
  return `postgresql://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@${host}:${port}/${database}`;
}
