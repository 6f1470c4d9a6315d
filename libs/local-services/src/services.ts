import { execFile, spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { postgresLogin, redisLogin, secureDataDir, type ServiceLogin } from './data-dir-secrets';
import { SupervisedProcess } from './process-supervisor';
import { portOpen } from './wait';
import { pollUntil, StopPolling } from './poll-until';

const run = promisify(execFile);

/** Where prepareRedis keeps the ACL file of a data directory's Redis. */
function redisAclFile(dataDir: string): string {
  return join(dataDir, 'redis', 'users.acl');
}

/**
 * Writes a Redis ACL file (mode 0600) into `dir`: the `default` user is off, so a client that does
 * not AUTH gets NOAUTH for every command, and `login.user` may do everything with its password.
 * The file holds the password's SHA-256, not the password. Returns the file's path (for --aclfile).
 */
export async function writeRedisAcl(dir: string, login: ServiceLogin): Promise<string> {
  const file = join(dir, 'users.acl');
  const hash = createHash('sha256').update(login.password).digest('hex');
  await writeFile(file, `user default off\nuser ${login.user} on #${hash} ~* &* +@all\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/** The private Redis of a platform: its own port and directory, configured from infra/redis, its users from prepareRedis's ACL file. */
export function redisProcess(rootDir: string, dataDir: string, port: number, onEvent: (m: string) => void): SupervisedProcess {
  const dir = join(dataDir, 'redis');
  return new SupervisedProcess(
    {
      name: 'redis',
      command: 'redis-server',
      args: [join(rootDir, 'infra', 'redis', 'redis.conf'), '--port', String(port), '--dir', dir, '--aclfile', redisAclFile(dataDir), '--daemonize', 'no'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      logFile: join(dataDir, 'logs', 'redis.log'),
      restart: true,
    },
    onEvent,
  );
}

/**
 * Prepares the private Redis of a data directory: its directory (0700) and its ACL file from
 * `<dataDir>/redis-password` (generated on first use), rewritten on every start so that a new
 * password in that file takes effect at the next start. Returns the login every component uses.
 */
export async function prepareRedis(dataDir: string): Promise<ServiceLogin> {
  const dir = join(dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const login = await redisLogin(dataDir);
  await writeRedisAcl(dir, login);
  return login;
}

/** The newest installed Postgres binary of that name (initdb, postgres). */
export function postgresBin(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(bin)) return bin;
  }
  throw new Error(`${name} not found under /usr/lib/postgresql: install the postgresql package`);
}

/**
 * Postgres refuses to run as root, so it runs as the `postgres` user, keeping only the
 * capability to traverse directories: the data directory may sit under a private (0700) checkout.
 */
export function asPostgres(command: string, args: string[]): [string, string[]] {
  return [
    'setpriv',
    ['--reuid=postgres', '--regid=postgres', '--init-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', command, ...args],
  ];
}

/**
 * Every connection, over TCP or the unix socket, proves the password with SCRAM-SHA-256: no trust,
 * no peer, no md5. Written over initdb's file (and over a trust file of an older data directory).
 */
export const PG_HBA = `# Written by the platform runner on every start (libs/local-services): every connection,
# over TCP or the unix socket, proves its password with SCRAM-SHA-256.
local   all   all         scram-sha-256
host    all   all   all   scram-sha-256
`;

/** A SCRAM-SHA-256 verifier of a password as Postgres stores it (RFC 5802/7677): Postgres never sees the password itself. */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Runs a command with `input` on its stdin; rejects with its last stderr lines when it fails. */
function runWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      // Postgres echoes a failed statement (STATEMENT: ...): keep only its ERROR/FATAL lines.
      const reason = stderr.split('\n').filter((l) => /(ERROR|FATAL|PANIC):/.test(l)).join('; ');
      reject(new Error(`${command} failed (${signal ?? code})${reason ? `: ${reason}` : ''}`));
    });
    child.stdin.end(input);
  });
}

/**
 * Sets the password of the cluster's `paas` role from the login while the server is stopped, in
 * single-user mode (no connection, so no authentication needed): how a data directory from before
 * passwords (trust authentication) gets one, and how a new password in the file takes effect.
 */
async function setRolePassword(pgdata: string, login: ServiceLogin): Promise<void> {
  const statement = `ALTER ROLE "${login.user}" WITH LOGIN PASSWORD '${scramVerifier(login.password)}';\n`;
  const [cmd, args] = asPostgres(postgresBin('postgres'), ['--single', '-D', pgdata, '-c', 'exit_on_error=true', '-c', 'log_min_messages=error', 'postgres']);
  await runWithInput(cmd, args, statement);
}

/**
 * Prepares the private Postgres of a data directory: a new cluster with SCRAM authentication and
 * the password of `<dataDir>/postgres-password` (generated on first use); an existing cluster
 * (also one of an older data directory, which trusted every local connection) gets that password
 * set and its pg_hba.conf replaced by PG_HBA. Safe to call on every start, with the server stopped.
 * Returns the login the controller uses.
 */
export async function preparePostgres(dataDir: string): Promise<ServiceLogin> {
  const dir = join(dataDir, 'postgres');
  const pgdata = join(dir, 'data');
  const login = await postgresLogin(dataDir);
  const ids = await postgresIds();
  await mkdir(dir, { recursive: true });
  await chown(dir, ...ids);
  await chmod(dir, 0o700);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    // initdb takes the password from a file: the exact login password, postgres's own for the moment.
    const pwfile = join(dir, 'initdb-password');
    await writeFile(pwfile, login.password, { mode: 0o600 });
    await chown(pwfile, ...ids);
    try {
      const [cmd, args] = asPostgres(postgresBin('initdb'), [
        '-D', pgdata, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-U', login.user, '-E', 'UTF8', '--no-sync',
      ]);
      await run(cmd, args);
    } finally {
      await rm(pwfile, { force: true });
    }
  } else {
    await setRolePassword(pgdata, login);
  }
  const hba = join(pgdata, 'pg_hba.conf');
  await writeFile(hba, PG_HBA, { mode: 0o600 });
  await chmod(hba, 0o600);
  await chown(hba, ...ids);
  return login;
}

async function postgresIds(): Promise<[number, number]> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install the postgresql package');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

/** `key = value` lines of infra/postgres/postgresql.conf, as `-c key=value` options. */
export function postgresSettings(confText: string): string[] {
  const args: string[] = [];
  for (const raw of confText.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^([a-z_]+)\s*=\s*'?([^']*)'?$/.exec(line);
    if (match) args.push('-c', `${match[1]}=${match[2]}`);
  }
  return args;
}

export function postgresProcess(rootDir: string, dataDir: string, port: number, onEvent: (m: string) => void): SupervisedProcess {
  const dir = join(dataDir, 'postgres');
  const settings = postgresSettings(readFileSync(join(rootDir, 'infra', 'postgres', 'postgresql.conf'), 'utf8'));
  const [cmd, args] = asPostgres(postgresBin('postgres'), ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, ...settings]);
  return new SupervisedProcess(
    { name: 'postgres', command: cmd, args, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, logFile: join(dataDir, 'logs', 'postgres.log'), restart: true, stopTimeoutMs: 30_000 },
    onEvent,
  );
}

/** Postgres's SQLSTATEs for a refused login: wrong password (28P01), no pg_hba entry or no such role (28000). */
const LOGIN_REFUSED = new Set(['28P01', '28000']);

/**
 * Waits until the private Postgres on `port` accepts `login` and creates the `paas` database if it
 * is missing. A refused login fails at once (naming it); a server still starting is waited for.
 */
export async function waitForPostgres(port: number, login: ServiceLogin, timeoutMs = 60_000): Promise<void> {
  await pollUntil(`postgres on port ${port}`, async () => {
    if (!(await portOpen(port))) return false;
    const client = new Client({ host: '127.0.0.1', port, user: login.user, password: login.password, database: 'postgres' });
    try {
      await client.connect();
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', ['paas']);
      if (exists.rowCount === 0) await client.query('CREATE DATABASE paas');
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && LOGIN_REFUSED.has(code)) throw new StopPolling(new Error(`postgres on port ${port} refused the login of ${login.user}: ${(error as Error).message}`));
      throw error; // still starting: tried again, and named if the deadline passes
    } finally {
      await client.end().catch(() => undefined);
    }
  }, { timeoutMs, intervalMs: 200 });
}

export interface DataServicesOptions {
  /** The checkout: where infra/redis and infra/postgres are. */
  rootDir: string;
  dataDir: string;
  redisPort: number;
  postgresPort: number;
  /** Addresses Redis listens on besides 127.0.0.1 (other hosts' cells reach it there). */
  redisAddresses?: string[];
  onEvent?: (message: string) => void;
}

/** The running private Redis and Postgres of a data directory, and the logins they require. */
export interface DataServices {
  redis: SupervisedProcess;
  postgres: SupervisedProcess;
  redisLogin: ServiceLogin;
  postgresLogin: ServiceLogin;
  /** Stops both; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the private Redis and Postgres of a data directory as `npm start` does: passwords from
 * (or generated into) the data directory, Redis behind its ACL, Postgres behind SCRAM on TCP and
 * on its unix socket, an older data directory upgraded in place. Resolves once both accept their
 * login (and the `paas` database exists); on a failure it stops what it started.
 */
export async function startDataServices(options: DataServicesOptions): Promise<DataServices> {
  const say = options.onEvent ?? (() => undefined);
  const { rootDir, dataDir } = options;
  await secureDataDir(dataDir);
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  const redisLogin = await prepareRedis(dataDir);
  const postgresLogin = await preparePostgres(dataDir);
  let redis = redisProcess(rootDir, dataDir, options.redisPort, say);
  const extra = (options.redisAddresses ?? []).filter((a) => a !== '127.0.0.1');
  if (extra.length) redis = new SupervisedProcess({ ...redis.spec, args: [...redis.spec.args, '--bind', '127.0.0.1', ...extra] }, say);
  const postgres = postgresProcess(rootDir, dataDir, options.postgresPort, say);
  const stop = async () => {
    await Promise.all([redis.stop(), postgres.stop()]);
  };
  redis.start();
  postgres.start();
  try {
    await pollUntil(`redis on port ${options.redisPort}`, () => portOpen(options.redisPort), { timeoutMs: 30_000 });
    await waitForPostgres(options.postgresPort, postgresLogin);
  } catch (error) {
    await stop();
    throw error;
  }
  return { redis, postgres, redisLogin, postgresLogin, stop };
}
