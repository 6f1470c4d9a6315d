import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chown, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SupervisedProcess } from './process-supervisor';
import { portOpen, waitFor } from './wait';

const run = promisify(execFile);

/** The private Redis of a platform: its own port and directory, configured from infra/redis. */
export function redisProcess(rootDir: string, dataDir: string, port: number, onEvent: (m: string) => void): SupervisedProcess {
  const dir = join(dataDir, 'redis');
  return new SupervisedProcess(
    {
      name: 'redis',
      command: 'redis-server',
      args: [join(rootDir, 'infra', 'redis', 'redis.conf'), '--port', String(port), '--dir', dir, '--daemonize', 'no'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      logFile: join(dataDir, 'logs', 'redis.log'),
      restart: true,
    },
    onEvent,
  );
}

export async function prepareRedis(dataDir: string): Promise<void> {
  await mkdir(join(dataDir, 'redis'), { recursive: true });
}

function postgresBin(name: string): string {
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
function asPostgres(command: string, args: string[]): [string, string[]] {
  return [
    'setpriv',
    ['--reuid=postgres', '--regid=postgres', '--init-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', command, ...args],
  ];
}

export async function preparePostgres(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'postgres');
  const pgdata = join(dir, 'data');
  await mkdir(dir, { recursive: true });
  await chown(dir, ...(await postgresIds()));
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const [cmd, args] = asPostgres(postgresBin('initdb'), ['-D', pgdata, '-A', 'trust', '-U', 'paas', '-E', 'UTF8', '--no-sync']);
    await run(cmd, args);
  }
  return pgdata;
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

export async function waitForPostgres(port: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`postgres on port ${port}`, async () => {
    if (!(await portOpen(port))) return false;
    const client = new Client({ host: '127.0.0.1', port, user: 'paas', database: 'postgres' });
    try {
      await client.connect();
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', ['paas']);
      if (exists.rowCount === 0) await client.query('CREATE DATABASE paas');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  }, timeoutMs, 200);
}
